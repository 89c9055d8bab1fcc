"""Capture times that PyAV does not expose, read from the video's own structure.

The movie header's creation time is read here too, as stored: FFmpeg (and exiftool) read a value
below 2082844800 (1970 counted from 1904) as seconds since 1970, a work-around for writers that got
the epoch wrong, which moves every video of before 1970 into 2024-2040.

FFmpeg drops three records that cameras and phones write and exiftool reads:
- MP4/MOV `moov/udta/date` (Android and FLIR phones: the recording's start with its offset);
- AVCHD (.mts/.m2ts) H.264 "MDPM" user data (the camcorder's clock with its offset);
- Matroska `Info/DateUTC`, when FFmpeg cannot open the file at all;
- ASF (.wmv) File Properties `CreationDate`, which FFmpeg's default ASF reader does not show.
Each parser reads a few boxes or the first megabytes and stops; none decodes anything."""

import os
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

HEAD = 64 * 1024
TRANSPORT_STREAM_HEAD = 2 * 1024 * 1024  # Panasonic writes MDPM in the second frame, not the first
MAX_BOXES = 10_000  # per level of an MP4: a damaged file may be a maze of tiny boxes


def container_tags(path: Path) -> dict[str, str]:
    """Extra tags for a video, in the lower-case form of PyAV's metadata. Never raises."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            if head[4:8] in MP4_FIRST_BOXES:
                return _mp4_tags(f)
            if head[:4] == b"\x1a\x45\xdf\xa3":
                return _matroska_tags(head)
            if head[:16] == ASF_HEADER:
                return _asf_tags(head)
            if _packet_layout(head):
                return _avchd_tags(head + f.read(TRANSPORT_STREAM_HEAD - len(head)))
    except (OSError, ValueError, IndexError, OverflowError, struct.error):
        pass
    return {}


# MP4 / QuickTime ---------------------------------------------------------------------------------

# Older QuickTime files start with their movie or data box rather than "ftyp".
MP4_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _mp4_tags(f) -> dict[str, str]:
    size = os.fstat(f.fileno()).st_size
    moov = find_box(f, 0, size, b"moov")
    if not moov:
        return {}
    tags = {}
    if seconds := _header_time(f, moov):
        tags["mp4:header_seconds"] = str(seconds)
    udta = find_box(f, *moov, b"udta")
    date = udta and find_box(f, *udta, b"date")
    if date and date[1] - date[0] <= 64:
        f.seek(date[0])
        if text := f.read(date[1] - date[0]).decode("latin-1").strip("\x00 "):
            tags["mp4:date"] = text
    return tags


# Where exiftool (and Adobe's tools) put an MP4's or a MOV's XMP: a top-level `uuid` box with this
# identifier (MP4), or `moov/udta/XMP_` (QuickTime). An export writes a date-only capture time
# there, as XMP photoshop:DateCreated, so the reader must look there too.
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
MAX_XMP = 4 * 1024 * 1024


def container_xmp(path: Path) -> bytes | None:
    """The XMP packet embedded in an MP4 or MOV, if any. Never raises."""
    try:
        with open(path, "rb") as f:
            if f.read(8)[4:8] not in MP4_FIRST_BOXES:
                return None
            size = os.fstat(f.fileno()).st_size
            moov = find_box(f, 0, size, b"moov")
            udta = moov and find_box(f, *moov, b"udta")
            box = udta and find_box(f, *udta, b"XMP_")
            if box is None:
                box = _xmp_uuid_box(f, size)
            if box is None or box[1] - box[0] > MAX_XMP:
                return None
            f.seek(box[0])
            return f.read(box[1] - box[0]) or None
    except (OSError, ValueError, OverflowError, struct.error):
        return None


def _xmp_uuid_box(f, size: int) -> tuple[int, int] | None:
    position = 0
    while box := find_box(f, position, size, b"uuid"):
        f.seek(box[0])
        if f.read(16) == XMP_UUID:
            return box[0] + 16, box[1]
        position = box[1]
    return None


def _header_time(f, moov: tuple[int, int]) -> int:
    """The movie header's creation time as it is stored: seconds since 1904-01-01 UTC (ISO/IEC
    14496-12), from mvhd, else from the first track's tkhd or mdhd; 0 when none is set."""
    trak = find_box(f, *moov, b"trak")
    mdia = trak and find_box(f, *trak, b"mdia")
    for box in (find_box(f, *moov, b"mvhd"), trak and find_box(f, *trak, b"tkhd"), mdia and find_box(f, *mdia, b"mdhd")):
        if not box or box[1] - box[0] < 12:
            continue
        f.seek(box[0])
        head = f.read(12)
        # Version 1 stores 64-bit times after the version and flags, version 0 32-bit ones.
        seconds = struct.unpack(">Q", head[4:12])[0] if head[0] == 1 else struct.unpack(">I", head[4:8])[0]
        if seconds:
            return seconds
    return 0


