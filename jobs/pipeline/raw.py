"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF): the picture from the preview the
camera embedded, the size of the full RAW image, and the EXIF of the RAW itself.

Most of these formats are TIFFs (ORF and RW2 under another magic number). For them one pass of our
own over the file's TIFF directories, read from its first bytes where cameras write them, finds
everything a picture from the preview needs: the JPEG previews' places, the full image's size and
orientation, and the EXIF, which Pillow then reads from those same bytes as it reads a JPEG's. The
smallest preview that shows the whole picture at thumbnail size is read alone and decoded at a
reduced scale like any JPEG, and LibRaw is not asked at all: the RAW costs what a JPEG of its
preview's size costs. LibRaw (through rawpy) serves where that pass does not: it finds the preview
where the file's structure is not a TIFF's (a RAF's header, a CR3's boxes) or hides it (an ORF's
maker notes), tells the size and orientation of what our pass cannot, and develops the sensor
data when no preview serves. A CR3's EXIF is read from its CMT boxes, a RAF's from its preview.
docs/formats.md says why, docs/performance.md has the measurements."""

import io
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import rawpy
from PIL import Image

from jobs.pipeline import formats
from jobs.pipeline.errors import MediaError
from jobs.pipeline.images import ORIENTATION_TAG, REDUCED_SIZE, ROTATED_ORIENTATIONS, Photo, decoding, reduced_copy
from jobs.pipeline.perceptual import MAKE, MODEL
from jobs.pipeline.timestamps.containers import find_box
from jobs.pipeline.timestamps.embedded import EXIF_TIMES

LIBRAW_VERSION = ".".join(map(str, rawpy.libraw_version))
# LibRaw's `flip` as the EXIF orientation that turns the sensor's picture upright.
FLIP_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005
# What the camera, shot and capture-time readers (jobs.pipeline.perceptual, timestamps.embedded)
# read of a RAW's IFD0, the orientation aside (the RAW's own is set on its EXIF): the EXIF's times
# and their offsets and sub-seconds are read there too where a camera wrote them in IFD0.
IFD0_READ = {MAKE, MODEL, EXIF_IFD, GPS_IFD} | {tag for _, *tags in EXIF_TIMES for tag in tags}
# A preview serves when its long side reaches this and its shape is the full picture's (a 160x120
# index thumbnail of a 3:2 picture has black bars).
MIN_PREVIEW_SIDE = 320
SHAPE_TOLERANCE = 0.03


def open_raw(path: Path, media_type: formats.MediaType) -> Photo:
    """Read one RAW file. Raises MediaError with a message a person understands."""
    with open(path, "rb") as f:
        structure = read_structure(f, media_type)
        if structure.size is not None:
            _refuse_too_large(structure.size, media_type)
            if found := _first_usable(structure.previews(), structure.size, structure.orientation):
                return _photo(structure.size, structure.orientation, structure.exif, found[1])
        return _with_libraw(path, media_type, structure)


def _with_libraw(path: Path, media_type: formats.MediaType, structure: "Structure") -> Photo:
    """LibRaw's reading of the file, for what the structure's own pass left open."""
    with rawpy.RawPy() as raw:
        try:
            raw.open_file(str(path))
        except (rawpy.LibRawError, OSError) as e:
            raise MediaError(
                f"{media_type.label} file could not be read: it is damaged, or from a camera newer than this "
                f"server's RAW reader (LibRaw {LIBRAW_VERSION}). Import the camera's JPEG of "
                f"the same shot, or convert the file to DNG ({_said(e)})"
            ) from e
        size, orientation = structure.size, structure.orientation
        if size is None:
            size, orientation = (raw.sizes.width, raw.sizes.height), FLIP_ORIENTATION.get(raw.sizes.flip, 1)
            _refuse_too_large(size, media_type)
        # The structure's previews were tried already where it told the full size; LibRaw's own
        # (the largest, copied with an EXIF header made for it) is the last try before a decode.
        ours = () if structure.size is not None else structure.previews()
        preview, reduced = _first_usable(ours, size, orientation) or _first_usable(
            _libraw_preview(raw), size, orientation
        ) or (None, None)  # fmt: skip
        exif = structure.exif if structure.exif is not None else _jpeg_exif(preview)
        if reduced is None:
            reduced = _develop(raw, media_type)  # LibRaw turns it upright itself
    return _photo(size, orientation, exif, reduced)


def _photo(size: tuple[int, int], orientation: int, exif: Image.Exif, reduced: Image.Image) -> Photo:
    width, height = size
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    exif[ORIENTATION_TAG] = orientation  # the RAW's own, which its preview need not repeat
    return Photo(width=width, height=height, exif=exif, xmp=None, iptc=None, reduced=reduced)


def _refuse_too_large(size: tuple[int, int], media_type: formats.MediaType) -> None:
    width, height = size
    if width * height > Image.MAX_IMAGE_PIXELS:
        raise MediaError(
            f"{media_type.label} image is too large to decode safely: it declares more pixels than "
            f"MEDIAIMPORT_MAX_IMAGE_PIXELS allows. Raise that setting to import it if it is genuine "
            f"({width}x{height} pixels)"
        )


def _libraw_preview(raw) -> Iterator[BinaryIO]:
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError):
        return
    if thumb.format == rawpy.ThumbFormat.JPEG:
        yield io.BytesIO(thumb.data)


def _first_usable(
    previews: Iterable[BinaryIO], full: tuple[int, int], orientation: int
) -> tuple[BinaryIO, Image.Image] | None:
    """The first embedded JPEG that shows the whole picture large enough, with its reduced decode
    turned upright; None when there is none such or they are broken (the sensor data is developed
    instead). A preview too large to decode safely is the file's error."""
    for preview in previews:
        with decoding("RAW preview"):
            try:
                with Image.open(preview, formats=["JPEG"]) as im:
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


