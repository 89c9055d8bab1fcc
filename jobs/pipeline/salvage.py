"""What a damaged picture still says about itself. A card recovered after a crash, a download cut
short: the picture data is lost, but the metadata at the head of the file usually survived, and
with it the capture time."""

import struct
from pathlib import Path

from PIL import Image

from jobs.pipeline.images import PILLOW_FORMATS
from jobs.pipeline.timestamps import image_iptc

HEAD = 1024 * 1024  # EXIF and XMP live in a JPEG's first segments, in a HEIF's first boxes
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
START_OF_SCAN, END_OF_IMAGE = 0xDA, 0xD9


def salvaged_metadata(path: Path) -> dict:
    """{"exif", "xmp", "iptc"} as the Clues want them, from a picture Pillow could not decode:
    Pillow's own reading when it can still open the file (the pixels failed, not the header),
    else the JPEG's APP1 segments read directly. Never raises; {} when nothing survived."""
    try:
        with Image.open(path, formats=PILLOW_FORMATS) as im:
            xmp = im.info.get("xmp")
            return {"exif": im.getexif(), "xmp": xmp if isinstance(xmp, bytes) else None, "iptc": image_iptc(im)}
    except Exception:  # noqa: BLE001 - the file is known to be damaged; any failure means "read it ourselves"
        pass
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
    except OSError:
        return {}
    if head[4:8] == b"ftyp":
        try:
            exif = _heif_exif(head)
        except Exception:  # noqa: BLE001 - boxes and IFDs of a damaged file fail in assorted ways
            exif = None
        return {"exif": exif} if exif is not None else {}
    found = {}
    for segment in _app1_segments(head):
        if segment.startswith(EXIF_HEADER) and "exif" not in found:
            exif = Image.Exif()
            try:
                exif.load(segment)
            except Exception:  # noqa: BLE001 - a cut IFD raises assorted errors; keep what loaded
                pass
            found["exif"] = exif
        elif segment.startswith(XMP_HEADER) and "xmp" not in found:
            found["xmp"] = segment[len(XMP_HEADER) :]
    return found


def _app1_segments(data: bytes):
    """The payloads of a JPEG's APP1 segments, up to where the picture data starts or the file ends."""
    if data[:2] != b"\xff\xd8":
        return
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker in (START_OF_SCAN, END_OF_IMAGE):
            return
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return
        if marker == 0xE1:
            yield data[position + 4 : position + 2 + length]  # as much as is there when cut
        position += 2 + length


# HEIF ---------------------------------------------------------------------------------------------
# The EXIF block is an item of the `meta` box: `iinf` names its id and type, `iloc` says where its
# bytes are (in the file, or in `idat`). ISO/IEC 23008-12 and 14496-12 give the layouts.


def _heif_exif(data: bytes) -> Image.Exif | None:
    meta = _box(data, 0, len(data), b"meta")
    if meta is None:
        return None
    start, end = meta[0] + 4, meta[1]  # after the full box's version and flags
    item = _exif_item(data, _box(data, start, end, b"iinf"))
    location = _box(data, start, end, b"iloc")
    if item is None or location is None:
        return None
    idat = _box(data, start, end, b"idat")
    for item_id, method, offset, length in _item_extents(data, *location):
        if item_id != item:
            continue
        base = idat[0] if method == 1 and idat else 0
        payload = data[base + offset : base + offset + length]
        if len(payload) < 8:
            return None
        # The payload starts with the distance from its fifth byte to the TIFF header.
        (skip,) = struct.unpack(">I", payload[:4])
        exif = Image.Exif()
        exif.load(EXIF_HEADER + payload[4 + skip :])
        return exif
    return None


def _exif_item(data: bytes, iinf: tuple[int, int] | None) -> int | None:
    if iinf is None:
        return None
    version = data[iinf[0]]
    position = iinf[0] + (6 if version == 0 else 8)  # version, flags and the entry count
    for kind, start, end in _boxes(data, position, iinf[1]):
        if kind != b"infe" or data[start] < 2:
            continue
        wide = data[start] >= 3  # version 3 has 32-bit item ids
        item_id = int.from_bytes(data[start + 4 : start + (8 if wide else 6)], "big")
        type_at = start + (10 if wide else 8)
        if data[type_at : type_at + 4] == b"Exif":
            return item_id
    return None


def _item_extents(data: bytes, start: int, end: int):
    """(item id, construction method, offset, length) of each extent in an `iloc` box."""
    version = data[start]
    offset_size, length_size = data[start + 4] >> 4, data[start + 4] & 0xF
    base_size, index_size = data[start + 5] >> 4, (data[start + 5] & 0xF if version in (1, 2) else 0)
    id_size = 4 if version == 2 else 2
    position = start + 6
    count = _number(data, position, id_size)
    position += id_size
    for _ in range(count):
        item_id = _number(data, position, id_size)
        position += id_size
        method = 0
        if version in (1, 2):
            method = _number(data, position, 2) & 0xF
            position += 2
        position += 2  # data reference index
        base = _number(data, position, base_size)
        position += base_size
        extents = _number(data, position, 2)
        position += 2
        for _ in range(extents):
            position += index_size
            offset = _number(data, position, offset_size)
            length = _number(data, position + offset_size, length_size)
            position += offset_size + length_size
            if position > end:
                return
            yield item_id, method, base + offset, length


def _number(data: bytes, position: int, size: int) -> int:
    if position + size > len(data):
        raise ValueError("box cut off")
    return int.from_bytes(data[position : position + size], "big")


def _box(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for found, s, e in _boxes(data, start, end) if found == kind), None)


def _boxes(data: bytes, position: int, end: int):
    """(type, payload start, payload end) of the boxes between position and end."""
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[position + 8 : position + 16])
            header = 16
        elif size == 0:
            size = end - position
        if size < header:
            return
        yield kind, position + header, min(position + size, end)
        position += size
