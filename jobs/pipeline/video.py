"""Videos through PyAV: size, duration, the container's tags and a poster frame, never a full decode."""

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
from PIL import Image

from jobs.pipeline.errors import MediaError, in_words

# A damaged file can make a demuxer spin; probing gives up after this long, or after this many
# packets without a picture.
PROBE_SECONDS = 20
PROBE_PACKETS = 600


@dataclass
class Video:
    width: int | None
    height: int | None
    duration: float | None
    tags: dict[str, str] = field(default_factory=dict)  # container and video stream metadata, lower-case keys
    poster: Image.Image | None = None  # the first keyframe, oriented


def probe_video(path: Path, *, time_limit: float = PROBE_SECONDS) -> Video:
    """Read one video. Raises MediaError with a message a person understands."""
    try:
        with _time_limit(time_limit), av.open(str(path), metadata_errors="replace") as container:
            return _read(container)
    except TimeoutError as e:
        raise MediaError(
            f"Video could not be read within {time_limit:g} seconds: its container is damaged in a way "
            "that keeps the reader going in circles. Import another copy if you have one"
        ) from e
    except (av.FFmpegError, EOFError, OSError, ValueError, IndexError) as e:
        # FFmpeg's message names the file's full path; the person knows which file it is.
        raise MediaError(in_words("Video", getattr(e, "strerror", None) or e)) from e


def _read(container) -> Video:
    tags = {k.lower(): v for k, v in container.metadata.items()}
    stream = next((s for s in container.streams if s.type == "video"), None)
    duration = container.duration / av.time_base if container.duration else None
    if stream is None:
        raise MediaError("Video holds no picture: no video track is listed (a sound-only file, or one cut off before its index)")
    tags |= {k.lower(): v for k, v in stream.metadata.items() if k.lower() not in tags}
    if duration is None and stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    poster = _first_keyframe(container, stream)
    width = stream.codec_context.width or (poster.width if poster else None)
    height = stream.codec_context.height or (poster.height if poster else None)
    if poster is not None and (poster.width, poster.height) != (width, height):
        width, height = poster.width, poster.height  # rotated by the display matrix
    return Video(width=width or None, height=height or None, duration=duration, tags=tags, poster=poster)


def _first_keyframe(container, stream) -> Image.Image | None:
    stream.codec_context.skip_frame = "NONKEY"
    for n, packet in enumerate(container.demux(stream)):
        if n >= PROBE_PACKETS:
            break
        for frame in packet.decode():
            image = frame.to_image()
            rotation = getattr(frame, "rotation", 0) or 0
            return image.rotate(rotation, expand=True) if rotation else image
    return None


@contextmanager
def _time_limit(seconds: float):
    """Interrupt the probe after `seconds` (main thread only: signals reach no other thread).

    The process has one alarm clock, which the queue's worker also sets for the whole task: an
    earlier alarm is left to ring, a later one is set again afterwards with the time it had left."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer and outer <= seconds:
        yield
        return

    def expire(signum, frame):
        raise TimeoutError

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            # Never 0, which would switch the outer alarm off instead of ringing it now.
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))
