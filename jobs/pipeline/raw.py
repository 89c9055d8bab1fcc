"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF): the picture from the preview the
camera embedded, the size of the full RAW image, and the EXIF of the RAW itself.

LibRaw (through rawpy) finds the preview in every one of these formats, from the maker notes of an
ORF to the boxes of a CR3, and tells the sensor's size and orientation without reading the sensor
data; the preview is then a JPEG like any other, decoded at a reduced scale. Only when a file has
no preview large enough, or a broken one, is the sensor data developed (at half size).

The EXIF is read from the file's own TIFF structure with Pillow's TIFF reader (LibRaw gives only a
time without its offset): every one of these formats but RAF and CR3 is a TIFF, some under another
magic number; a RAF's EXIF is that of its preview JPEG, a CR3's is in its CMT boxes.
docs/performance.md has the measurements behind this choice."""

import io
import struct
from pathlib import Path

import rawpy
from PIL import Image

from jobs.pipeline import formats
from jobs.pipeline.errors import MediaError
from jobs.pipeline.images import ORIENTATION_TAG, REDUCED_SIZE, ROTATED_ORIENTATIONS, Photo, decoding, reduced_copy

LIBRAW_VERSION = ".".join(map(str, rawpy.libraw_version))
# LibRaw's `flip` as the EXIF orientation that turns the sensor's picture upright.
FLIP_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
# A preview serves when its long side reaches this and its shape is the full picture's (a 160x120
# index thumbnail of a 3:2 picture has black bars).
MIN_PREVIEW_SIDE = 320
SHAPE_TOLERANCE = 0.03


def open_raw(path: Path, media_type: formats.MediaType) -> Photo:
    """Read one RAW file. Raises MediaError with a message a person understands."""
    with rawpy.RawPy() as raw:
        try:
            raw.open_file(str(path))
        except (rawpy.LibRawError, OSError) as e:
            raise MediaError(
                f"{media_type.label} file could not be read: it is damaged, or from a camera newer than this "
                f"server's RAW reader (LibRaw {LIBRAW_VERSION}). Import the camera's JPEG of "
                f"the same shot, or convert the file to DNG ({_said(e)})"
            ) from e
        sizes = raw.sizes
        orientation = FLIP_ORIENTATION.get(sizes.flip, 1)
        width, height = sizes.width, sizes.height
        if width * height > Image.MAX_IMAGE_PIXELS:
            raise MediaError(f"{media_type.label} image is too large to decode safely: {width}x{height} pixels")
        preview, reduced = _preview(raw, width, height, orientation) or (None, None)
        exif = raw_exif(path, media_type, preview)
        if reduced is None:
            reduced = _develop(raw, media_type)
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    exif[ORIENTATION_TAG] = orientation  # the RAW's own, which its preview need not repeat
    return Photo(width=width, height=height, exif=exif, xmp=None, iptc=None, reduced=reduced)


def _preview(raw, width: int, height: int, orientation: int) -> tuple[bytes, Image.Image] | None:
    """The embedded JPEG preview and its reduced decode, turned upright, when it shows the whole
    picture large enough; None when there is none such or it is broken (the sensor data is
    developed instead). A preview too large to decode safely is the file's error."""
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError):
        return None
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return None
    with decoding("RAW preview"):
        try:
            with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as im:
                if not _shows_the_picture(im.size, (width, height)):
                    return None
                return thumb.data, reduced_copy(im, orientation)
        except (OSError, SyntaxError, ValueError, EOFError):
            return None


def _shows_the_picture(preview: tuple[int, int], full: tuple[int, int]) -> bool:
    if max(preview) < MIN_PREVIEW_SIDE:
        return False
    # The preview is stored as the sensor is, unturned; compare shapes whichever way round.
    (a, b), (c, d) = sorted(preview), sorted(full)
    return abs(a / b - c / d) <= SHAPE_TOLERANCE


def _develop(raw, media_type: formats.MediaType) -> Image.Image:
    """The sensor data developed, at half size where that still serves the thumbnail, turned
    upright: seconds, where a preview is milliseconds."""
    half_size = min(raw.sizes.width, raw.sizes.height) >= 2 * REDUCED_SIZE
    try:
        raw.unpack()
        pixels = raw.postprocess(half_size=half_size, use_camera_wb=True, output_bps=8)
    except (rawpy.LibRawError, OSError, MemoryError) as e:
        raise MediaError(
            f"{media_type.label} file is cut off or damaged: it carries no usable preview and its sensor "
            f"data could not be read. Copy it again from the card or camera ({_said(e)})"
        ) from e
    return Image.fromarray(pixels)