# The file's own structure ------------------------------------------------------------------------

# Olympus and Panasonic write a TIFF under a magic number of their own.
TIFF_MAGICS = {b"II*\0": "<", b"MM\0*": ">", b"IIRO": "<", b"IIRS": "<", b"MMOR": ">", b"IIU\0": "<"}
STANDARD_MAGICS = {"<": b"II*\0", ">": b"MM\0*"}  # what Pillow reads the EXIF under
TIFF_FAMILIES = {"tiff", "cr2", "orf", "rw2"}
CR3_METADATA_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
IMAGE_WIDTH, IMAGE_LENGTH, COMPRESSION, PHOTOMETRIC, STRIP_OFFSETS = 0x0100, 0x0101, 0x0103, 0x0106, 0x0111
STRIP_BYTE_COUNTS, SUB_IFDS, JPEG_OFFSET, JPEG_LENGTH = 0x0117, 0x014A, 0x0201, 0x0202
ACTIVE_AREA, PIXEL_X, PIXEL_Y = 0xC68D, 0xA002, 0xA003
PANASONIC_JPG_FROM_RAW = 0x002E
PANASONIC_BORDERS = (0x0004, 0x0005, 0x0006, 0x0007)  # the sensor's top, left, bottom, right
JPEG_COMPRESSIONS = {6, 7}
SENSOR_DATA = {32803, 34892}  # colour filter array, linear raw: the sensor's own values
MAX_SUB_IFDS = 8
MAX_ENTRIES = 1000  # a directory declaring more is noise, not a camera's
MAX_PREVIEW_BYTES = 64 * 1024 * 1024
# Cameras write their directories and EXIF (maker notes too) at the start of the file: the first
# read takes this much, which holds the directories, and the EXIF's values up to METADATA_SPAN are
# read on in one piece where they reach further. A first read of 64 KB, for the few hundred bytes a
# directory takes, made a RAW's picture 2 % slower (docs/performance.md).
HEAD_SIZE = 8 * 1024
METADATA_SPAN = 4 * 1024 * 1024
# Bytes per value of each TIFF field type; the integer ones as struct reads them.
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
INTEGERS = {3: "H", 4: "I", 13: "I"}
DAMAGED = (OSError, SyntaxError, ValueError, KeyError, IndexError, TypeError, struct.error)