def find_box(f, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(payload start, payload end) of the first box of this kind between start and end."""
    position = start
    for _ in range(MAX_BOXES):
        if position + 8 > end:
            return None
        f.seek(position)
        header = f.read(16)
        size, found = struct.unpack(">I4s", header[:8])
        header_size = 8
        if size == 1:
            (size,) = struct.unpack(">Q", header[8:16])
            header_size = 16
        elif size == 0:  # "to the end of the file"
            size = end - position
        if size < header_size:
            return None
        if found == kind:
            return position + header_size, min(position + size, end)
        position += size
    return None


# Matroska ----------------------------------------------------------------------------------------

SEGMENT, INFO, DATE_UTC, CLUSTER = 0x18538067, 0x1549A966, 0x4461, 0x1F43B675
MATROSKA_EPOCH = datetime(2001, 1, 1, tzinfo=timezone.utc)


def _matroska_tags(head: bytes) -> dict[str, str]:
    """Info/DateUTC (nanoseconds since 2001-01-01 UTC), as FFmpeg would name it."""
    for element, segment_start, segment_end in _elements(head, 0, len(head)):
        if element != SEGMENT:
            continue
        for element, info_start, info_end in _elements(head, segment_start, segment_end):
            if element == CLUSTER:
                break  # the pictures begin: Info comes before them or not at all
            if element != INFO:
                continue
            for element, start, end in _elements(head, info_start, info_end):
                if element == DATE_UTC and end - start == 8:
                    nanoseconds = int.from_bytes(head[start:end], "big", signed=True)
                    value = MATROSKA_EPOCH + timedelta(microseconds=nanoseconds // 1000)
                    return {"creation_time": value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    return {}


def _elements(data: bytes, position: int, end: int):
    """(id, payload start, payload end) of the EBML elements between position and end."""
    while position < end:
        element, length = _vint(data, position, keep_marker=True)
        position += length
        size, length = _vint(data, position, keep_marker=False)
        position += length
        unknown = size == (1 << (7 * length)) - 1  # all ones: "until the parent ends"
        stop = end if unknown else min(position + size, end)
        yield element, position, stop
        position = stop


def _vint(data: bytes, position: int, *, keep_marker: bool) -> tuple[int, int]:
    first = data[position]
    if first == 0:
        raise ValueError("EBML number longer than 8 bytes")
    length = 9 - first.bit_length()
    if position + length > len(data):
        raise ValueError("EBML number cut off")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[position + 1 : position + length]:
        value = value << 8 | byte
    return value, length


# ASF (Windows Media) -----------------------------------------------------------------------------

ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
ASF_FILE_PROPERTIES = bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365")
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)


def _asf_tags(head: bytes) -> dict[str, str]:
    """The File Properties object's CreationDate: 100-nanosecond steps since 1601 in UTC, after
    the object's GUID and size, the file's own GUID and its size. Zero means "not recorded"."""
    position = 30  # the Header object's GUID, size, object count and two reserved bytes
    while position + 24 <= len(head):
        guid = head[position : position + 16]
        size = int.from_bytes(head[position + 16 : position + 24], "little")
        if guid == ASF_FILE_PROPERTIES:
            ticks = int.from_bytes(head[position + 48 : position + 56], "little")
            if not ticks:
                return {}
            value = FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
            return {"creation_time": value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        if size < 24:
            return {}
        position += size
    return {}


# AVCHD (MPEG transport stream with H.264) --------------------------------------------------------

MDPM = bytes.fromhex("17ee8c60f84d11d98cd60800200c9a66") + b"MDPM"
MDPM_DATE, MDPM_TIME = 0x18, 0x19


def _packet_layout(head: bytes) -> tuple[int, int] | None:
    """(packet size, sync byte position): 188-byte .ts packets or 192-byte .m2ts/.mts packets."""
    for size, sync in ((188, 0), (192, 4)):
        if len(head) > size * 2 + sync and all(head[sync + size * n] == 0x47 for n in range(3)):
            return size, sync
    return None


def _avchd_tags(data: bytes) -> dict[str, str]:
    for payload in _payloads(data).values():
        start = payload.find(MDPM)
        if start >= 0:
            # H.264 escapes 00 00 0x as 00 00 03 0x inside its units; undo that before reading.
            records = bytes(payload[start + len(MDPM) : start + len(MDPM) + 1 + 5 * 255])
            return _mdpm_tags(records.replace(b"\x00\x00\x03", b"\x00\x00"))
    return {}


def _payloads(data: bytes) -> dict[int, bytearray]:
    """The bytes each stream (PID) carries, with the transport packet headers removed."""
    size, sync = _packet_layout(data)
    streams: dict[int, bytearray] = {}
    for packet in range(sync, len(data) - size + sync + 1, size):
        if data[packet] != 0x47:
            continue
        pid = (data[packet + 1] & 0x1F) << 8 | data[packet + 2]
        control = data[packet + 3] >> 4 & 0x3
        start = packet + 4 + (1 + data[packet + 4] if control & 0x2 else 0)
        if control & 0x1:
            streams.setdefault(pid, bytearray()).extend(data[start : packet + 188])
    return streams


def _mdpm_tags(records: bytes) -> dict[str, str]:
    """MDPM records are (tag, four bytes); 0x18 holds zone, year and month, 0x19 day and time,
    all in binary-coded decimal (exiftool's H264.pm documents the layout)."""
    values = {records[i]: records[i + 1 : i + 5] for i in range(1, 1 + 5 * records[0], 5) if i + 5 <= len(records)}
    if MDPM_DATE not in values or MDPM_TIME not in values:
        return {}
    zone, century, year, month = values[MDPM_DATE]
    day, hour, minute, second = values[MDPM_TIME]
    digits = "".join(f"{byte:02x}" for byte in (century, year, month, day, hour, minute, second))
    if not digits.isdigit():
        return {}
    # Zone byte: 0x20 sign (west), bits 1-4 hours, 0x01 an extra half hour (0x40 marks summer time,
    # already included in the hours).
    sign = "-" if zone & 0x20 else "+"
    offset = f"{sign}{zone >> 1 & 0x0F:02d}:{'30' if zone & 0x01 else '00'}"
    text = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T{digits[8:10]}:{digits[10:12]}:{digits[12:14]}{offset}"
    return {"h264:datetimeoriginal": text}
