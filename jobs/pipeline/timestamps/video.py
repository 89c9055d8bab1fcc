"""Dates in a video's tags: PyAV's metadata plus what containers.container_tags() adds."""

from collections.abc import Mapping
from pathlib import PurePath

from .evidence import Reading
from .parsing import read_text

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
    if raw := tags.get("creation_time"):
        # MP4's mvhd and Matroska's DateUTC are UTC ("...Z"); AVI's IDIT is the camera's wall
        # clock and comes without an offset.
        readings.append(read_text(f"{container}:creation_time", raw, instant=True))
    if raw := tags.get("date"):
        # QuickTime's ©day, AVI's ICRD, Matroska's DATE: whatever the writing program put there.
        readings.append(read_text("video:date", raw))
    return readings
