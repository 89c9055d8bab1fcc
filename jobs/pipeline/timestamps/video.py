"""Dates in a video's tags: PyAV's metadata plus what containers.container_tags() adds."""

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import PurePath

from .evidence import Reading
from .parsing import read_text

# The movie header counts seconds from 1904 (ISO/IEC 14496-12). FFmpeg and exiftool read values
# below 1970's count as seconds from 1970 instead, for writers that used the Unix epoch; that
# reading is kept beside the standard's, and the decision weighs the two.
QUICKTIME_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SINCE_1904_AT_1970 = 2082844800
UNIX_READING = "mp4:creation_time:unix"

# The source name of creation_time by the file's extension (the pipeline has already checked
# that content and extension agree): its meaning differs by container.
CONTAINERS = {".avi": "avi", ".mkv": "mkv", ".webm": "mkv"} | dict.fromkeys(
    (".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2"), "mp4"
)


def video_readings(tags: Mapping[str, str], *, name: str) -> list[Reading]:
    container = CONTAINERS.get(PurePath(name).suffix.lower(), "video")
    readings = []
    if raw := tags.get("com.apple.quicktime.creationdate"):
        readings.append(read_text("quicktime:creationdate", raw))
    if raw := tags.get("mp4:date"):
        readings.append(read_text("mp4:date", raw))
    if raw := tags.get("h264:datetimeoriginal"):
        readings.append(read_text("h264:DateTimeOriginal", raw))
    if raw := tags.get("mp4:header_seconds"):
        readings += _movie_header(int(raw))
    elif raw := tags.get("creation_time"):
        # MP4's mvhd and Matroska's DateUTC are UTC ("...Z"); AVI's IDIT is the camera's wall
        # clock and comes without an offset.
        readings.append(read_text(f"{container}:creation_time", raw, instant=True))
    if raw := tags.get("date"):
        # QuickTime's ©day, AVI's ICRD, Matroska's DATE: whatever the writing program put there.
        readings.append(read_text("video:date", raw))
    return readings


def _movie_header(seconds: int) -> list[Reading]:
    try:
        value = QUICKTIME_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return [Reading("mp4:creation_time", str(seconds), problem="not a date")]
    raw = f"{seconds} s since 1904 ({value:%Y-%m-%dT%H:%M:%SZ})"
    readings = [Reading("mp4:creation_time", raw, value, instant=True)]
    if seconds < SINCE_1904_AT_1970:
        unix = UNIX_EPOCH + timedelta(seconds=seconds)
        note = "the same field counted from 1970, as FFmpeg and exiftool read values this small"
        readings.append(Reading(UNIX_READING, f"{seconds} s since 1970 ({unix:%Y-%m-%dT%H:%M:%SZ})", unix, instant=True, note=note))
    return readings