@dataclass
class Structure:
    """What a RAW's own structure tells. `size` (as stored, before `orientation`) is None where it
    does not say: LibRaw is asked then. `exif` is None for a RAF, whose EXIF is its preview's."""

    exif: Image.Exif | None
    size: tuple[int, int] | None = None
    orientation: int = 1
    places: list[tuple[int, int]] = field(default_factory=list)  # the JPEG previews, smallest first
    reader: "TiffReader | None" = None

    def previews(self) -> Iterator[BinaryIO]:
        """Each preview as a file of its own, read from the RAW's open file where it lies: decoding
        it there costs what decoding a JPEG file does, where a copy in memory costs 5-10 % more
        for a full-size preview (docs/performance.md)."""
        for start, length in self.places:
            yield io.BufferedReader(FileWindow(self.reader.f, start, length))


class FileWindow(io.RawIOBase):
    """`length` bytes of an open file from `start`, read as a file of their own."""

    def __init__(self, f: BinaryIO, start: int, length: int):
        self.fd, self.start, self.length, self.position = f.fileno(), start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        # One positioned read of the file's descriptor: no seek, no copy through its buffer.
        wanted = max(0, min(len(buffer), self.length - self.position))
        got = os.preadv(self.fd, [memoryview(buffer)[:wanted]], self.start + self.position) if wanted else 0
        self.position += got
        return got


def read_structure(f: BinaryIO, media_type: formats.MediaType) -> Structure:
    """The RAW's structure from its open file. Damaged EXIF or directories are treated as absent:
    LibRaw then reads the picture, and the file's other dates still count."""
    try:
        if media_type.family in TIFF_FAMILIES:
            return _tiff_structure(f)
        if media_type.family == "cr3":
            return Structure(_cr3_exif(f))
    except DAMAGED:
        return Structure(Image.Exif())
    return Structure(None)


class TiffReader:
    """A TIFF's directories, read from the bytes already in memory where they lie there, from the
    file otherwise. Only the entries' raw fields are kept: Pillow reads the EXIF itself."""

    def __init__(self, f: BinaryIO, head: bytes, endian: str):
        self.f, self.head, self.endian = f, head, endian

    def read_up_to(self, end: int) -> None:
        """Extends the bytes in memory to the file's first `end`, in one read."""
        if end > len(self.head):
            self.f.seek(len(self.head))
            self.head += self.f.read(end - len(self.head))

    def read(self, start: int, length: int) -> bytes:
        if start + length <= len(self.head):
            return self.head[start : start + length]
        self.f.seek(start)
        return self.f.read(length)

    def directory(self, offset: int) -> "Directory":
        (count,) = struct.unpack(self.endian + "H", self.read(offset, 2))
        if count > MAX_ENTRIES:
            raise ValueError(f"a TIFF directory of {count} entries")
        data = self.read(offset + 2, 12 * count + 4)
        fields = struct.iter_unpack(self.endian + "HHI4s", data[:-4])
        entries = {tag: (kind, n, value) for tag, kind, n, value in fields}
        return Directory(entries, struct.unpack(self.endian + "I", data[-4:])[0], offset + 2 + len(data))

    def place(self, entry: tuple[int, int, bytes]) -> tuple[int, int] | None:
        """(offset, length) of an entry's value where it is not in the entry itself."""
        kind, count, value = entry
        length = count * TYPE_SIZES.get(kind, 1)
        return (struct.unpack(self.endian + "I", value)[0], length) if length > 4 else None

    def integers(self, entry: tuple[int, int, bytes] | None) -> tuple[int, ...]:
        if entry is None or (form := INTEGERS.get(entry[0])) is None or entry[1] > 64:
            return ()
        kind, count, value = entry
        length = count * TYPE_SIZES[kind]
        data = value[:length] if length <= 4 else self.read(struct.unpack(self.endian + "I", value)[0], length)
        return struct.unpack(f"{self.endian}{count}{form}", data) if len(data) == length else ()

    def integer(self, directory: dict, tag: int) -> int | None:
        """A tag's value where it is one integer: what the structure needs of each directory."""
        values = self.integers(directory.get(tag))
        return values[0] if len(values) == 1 else None


