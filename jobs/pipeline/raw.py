"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF): the picture from the preview the
camera embedded, the size of the full RAW image, and the EXIF of the RAW itself.

Most of these formats are TIFFs (ORF and RW2 under another magic number): their EXIF and their
JPEG previews are found in their own directories with Pillow's TIFF reader, and the smallest
preview that shows the whole picture at thumbnail size is decoded at a reduced scale like any
JPEG. LibRaw (through rawpy) tells the full image's size and orientation without reading the
sensor data, finds the preview where the file's structure is not a TIFF's (a RAF's header, a
CR3's boxes) or hides it (an ORF's maker notes), and develops the sensor data when no preview
serves. A CR3's EXIF is read from its CMT boxes, a RAF's from its preview.
docs/formats.md says why, docs/performance.md has the measurements."""

import io
import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import rawpy
from PIL import ExifTags, Image, TiffImagePlugin

from jobs.pipeline import formats
from jobs.pipeline.errors import MediaError
from jobs.pipeline.images import ORIENTATION_TAG, REDUCED_SIZE, ROTATED_ORIENTATIONS, Photo, decoding, reduced_copy
from jobs.pipeline.timestamps.containers import find_box

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
            raise MediaError(
                f"{media_type.label} image is too large to decode safely: it declares more pixels than "
                f"MEDIAIMPORT_MAX_IMAGE_PIXELS allows. Raise that setting to import it if it is genuine "
                f"({width}x{height} pixels)"
            )
        exif, previews = read_structure(path, media_type)
        # LibRaw is asked only when the file's own structure offers no usable preview: it copies
        # the preview with an EXIF header made for it, which costs more than decoding a small one.
        found = _first_usable(previews, (width, height), orientation) or _first_usable(
            _libraw_preview(raw), (width, height), orientation
        )
        preview, reduced = found or (None, None)
        if exif is None:
            exif = _jpeg_exif(preview)
        if reduced is None:
            reduced = _develop(raw, media_type)
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    exif[ORIENTATION_TAG] = orientation  # the RAW's own, which its preview need not repeat
    return Photo(width=width, height=height, exif=exif, xmp=None, iptc=None, reduced=reduced)


def _libraw_preview(raw) -> Iterator[bytes]:
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError):
        return
    if thumb.format == rawpy.ThumbFormat.JPEG:
        yield thumb.data


def _first_usable(
    previews: Iterable[bytes], full: tuple[int, int], orientation: int
) -> tuple[bytes, Image.Image] | None:
    """The first embedded JPEG that shows the whole picture large enough, with its reduced decode
    turned upright; None when there is none such or they are broken (the sensor data is developed
    instead). A preview too large to decode safely is the file's error."""
    for preview in previews:
        with decoding("RAW preview"):
            try:
                with Image.open(io.BytesIO(preview), formats=["JPEG"]) as im:
                    if _shows_the_picture(im.size, full):
                        return preview, reduced_copy(im, orientation)
            except (OSError, SyntaxError, ValueError, EOFError):
                continue
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


# The file's own structure: EXIF and previews --------------------------------------------------

# Olympus and Panasonic write a TIFF under a magic number of their own.
TIFF_MAGICS = {b"II*\0": "<", b"MM\0*": ">", b"IIRO": "<", b"IIRS": "<", b"MMOR": ">", b"IIU\0": "<"}
TIFF_FAMILIES = {"tiff", "cr2", "orf", "rw2"}
CR3_METADATA_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
SUB_IFDS, NEW_SUBFILE_TYPE, PHOTOMETRIC, COMPRESSION = 0x014A, 0x00FE, 0x0106, 0x0103
STRIP_OFFSETS, STRIP_BYTE_COUNTS, JPEG_OFFSET, JPEG_LENGTH = 0x0111, 0x0117, 0x0201, 0x0202
PANASONIC_JPG_FROM_RAW = 0x002E
JPEG_COMPRESSIONS = {6, 7}
SENSOR_DATA = {32803, 34892}  # colour filter array, linear raw: the sensor's own values
MAX_SUB_IFDS = 8
MAX_PREVIEW_BYTES = 64 * 1024 * 1024


