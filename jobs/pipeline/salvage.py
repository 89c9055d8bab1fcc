"""What a damaged picture still says about itself. A card recovered after a crash, a download cut
short: the picture data is lost, but the metadata at the head of the file usually survived, and
with it the capture time."""

from pathlib import Path

from PIL import Image

from jobs.pipeline.images import PILLOW_FORMATS
from jobs.pipeline.timestamps import image_iptc

JPEG_HEAD = 1024 * 1024  # EXIF and XMP live in the first segments; a JPEG's APP segment is < 64 KB
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
            head = f.read(JPEG_HEAD)
    except OSError:
        return {}
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
