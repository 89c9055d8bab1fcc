"""Writing a capture time back into an exported copy: which fields, and checking the result.

Pure: nothing here knows Django. The export service (jobs/services/export.py) asks which fields
a copy lacks, has exiftool write them, then asks whether the written copy still holds the same
picture and sound and reads back as the chosen time with our own capture-time reader."""

import hashlib
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jobs.pipeline.timestamps import Clues, container_tags, container_xmp, image_iptc, read_capture_time

# Formats exiftool rewrites safely in place (in our copy); everything else (AVI, MKV, GIF, MPG,
# RAW, ...) keeps its bytes and gets an XMP sidecar.
PHOTO_IN_PLACE = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".hif", ".tif", ".tiff"}
VIDEO_IN_PLACE = {".mp4", ".mov", ".m4v", ".3gp"}
JPEG = {".jpg", ".jpeg"}

PHOTO, VIDEO, SIDECAR = "photo", "video", "sidecar"
EXIF_IFD = 0x8769
EXIF_DATES = {0x9003: "DateTimeOriginal", 0x9004: "CreateDate", 0x9011: "OffsetTimeOriginal", 0x9291: "SubSecTimeOriginal"}
DATE_ONLY = {"day": "%Y:%m:%d", "month": "%Y:%m", "year": "%Y"}


@dataclass(frozen=True)
class Chosen:
    """The capture time an export writes: in its own offset (the clock the camera showed)."""

    time: datetime
    precision: str = "second"  # second, day, month, year
    offset_known: bool = True  # False when the offset was only assumed (MEDIAIMPORT_TIME_ZONE)

    @property
    def wall_clock(self) -> str:
        return self.time.strftime("%Y:%m:%d %H:%M:%S")

    @property
    def with_offset(self) -> str:
        return self.wall_clock + _offset(self.time)


def how_to_write(extension: str) -> str:
    extension = extension.lower()
    if extension in PHOTO_IN_PLACE:
        return PHOTO
    if extension in VIDEO_IN_PLACE:
        return VIDEO
    return SIDECAR


def wanted_fields(chosen: Chosen, how: str) -> dict[str, str]:
    """The fields, as exiftool names them, that say `chosen` in a file written `how`."""
    if chosen.precision != "second":
        # A date, never an invented 00:00:00 in EXIF.
        return {"XMP-photoshop:DateCreated": chosen.time.strftime(DATE_ONLY[chosen.precision])}
    if how == VIDEO:
        # Given with its offset; exiftool (with -api QuickTimeUTC) stores the QuickTime dates as
        # the UTC instants they are by specification, and Keys:CreationDate as Apple writes it.
        instant = chosen.with_offset
        return {
            "QuickTime:CreateDate": instant,
            "QuickTime:ModifyDate": instant,
            "QuickTime:TrackCreateDate": instant,
            "QuickTime:MediaCreateDate": instant,
            "Keys:CreationDate": instant,
        }
    if how == SIDECAR:
        return {"XMP-exif:DateTimeOriginal": chosen.with_offset if chosen.offset_known else chosen.wall_clock}
    fields = {"EXIF:DateTimeOriginal": chosen.wall_clock, "EXIF:CreateDate": chosen.wall_clock}
    if chosen.offset_known:
        fields["EXIF:OffsetTimeOriginal"] = _offset(chosen.time)
    if chosen.time.microsecond:
        fields["EXIF:SubSecTimeOriginal"] = f"{chosen.time.microsecond:06d}".rstrip("0")
    return fields


# Written along with the others, never alone: a video's ModifyDate rarely equals its creation
# time, and alone it would have every video rewritten.
ALONG = {"QuickTime:ModifyDate"}


def missing_fields(wanted: dict[str, str], current: dict[str, object]) -> dict[str, str]:
    """The wanted fields the file does not already hold; `current` is exiftool's -G1 reading
    (e.g. {"ExifIFD:DateTimeOriginal": ..., "Track1:TrackCreateDate": ...})."""
    found: dict[str, list[str]] = {}
    for key, value in current.items():
        found.setdefault(key.rsplit(":", 1)[-1], []).append(str(value))
    missing = {}
    for tag, value in wanted.items():
        values = found.get(tag.rsplit(":", 1)[-1], [])
        if not values or not all(_holds(tag, have, value) for have in values):
            missing[tag] = value
    if not set(missing) - ALONG:
        return {}
    return missing


def _holds(tag: str, have: str, want: str) -> bool:
    if tag.startswith(("QuickTime:", "Keys:")):
        a, b = _parse(have), _parse(want)
        same_instant = a is not None and b is not None and a == b
        # Apple's own form keeps the offset too: the clock the camera showed.
        return same_instant and (not tag.startswith("Keys:") or a.utcoffset() == b.utcoffset())
    if tag == "XMP-photoshop:DateCreated":
        return have.startswith(want)
    if tag.endswith("SubSecTimeOriginal"):  # a decimal fraction: "50" and "5" are the same
        return have.strip().rstrip("0") == want.rstrip("0")
    return have.strip() == want


