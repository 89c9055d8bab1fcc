"""Capture time: a first reader (EXIF original time, video creation time, file date). The full
engine replaces this module; the interface (Clues, Evidence, CaptureTime, read_capture_time) holds."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image


@dataclass(frozen=True)
class Clues:
    name: str
    folders: tuple[str, ...] = ()
    path: Path | None = None
    exif: Image.Exif | None = None
    xmp: bytes | None = None
    video_tags: Mapping[str, str] = field(default_factory=dict)
    file_modified: datetime | None = None
    client_modified: datetime | None = None


@dataclass(frozen=True)
class Evidence:
    source: str
    raw: str
    value: datetime | None
    accepted: bool
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "raw": self.raw,
            "value": self.value.isoformat() if self.value else None,
            "accepted": self.accepted,
            "note": self.note,
        }


@dataclass(frozen=True)
class CaptureTime:
    value: datetime | None
    confidence: str
    source: str
    evidence: tuple[Evidence, ...]
    conflict: bool = False
    precision: str = "second"


def read_capture_time(clues: Clues, *, zone: ZoneInfo, now: datetime | None = None) -> CaptureTime:
    evidence = []
    exif_ifd = clues.exif.get_ifd(0x8769) if clues.exif else {}
    if raw := exif_ifd.get(0x9003):
        try:
            naive = datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S")
            evidence.append(Evidence("exif:DateTimeOriginal", str(raw), naive.replace(tzinfo=zone), True))
        except ValueError:
            evidence.append(Evidence("exif:DateTimeOriginal", str(raw), None, False, "unparseable"))
    if raw := clues.video_tags.get("creation_time"):
        try:
            instant = datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(zone)
            evidence.append(Evidence("mp4:creation_time", raw, instant, True))
        except ValueError:
            evidence.append(Evidence("mp4:creation_time", raw, None, False, "unparseable"))
    if clues.file_modified:
        evidence.append(Evidence("filesystem", clues.file_modified.isoformat(), clues.file_modified.astimezone(zone), True))
    for item in evidence:
        if item.accepted:
            confidence = "low" if item.source == "filesystem" else "high"
            return CaptureTime(item.value, confidence, item.source, tuple(evidence))
    return CaptureTime(None, "none", "", tuple(evidence))