@dataclass
class Directory:
    entries: dict[int, tuple[int, int, bytes]]  # {tag: (type, count, value field)}
    next: int  # the next directory's offset, 0 for none
    end: int  # where its entries end in the file


NO_DIRECTORY = Directory({}, 0, 0)


def _tiff_structure(f: BinaryIO) -> Structure:
    head = f.read(HEAD_SIZE)
    endian = TIFF_MAGICS.get(head[:4])
    if endian is None:
        return Structure(Image.Exif())
    reader = TiffReader(f, head, endian)
    first = struct.unpack(endian + "I", head[4:8])[0]
    ifd0 = reader.directory(first)
    exif_ifd, gps_ifd = _linked(reader, ifd0, EXIF_IFD), _linked(reader, ifd0, GPS_IFD)
    sub_ifds = reader.integers(ifd0.entries.get(SUB_IFDS))[:MAX_SUB_IFDS]
    images = [ifd0, *(_directory(reader, offset) for offset in (ifd0.next, *sub_ifds))]
    places = sorted({p for d in images if (p := _jpeg_place(reader, d.entries))}, key=lambda p: p[1])
    if PANASONIC_JPG_FROM_RAW in ifd0.entries and (p := reader.place(ifd0.entries[PANASONIC_JPG_FROM_RAW])):
        places.append(p)
    orientation = reader.integer(ifd0.entries, ORIENTATION_TAG)
    return Structure(
        exif=_exif(reader, first, ifd0, [exif_ifd, gps_ifd, _linked(reader, exif_ifd, INTEROP_IFD)]),
        size=_full_size(reader, ifd0.entries, images, exif_ifd.entries),
        orientation=orientation if orientation in range(1, 9) else 1,
        places=places,
        reader=reader,
    )


def _linked(reader: TiffReader, directory: Directory, tag: int) -> Directory:
    return _directory(reader, reader.integer(directory.entries, tag))


def _directory(reader: TiffReader, offset: int | None) -> Directory:
    """The directory at `offset`; none there, or a damaged one (cut off, pointing anywhere), as an
    empty one: the others still count."""
    try:
        return reader.directory(offset) if offset else NO_DIRECTORY
    except DAMAGED:
        return NO_DIRECTORY


def _exif(reader: TiffReader, first: int, ifd0: Directory, linked: list[Directory]) -> Image.Exif:
    """Pillow's EXIF of the file, read as a JPEG's is: IFD0 now, the Exif and GPS directories when
    asked, from the bytes in memory, when they and their values lie in the file's first
    METADATA_SPAN bytes (as cameras write them). Else read from the file at once, which is then
    closed.

    From memory Pillow is given only the IFD0 tags we read (IFD0_READ), in a directory of their
    own after the bytes it points into: the rest of a RAW's IFD0 (a DNG's colour matrices and
    calibration, the sensor's layout) is for developing the sensor data, and parsing it made the
    RAW's picture cost more than a JPEG of its preview's size (docs/performance.md)."""
    exif = Image.Exif()
    read = {tag: entry for tag, entry in ifd0.entries.items() if tag in IFD0_READ}
    places = [place for d in (read, *(d.entries for d in linked)) for entry in d.values() if (place := reader.place(entry))]
    end = max([d.end for d in linked] + [start + length for start, length in places] + [8])
    if end <= METADATA_SPAN:
        reader.read_up_to(end)
        end += end & 1  # a directory starts on a word boundary
        entries = b"".join(struct.pack(reader.endian + "HHI4s", tag, *read[tag]) for tag in sorted(read))
        directory = struct.pack(f"{reader.endian}H{len(entries)}sI", len(read), entries, 0)
        header = STANDARD_MAGICS[reader.endian] + struct.pack(reader.endian + "I", end)
        exif.load(header + reader.head[8:end].ljust(end - 8, b"\0") + directory)
        return exif
    exif.endian = reader.endian
    exif.load_from_fp(reader.f, first)
    for ifd in (EXIF_IFD, GPS_IFD):
        exif.get_ifd(ifd)
    return exif