def _parse(value: str) -> datetime | None:
    for pattern in ("%Y:%m:%d %H:%M:%S%z", "%Y:%m:%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(value.strip().replace("Z", "+00:00"), pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _offset(time: datetime) -> str:
    minutes = int(time.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def photo_fields(path: Path) -> dict[str, str]:
    """A photo's date fields as missing_fields() reads them, from Pillow's EXIF and XMP: a tenth
    of what asking exiftool costs, on every photo of an export."""
    from jobs.pipeline.timestamps.xmp import xmp_dates

    Image = _pillow()

    with Image.open(path) as im:
        exif_ifd = im.getexif().get_ifd(EXIF_IFD)
        xmp = im.info.get("xmp")
    fields = {f"ExifIFD:{name}": _text(exif_ifd.get(tag)) for tag, name in EXIF_DATES.items() if exif_ifd.get(tag)}
    if xmp and (created := xmp_dates(xmp)[0].get("photoshop:DateCreated")):
        # XMP writes dates ISO-style; exiftool, and so missing_fields(), with colons.
        fields["XMP-photoshop:DateCreated"] = created.replace("-", ":")
    return fields


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\x00 ")


# --- checking a written copy ----------------------------------------------------------------


def reads_back(copy: Path, chosen: Chosen, *, how: str, zone: ZoneInfo) -> bool:
    """Whether our own capture-time reader finds the chosen time in the copy from its metadata
    alone: it is given no file name, folder or file date (an export's names are derived data)."""
    clues = {"name": "copy" + copy.suffix.lower()}
    if how == VIDEO:
        clues.update(video_tags=_video_tags(copy), xmp=container_xmp(copy))
    else:
        with _pillow().open(copy) as im:
            clues.update(exif=im.getexif(), xmp=im.info.get("xmp"), iptc=image_iptc(im))
    found = read_capture_time(Clues(**clues), zone=zone).value
    if found is None:
        return False
    if chosen.precision == "second":
        return abs((found - chosen.time).total_seconds()) < 1
    shown = found.astimezone(chosen.time.tzinfo) if found.tzinfo else found
    return shown.strftime(DATE_ONLY[chosen.precision]) == chosen.time.strftime(DATE_ONLY[chosen.precision])


def same_media(original: Path, copy: Path, *, how: str) -> bool:
    """Whether the copy holds the original's picture (or picture and sound) unchanged: a JPEG's
    coded image data byte for byte, a video's every packet, any other picture its decoded pixels."""
    if how == VIDEO:
        return _packet_digests(original) == _packet_digests(copy)
    if original.suffix.lower() in JPEG and _jpeg_image_data(original.read_bytes()) == _jpeg_image_data(copy.read_bytes()):
        return True  # the coded data is identical; otherwise the pixels decide
    return _pixels(original) == _pixels(copy)


def _jpeg_image_data(data: bytes) -> tuple | None:
    """The segments that make a JPEG's picture (tables, frame header) and everything from the
    first scan on; metadata segments (APPn, COM) left out."""
    if data[:2] != b"\xff\xd8":
        return None
    tables, i = [], 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xDA:
            return tuple(tables), hashlib.sha256(memoryview(data)[i:]).digest()
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            tables.append(bytes(data[i : i + 2 + length]))
        i += 2 + length
    return None


def _pixels(path: Path) -> tuple | None:
    Image = _pillow()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as im:
                im.load()
                return im.mode, im.size, hashlib.sha256(im.tobytes()).digest()
        except Exception:  # noqa: BLE001 - a picture that cannot be decoded is not the same picture
            return None


def _packet_digests(path: Path) -> dict[int, str] | None:
    import av

    digests: dict[int, hashlib._Hash] = {}
    try:
        with av.open(str(path)) as container:
            for packet in container.demux():
                if packet.size:
                    digests.setdefault(packet.stream.index, hashlib.sha256()).update(bytes(packet))
    except (av.FFmpegError, OSError, ValueError):
        return None
    return {index: digest.hexdigest() for index, digest in digests.items()}


def _video_tags(path: Path) -> dict[str, str]:
    import av

    tags = dict(container_tags(path))
    with av.open(str(path), metadata_errors="replace") as container:
        tags.update({k.lower(): v for k, v in container.metadata.items()})
        for stream in container.streams.video[:1]:
            tags.update({k.lower(): v for k, v in stream.metadata.items()})
    return tags


def _pillow():
    """Pillow with libheif's opener, which the pipeline's image module registers (HEIC copies are
    checked too). Imported at the first copy checked: the web server imports this module as well,
    and must not load the decoders (tests/test_startup.py)."""
    from jobs.pipeline import images

    return images.Image