def read_structure(path: Path, media_type: formats.MediaType) -> tuple[Image.Exif | None, list[bytes]]:
    """The RAW's EXIF, its Exif and GPS sub-IFDs read at once (the file is closed afterwards), and
    the JPEG previews its TIFF directories hold, smallest first: the first that serves is the
    cheapest to decode. None for the EXIF of a RAF, whose EXIF is its preview's. Damaged EXIF is
    treated as absent: the picture and the file's other dates still count."""
    try:
        if media_type.family in TIFF_FAMILIES:
            return _tiff_structure(path)
        if media_type.family == "cr3":
            return _cr3_exif(path), []
    except (OSError, SyntaxError, ValueError, KeyError, IndexError, TypeError, struct.error):
        return Image.Exif(), []
    return None, []


def _tiff_structure(path: Path) -> tuple[Image.Exif, list[bytes]]:
    exif = Image.Exif()
    with open(path, "rb") as f:
        head = f.read(8)
        exif.endian = TIFF_MAGICS.get(head[:4])
        if exif.endian is None:
            return exif, []
        exif.load_from_fp(f, struct.unpack(f"{exif.endian}I", head[4:8])[0])
        for ifd in (EXIF_IFD, GPS_IFD):
            exif.get_ifd(ifd)  # read now: Pillow reads sub-IFDs when asked, from the open file
        directories = [exif, exif.get_ifd(ExifTags.IFD.IFD1), *_sub_ifds(f, exif)]
        places = sorted({place for d in directories if (place := _jpeg_place(d))}, key=lambda p: p[1])
        previews = [data for start, length in places if (data := _read(f, start, length)).startswith(b"\xff\xd8")]
    if isinstance(jpeg := exif.get(PANASONIC_JPG_FROM_RAW), bytes):
        previews.append(jpeg)
    return exif, previews


def _sub_ifds(f, exif: Image.Exif) -> Iterator[Mapping]:
    """The directories SubIFDs points to: a DNG's and a NEF's sensor data and previews."""
    offsets = exif.get(SUB_IFDS)
    for offset in (offsets if isinstance(offsets, tuple) else (offsets,))[:MAX_SUB_IFDS]:
        if isinstance(offset, int):
            directory = TiffImagePlugin.ImageFileDirectory_v2(exif.head)
            f.seek(offset)
            directory.load(f)
            yield directory


def _jpeg_place(directory: Mapping) -> tuple[int, int] | None:
    """(offset, length) of the JPEG a TIFF directory holds, if it holds a preview as one. Only
    these few tags are read: Pillow converts a tag's value when it is asked for."""
    if directory.get(PHOTOMETRIC) in SENSOR_DATA:
        return None
    start, length = directory.get(JPEG_OFFSET), directory.get(JPEG_LENGTH)
    if start is None and directory.get(COMPRESSION) in JPEG_COMPRESSIONS:
        starts, lengths = directory.get(STRIP_OFFSETS), directory.get(STRIP_BYTE_COUNTS)
        if isinstance(starts, tuple) and isinstance(lengths, tuple) and len(starts) == len(lengths) == 1:
            (start,), (length,) = starts, lengths
        elif isinstance(starts, int) and isinstance(lengths, int):
            start, length = starts, lengths
    if isinstance(start, int) and isinstance(length, int) and 0 < length <= MAX_PREVIEW_BYTES:
        return start, length
    return None


def _read(f, start: int, length: int) -> bytes:
    f.seek(start)
    return f.read(length)


def _cr3_exif(path: Path) -> Image.Exif:
    """CMT1 holds IFD0 (camera, DateTime), CMT2 the Exif IFD, CMT4 the GPS IFD, each as a TIFF of
    its own, in the uuid box that opens moov. They are joined into one EXIF as a JPEG carries it."""
    with open(path, "rb") as f:
        moov = find_box(f, 0, os.fstat(f.fileno()).st_size, b"moov")
        uuid = moov and find_box(f, *moov, b"uuid")
        if not uuid:
            return Image.Exif()
        f.seek(uuid[0])
        if f.read(16) != CR3_METADATA_UUID:
            return Image.Exif()
        parts = {}
        for name in (b"CMT1", b"CMT2", b"CMT4"):
            if box := find_box(f, uuid[0] + 16, uuid[1], name):
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