def _said(error: BaseException) -> str:
    """LibRaw's own words, which rawpy hands over as bytes."""
    said = error.args[0] if error.args else error
    return (said.decode(errors="replace") if isinstance(said, bytes) else str(said)).strip() or type(error).__name__


# EXIF -------------------------------------------------------------------------------------------

# Olympus and Panasonic write a TIFF under a magic number of their own.
TIFF_MAGICS = {b"II*\0": "<", b"MM\0*": ">", b"IIRO": "<", b"IIRS": "<", b"MMOR": ">", b"IIU\0": "<"}
CR3_METADATA_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")


def raw_exif(path: Path, media_type: formats.MediaType, preview: bytes | None) -> Image.Exif:
    """The RAW's EXIF, its Exif and GPS sub-IFDs read at once (the file is closed afterwards).
    Damaged EXIF is treated as absent: the picture and its other dates still count."""
    try:
        if media_type.family in ("tiff", "cr2", "orf", "rw2"):
            return _tiff_exif(path)
        if media_type.family == "cr3":
            return _cr3_exif(path)
    except (OSError, SyntaxError, ValueError, KeyError, IndexError, struct.error):
        return Image.Exif()
    return _jpeg_exif(preview)


def _tiff_exif(path: Path) -> Image.Exif:
    exif = Image.Exif()
    with open(path, "rb") as f:
        head = f.read(8)
        exif.endian = TIFF_MAGICS.get(head[:4])
        if exif.endian is None:
            return exif
        exif.load_from_fp(f, struct.unpack(f"{exif.endian}I", head[4:8])[0])
        for ifd in (EXIF_IFD, GPS_IFD):
            exif.get_ifd(ifd)  # read now: Pillow reads sub-IFDs when asked, from the open file
    return exif


def _cr3_exif(path: Path) -> Image.Exif:
    """CMT1 holds IFD0 (camera, DateTime), CMT2 the Exif IFD, CMT4 the GPS IFD, each as a TIFF of
    its own, in a uuid box inside moov. They are joined into one EXIF as a JPEG would carry it."""
    with open(path, "rb") as f:
        moov = _child(f, 0, _size(f), b"moov")
        uuid = moov and _child(f, *moov, b"uuid", CR3_METADATA_UUID)
        if not uuid:
            return Image.Exif()
        parts = {}
        for name in (b"CMT1", b"CMT2", b"CMT4"):
            if box := _child(f, uuid[0] + 16, uuid[1], name):
                f.seek(box[0])
                parts[name] = Image.Exif()
                parts[name].load(f.read(min(box[1] - box[0], 1 << 20)))
    joined = Image.Exif()
    joined.update(parts.get(b"CMT1", {}))
    for name, tag in ((b"CMT2", EXIF_IFD), (b"CMT4", GPS_IFD)):
        if part := parts.get(name):
            joined[tag] = dict(part)
    exif = Image.Exif()
    exif.load(joined.tobytes())
    return exif


def _jpeg_exif(preview: bytes | None) -> Image.Exif:
    if preview is None:
        return Image.Exif()
    try:
        with Image.open(io.BytesIO(preview), formats=["JPEG"]) as im:
            exif = im.getexif()
            for ifd in (EXIF_IFD, GPS_IFD):
                exif.get_ifd(ifd)
            return exif
    except (OSError, SyntaxError, ValueError):
        return Image.Exif()


def _size(f) -> int:
    f.seek(0, io.SEEK_END)
    return f.tell()


def _child(f, start: int, end: int, kind: bytes, uuid: bytes = b"") -> tuple[int, int] | None:
    """(payload start, payload end) of the first ISO-BMFF box of this kind (and uuid) between
    start and end."""
    position = start
    for _ in range(1000):
        if position + 8 > end:
            return None
        f.seek(position)
        header = f.read(32)
        size, found = struct.unpack(">I4s", header[:8])
        header_size = 8
        if size == 1:
            (size,) = struct.unpack(">Q", header[8:16])
            header_size = 16
        elif size == 0:
            size = end - position
        if size < header_size:
            return None
        if found == kind and header[header_size : header_size + len(uuid)] == uuid:
            return position + header_size, min(position + size, end)
        position += size
    return None
