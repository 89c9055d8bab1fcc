"""Capture times of videos: files written here by PyAV (FFmpeg's muxers), read back the way the
pipeline reads them, and the small container parsers on damaged input."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import av
import numpy as np
import pytest

from jobs.pipeline.timestamps import Clues, container_tags, read_capture_time

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def write_video(path, *, metadata, options=None):
    """Three frames of MPEG-4 video with the given container metadata."""
    with av.open(str(path), "w", options=options or {}) as container:
        container.metadata.update(metadata)
        stream = container.add_stream("mpeg4", rate=5)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def video_clues(path) -> Clues:
    """As the pipeline gathers them: container_tags(), then the container's and the video
    stream's tags from PyAV."""
    tags = container_tags(path)
    with av.open(str(path)) as container:
        found = {key.lower(): value for key, value in container.metadata.items()}
        stream = {key.lower(): value for key, value in container.streams.video[0].metadata.items()}
    return Clues(name=path.name, path=path, video_tags=tags | stream | found)


def read(clues, zone=PARIS):
    return read_capture_time(clues, zone=zone, now=NOW)


def test_an_mp4s_creation_time_is_utc_and_shown_in_the_zone(tmp_path):
    path = write_video(tmp_path / "clip.mp4", metadata={"creation_time": "2021-06-01T12:00:00Z"})

    capture = read(video_clues(path))

    assert (capture.source, capture.confidence) == ("mp4:creation_time", "high")
    assert capture.value == datetime(2021, 6, 1, 14, tzinfo=timezone(timedelta(hours=2)))  # not 12:00 local
    assert capture.value.utcoffset() == timedelta(hours=2)


def test_apples_creation_date_keeps_its_offset_and_beats_the_movie_header(tmp_path):
    metadata = {"com.apple.quicktime.creationdate": "2021-06-01T08:00:00-0400", "creation_time": "2021-06-01T12:00:00Z"}
    path = write_video(tmp_path / "IMG_0001.MOV", metadata=metadata, options={"movflags": "use_metadata_tags"})

    capture = read(video_clues(path))

    assert (capture.source, capture.confidence, capture.conflict) == ("quicktime:creationdate", "high", False)
    assert capture.value == datetime(2021, 6, 1, 8, tzinfo=timezone(timedelta(hours=-4)))
    assert capture.value.utcoffset() == timedelta(hours=-4)


def test_matroskas_date_is_read_without_ffmpeg_too(tmp_path):
    path = write_video(tmp_path / "clip.mkv", metadata={"creation_time": "2021-06-01T12:00:00.250000Z"})
    with av.open(str(path)) as container:
        ffmpeg_reads = container.metadata["creation_time"]

    assert container_tags(path) == {"creation_time": ffmpeg_reads}
    capture = read(Clues(name=path.name, video_tags=container_tags(path)))
    assert (capture.source, capture.confidence) == ("mkv:creation_time", "high")
    assert capture.value == datetime(2021, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)


def test_an_avi_creation_time_is_the_cameras_wall_clock():
    """FFmpeg reports AVI's IDIT chunk as creation_time, without an offset."""
    capture = read(Clues(name="MVI_0314.AVI", video_tags={"creation_time": "2022-01-20 08:16:08"}))

    assert (capture.source, capture.confidence) == ("avi:creation_time", "high")
    assert capture.value == datetime(2022, 1, 20, 8, 16, 8, tzinfo=timezone(timedelta(hours=1)))
    assert capture.evidence[0].note == "offset unknown: read in Europe/Paris"


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
@pytest.mark.parametrize("damage", ["truncate", "scramble", "huge box"])
def test_damaged_containers_give_no_tags_and_no_error(tmp_path, suffix, damage):
    path = write_video(tmp_path / f"clip{suffix}", metadata={"creation_time": "2021-06-01T12:00:00Z"})
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "scramble":
        data[8:] = bytes((byte * 167 + 13) % 256 for byte in data[8:])
    else:
        data[8:16] = b"\x00\x00\x00\x01moov" if suffix == ".mp4" else b"\x18\x53\x80\x67\x01\xff\xff\xff"
    path.write_bytes(bytes(data))

    tags = container_tags(path)

    # What survives is read right (3705393600 s after 1904 is 2021-06-01T12:00Z), or nothing.
    assert tags in ({}, {"creation_time": "2021-06-01T12:00:00.000000Z"}, {"mp4:header_seconds": "3705393600"})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x08ftyp",
        b"\x00\x00\x00\x01ftyp" + b"\xff" * 8,
        b"\x1a\x45\xdf\xa3" + b"\x00" * 64,
        (b"\x47" + bytes(187)) * 4,
        (bytes(4) + b"\x47" + bytes(187)) * 4,
        b"\x47\x40\x00\x10" + bytes.fromhex("17ee8c60f84d11d98cd60800200c9a66") + b"MDPM" + b"\xff" * 164,
    ],
)
def test_hostile_container_bytes_give_no_tags(tmp_path, data):
    path = tmp_path / "clip.mts"
    path.write_bytes(data * 3)

    assert container_tags(path) == {}


def test_a_missing_file_gives_no_tags(tmp_path):
    assert container_tags(tmp_path / "gone.mp4") == {}