def _full_size(reader: TiffReader, ifd0: dict, images: list[Directory], exif_ifd: dict) -> tuple[int, int] | None:
    """The full RAW image's size as the file states it: Panasonic's sensor borders; the sensor
    data's directory, within its ActiveArea where it names one (as DNGs do, and LibRaw reads);
    else the Exif's pixel dimensions (a CR2 names its sensor data's size only in Canon's own
    records). None where it states none of these."""
    top, left, bottom, right = (reader.integer(ifd0, tag) for tag in PANASONIC_BORDERS)
    if None not in (top, left, bottom, right):
        return _positive(right - left, bottom - top)
    def pixels(directory: dict) -> int:
        return (reader.integer(directory, IMAGE_WIDTH) or 0) * (reader.integer(directory, IMAGE_LENGTH) or 0)

    sensor = [d.entries for d in images if reader.integer(d.entries, PHOTOMETRIC) in SENSOR_DATA]
    if sensor:
        largest = max(sensor, key=pixels)
        if len(area := reader.integers(largest.get(ACTIVE_AREA))) == 4:
            return _positive(area[3] - area[1], area[2] - area[0])
        return _positive(reader.integer(largest, IMAGE_WIDTH), reader.integer(largest, IMAGE_LENGTH))
    return _positive(reader.integer(exif_ifd, PIXEL_X), reader.integer(exif_ifd, PIXEL_Y))


def _positive(width: int | None, height: int | None) -> tuple[int, int] | None:
    return (width, height) if width and height and width > 0 and height > 0 else None


def _jpeg_place(reader: TiffReader, directory: dict) -> tuple[int, int] | None:
    """(offset, length) of the JPEG a TIFF directory holds, if it holds a preview as one."""
    if reader.integer(directory, PHOTOMETRIC) in SENSOR_DATA:
        return None
    start, length = reader.integer(directory, JPEG_OFFSET), reader.integer(directory, JPEG_LENGTH)
    if start is None and reader.integer(directory, COMPRESSION) in JPEG_COMPRESSIONS:
        start, length = reader.integer(directory, STRIP_OFFSETS), reader.integer(directory, STRIP_BYTE_COUNTS)
    if start is not None and length is not None and 0 < length <= MAX_PREVIEW_BYTES:
        return start, length
    return None


def _cr3_exif(f: BinaryIO) -> Image.Exif:
    """CMT1 holds IFD0 (camera, DateTime), CMT2 the Exif IFD, CMT4 the GPS IFD, each as a TIFF of
    its own, in the uuid box that opens moov. They are joined into one EXIF as a JPEG carries it."""
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


def _jpeg_exif(preview: BinaryIO | None) -> Image.Exif:
    if preview is None:
        return Image.Exif()
    try:
        preview.seek(0)
        with Image.open(preview, formats=["JPEG"]) as im:
            exif = im.getexif()
            for ifd in (EXIF_IFD, GPS_IFD):
                exif.get_ifd(ifd)
            return exif
    except (OSError, SyntaxError, ValueError):
        return Image.Exif()
