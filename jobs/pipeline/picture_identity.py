"""The picture's own identity: a SHA-256 of its image data alone, so that copies which differ only
in metadata (a time-zone fix with exiftool, stripped EXIF, GPS added) are known as the same picture
whatever their capture records say.

- JPEG: the segments that make the picture (quantisation and Huffman tables, frame header) and the
  entropy-coded data from the first SOS to the EOI, read as a decoder reads them (stray bytes
  between segments skipped). APPn segments (EXIF, XMP, ICC, MPF, maker
  data) and comments are metadata and left out, as is anything after the EOI (a motion photo's
  video, a phone's trailer): exiftool rewrites the former and never touches the scan data.
- HEIF/HEIC/AVIF: the coded data of every image item (tiles, grid, thumbnails), found through the
  `iloc` box; Exif and XMP items are metadata and left out. exiftool may move items around in the
  file, so their bytes are read where `iloc` says they are, not where they happen to sit.
- Other pictures (PNG, GIF): their decoded pixels, where the pipeline already decoded them whole.

None when the picture data cannot be found; such a file is then compared by its bytes and its
fingerprint only. Pure: knows nothing of Django.
"""

import hashlib
import struct
from pathlib import Path

from PIL import Image

# Markers without a length: TEM, RSTn, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xDA)}
_SOS, _EOI = 0xDA, 0xD9
_APP = range(0xE0, 0xF0)
_COM = 0xFE


def jpeg_identity(data: bytes) -> str | None:
    """The identity of a whole JPEG file's bytes."""
    if not data.startswith(b"\xff\xd8"):
        return None
    digest = hashlib.sha256(b"jpeg")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            # A segment whose length falls short (an editor's miscounted XMP) leaves extraneous
            # bytes before the next marker: decoders skip them to it, and so does the identity.
            at = data.find(b"\xff", at)
            if at < 0:
                return None
            continue
        marker = data[at + 1]
        if marker == 0xFF:  # fill bytes before a marker
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if marker == _SOS:
            # Entropy-coded data never holds 0xFFD9 (a 0xFF there is followed by 0 or a restart
            # marker); progressive files have more scans, with tables between, before the EOI.
            end = data.find(b"\xff\xd9", at + 2 + length)
            if end < 0:
                return None  # cut short: no whole picture to name
            digest.update(memoryview(data)[at : end + 2])
            return digest.hexdigest()
        if marker not in _APP and marker != _COM:
            digest.update(memoryview(data)[at : at + 2 + length])
        at += 2 + length
    return None


# Item types that hold metadata rather than picture data.
_METADATA_ITEMS = {b"Exif", b"mime", b"uri "}


def heif_identity(path: Path) -> str | None:
    """The identity of a HEIF-family file (HEIC, HEIF, AVIF)."""
    with open(path, "rb") as f:
        meta = _find_box(f, b"meta", 0, path.stat().st_size)
        if meta is None:
            return None
        body_start, body_end = meta[0] + 4, meta[1]  # a full box: version and flags first
        boxes = dict(_children(f, body_start, body_end))
        if b"iloc" not in boxes or b"iinf" not in boxes:
            return None
        types = _item_types(_read(f, *boxes[b"iinf"]))
        locations = _item_locations(_read(f, *boxes[b"iloc"]))
        idat = boxes.get(b"idat")
        digest = hashlib.sha256(b"heif")
        found = False
        for item_id in sorted(locations):
            item_type = types.get(item_id, b"")
            if item_type in _METADATA_ITEMS:
                continue
            method, extents = locations[item_id]
            digest.update(item_type)
            for offset, length in extents:
                if method == 1:  # inside the idat box
                    if idat is None:
                        return None
                    offset += idat[0]
                elif method != 0:
                    return None  # an item built from other items' data: not seen in the wild
                digest.update(_read(f, offset, offset + length))
                found = True
        return digest.hexdigest() if found else None


def pixel_identity(image: Image.Image) -> str:
    """The identity of a decoded picture: its mode, size and every pixel."""
    digest = hashlib.sha256(f"pixels {image.mode} {image.width}x{image.height}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _boxes(f, start: int, end: int):
    """(type, body start, body end) of each box between start and end."""
    at = start
    while at + 8 <= end:
        f.seek(at)
        header = f.read(16)
        size, kind = struct.unpack(">I4s", header[:8])
        body = at + 8
        if size == 1:
            size = struct.unpack(">Q", header[8:16])[0]
            body = at + 16
        elif size == 0:
            size = end - at
        if size < body - at or at + size > end:
            return
        yield kind, body, at + size
        at += size


def _find_box(f, kind: bytes, start: int, end: int) -> tuple[int, int] | None:
    for found, body, box_end in _boxes(f, start, end):
        if found == kind:
            return body, box_end
    return None


def _children(f, start: int, end: int):
    for kind, body, box_end in _boxes(f, start, end):
        yield kind, (body, box_end)


def _read(f, start: int, end: int) -> bytes:
    f.seek(start)
    return f.read(end - start)


def _item_types(iinf: bytes) -> dict[int, bytes]:
    version = iinf[0]
    at = 4 + (2 if version == 0 else 4)
    types = {}
    while at + 8 <= len(iinf):
        size, kind = struct.unpack(">I4s", iinf[at : at + 8])
        if size < 8:
            break
        if kind == b"infe":
            box = iinf[at + 8 : at + size]
            infe_version = box[0]
            if infe_version >= 2:
                id_size = 2 if infe_version == 2 else 4
                item_id = int.from_bytes(box[4 : 4 + id_size], "big")
                types[item_id] = box[4 + id_size + 2 : 4 + id_size + 6]
        at += size
    return types


def _item_locations(iloc: bytes) -> dict[int, tuple[int, list[tuple[int, int]]]]:
    """item id -> (construction method, [(offset, length)])."""
    version = iloc[0]
    offset_size, length_size = iloc[4] >> 4, iloc[4] & 0xF
    base_offset_size, index_size = iloc[5] >> 4, (iloc[5] & 0xF) if version in (1, 2) else 0
    at = 6

    def number(size: int) -> int:
        nonlocal at
        value = int.from_bytes(iloc[at : at + size], "big")
        at += size
        return value

    count = number(2 if version < 2 else 4)
    locations = {}
    for _ in range(count):
        item_id = number(2 if version < 2 else 4)
        method = number(2) & 0xF if version in (1, 2) else 0
        number(2)  # data reference index: 0, this file
        base = number(base_offset_size)
        extents = []
        for _ in range(number(2)):
            number(index_size)
            offset = number(offset_size)
            extents.append((base + offset, number(length_size)))
        locations[item_id] = (method, extents)
    return locations


def photo_identity(path: Path, media_type: str, decoded: Image.Image, size: tuple[int, int]) -> str | None:
    """The identity of a photo the pipeline has opened: `media_type` its MIME type, `decoded` the
    pipeline's decode of it and `size` the picture's own size (both as shown)."""
    if media_type == "image/jpeg":
        return jpeg_identity(path.read_bytes())
    if media_type in ("image/heic", "image/heif", "image/avif"):
        return heif_identity(path)
    if decoded.size == size:  # decoded whole, not reduced
        return pixel_identity(decoded)
    return None
