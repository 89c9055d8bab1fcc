"""Everything the pipeline already knows about one file, gathered once and handed to the engine."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image, IptcImagePlugin


@dataclass(frozen=True)
class Clues:
    name: str  # the file's original name, e.g. "PXL_20230102_030405123.jpg"
    folders: tuple[str, ...] = ()  # folder names from the import root down to the file
    path: Path | None = None  # the file on disk, for sidecar look-up (None for uploads)
    exif: Image.Exif | None = None  # from the single Pillow open
    xmp: bytes | str | None = None  # im.info.get("xmp"): the XMP packet embedded in the file
    iptc: Mapping | None = None  # image_iptc(im): IPTC-IIM records, {(record, tag): bytes}
    # PyAV's container then video-stream metadata over container_tags(path), lower-case keys
    video_tags: Mapping[str, str] = field(default_factory=dict)
    file_modified: datetime | None = None  # file system mtime, aware
    client_modified: datetime | None = None  # browser lastModified for uploads, aware
    # When the import began: a file date shortly before it is the copy's (None: when read)
    imported_at: datetime | None = None


def image_iptc(im: Image.Image) -> Mapping | None:
    """The IPTC records of an open JPEG or TIFF, where editors such as Photo Mechanic keep the
    capture time with its offset. Never raises: a damaged block is treated as absent."""
    try:
        return IptcImagePlugin.getiptcinfo(im)
    except Exception:  # noqa: BLE001 - Pillow's IPTC parser raises assorted errors on damaged blocks
        return None
