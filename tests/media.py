"""Real media files of the formats the corpus lacks, made the way cameras and tools make them:
DNG (pidng writes the sensor data, exiftool the EXIF, a JPEG preview as cameras embed one), NEF,
ARW and CR2 laid out as those cameras lay them out,
videos in every container (PyAV, which bundles FFmpeg's muxers), HEIF image sequences, 16-bit
TIFF. Every picture is `picture()`: red in its top-left corner and blue in its bottom-right, so
a thumbnail shows whether it is the right way up."""

import io
import struct
import subprocess
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

RED, BLUE = (255, 0, 0), (0, 0, 255)


def picture(width: int = 600, height: int = 400) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    image.paste(RED, (0, 0, width // 3, height // 4))
    image.paste(BLUE, (width * 2 // 3, height * 3 // 4, width, height))
    image.paste((0, 128, 0), (width // 3, height // 3, width // 2, height // 2))  # detail for the fingerprint
    return image


def is_upright(image: Image.Image) -> bool:
    """Red top-left and blue bottom-right, within what lossy compression changes."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    return _near(rgb.getpixel((w // 12, h // 16)), RED) and _near(rgb.getpixel((w - 1 - w // 12, h - 1 - h // 16)), BLUE)


def _near(found, wanted, tolerance: int = 60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(found, wanted))


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def exiftool(path: Path, *assignments: str) -> None:
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", *assignments, str(path)], check=True)


# TIFF -------------------------------------------------------------------------------------------


def tiff_16bit(path: Path, image: Image.Image) -> Path:
    """An uncompressed 16-bit-per-sample RGB TIFF, as film scanners write (Pillow writes none)."""
    pixels = np.asarray(image.convert("RGB"), dtype="<u2") * 257
    height, width = pixels.shape[:2]
    data = pixels.tobytes()
    bits_at, data_at = 8 + 2 + 9 * 12 + 4, 8 + 2 + 9 * 12 + 4 + 6
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 3, bits_at), (259, 3, 1, 1), (262, 3, 1, 2),
        (273, 4, 1, data_at), (277, 3, 1, 3), (278, 4, 1, height), (279, 4, 1, len(data)),
    ]  # fmt: skip
    bits = struct.pack("<HHH", 16, 16, 16)
    path.write_bytes(b"II*\0" + struct.pack("<I", 8) + tiff_directory("<", entries) + bits + data)
    return path


def tiff_directory(endian: str, entries: list[tuple[int, int, int, int]]) -> bytes:
    """A TIFF directory of (tag, type, count, value or offset) entries, with no next directory."""
    out = struct.pack(endian + "H", len(entries))
    for tag, kind, count, value in entries:
        inline = struct.pack(endian + "HH", value, 0) if kind == 3 and count == 1 else struct.pack(endian + "I", value)
        out += struct.pack(endian + "HHI", tag, kind, count) + inline
    return out + struct.pack(endian + "I", 0)


# RAW --------------------------------------------------------------------------------------------


def dng(path: Path, image: Image.Image, *, orientation: int = 1, preview: bytes | None = None, tags=()) -> Path:
    """A DNG of `image` as a sensor saw it (a 12-bit RGGB mosaic), with EXIF written by exiftool
    and, when given, a JPEG preview stored as a second image as cameras do."""
    from pidng.core import RAW2DNG, DNGTags, Tag
    from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, PhotometricInterpretation

    sensor = mosaic(image)
    height, width = sensor.shape
    identity = [[1, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [0, 1], [0, 1], [1, 1]]
    tags_ = DNGTags()
    for tag, value in [
        (Tag.ImageWidth, width), (Tag.ImageLength, height), (Tag.TileWidth, width), (Tag.TileLength, height),
        (Tag.Orientation, orientation), (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
        (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 12), (Tag.CFARepeatPatternDim, [2, 2]),
        (Tag.CFAPattern, CFAPattern.RGGB), (Tag.BlackLevel, 0), (Tag.WhiteLevel, 4095), (Tag.ColorMatrix1, identity),
        (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65), (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]),
        (Tag.Make, "Testcam"), (Tag.Model, "Testcam R1"), (Tag.DNGVersion, DNGVersion.V1_4),
    ]:  # fmt: skip
        tags_.set(tag, value)
    writer = RAW2DNG()
    writer.options(tags_, path=str(path.parent), compress=False)
    writer.convert(sensor, filename=path.stem)
    written = path.with_suffix(".dng")
    if tags:
        exiftool(written, *tags)
    if preview is not None:
        written.write_bytes(with_preview(written.read_bytes(), preview))
    return written.rename(path) if written != path else path


def with_preview(tiff: bytes, preview: bytes) -> bytes:
    """The TIFF-structured RAW with a JPEG preview appended as its second image (IFD1): exiftool
    replaces a RAW's preview but never adds one."""
    endian = "<" if tiff[:2] == b"II" else ">"
    (first,) = struct.unpack(endian + "I", tiff[4:8])
    (count,) = struct.unpack(endian + "H", tiff[first : first + 2])
    next_pointer = first + 2 + 12 * count
    try:
        width, height = Image.open(io.BytesIO(preview)).size
    except OSError:
        width, height = 600, 400  # a broken preview still claims a size
    data = bytearray(tiff) + b"\0" * (len(tiff) & 1)
    preview_at = len(data)
    data += preview + b"\0" * (len(preview) & 1)
    bits_at = len(data)
    data += struct.pack(endian + "HHH", 8, 8, 8)
    entries = [
        (254, 4, 1, 1), (256, 4, 1, width), (257, 4, 1, height), (258, 3, 3, bits_at), (259, 3, 1, 7),
        (262, 3, 1, 6), (273, 4, 1, preview_at), (277, 3, 1, 3), (278, 4, 1, height), (279, 4, 1, len(preview)),
    ]  # fmt: skip
    data[next_pointer : next_pointer + 4] = struct.pack(endian + "I", len(data))
    return bytes(data + tiff_directory(endian, entries))


# Where each maker keeps its previews and sensor data, as exiftool shows real files: Nikon a 160x120
# RGB thumbnail in IFD0, the JPEG and the sensor data in SubIFDs; Sony the JPEG named in IFD0, the
# sensor data in a SubIFD; Canon the JPEG as IFD0's strip, a 160x120 JPEG in IFD1, and the sensor
# data's size only in the Exif (its sensor data, lossless JPEG slices in IFD3, is left out here).
CAMERAS = {
    "NEF": ("NIKON CORPORATION", "NIKON D850"),
    "ARW": ("SONY", "ILCE-7M3"),
    "CR2": ("Canon", "Canon EOS 5D Mark IV"),
}


def camera_raw(path: Path, image: Image.Image, *, preview: bytes, orientation: int = 1, tags=()) -> Path:
    """A RAW of the kind `path`'s suffix names (NEF, ARW, CR2) with its structure as that maker's
    cameras write it, `image` as the sensor saw it (a 16-bit RGGB mosaic), the JPEG `preview` and
    EXIF written by exiftool."""
    kind = path.suffix.upper().lstrip(".")
    make, model = CAMERAS[kind]
    width, height = image.size
    sensor = mosaic(image).astype("<u2").tobytes()
    thumbnail = image.convert("RGB").resize((160, 120))
    raw_thumbnail, jpeg_thumbnail = thumbnail.tobytes(), jpeg(thumbnail)

    def directories(at: dict[str, int]) -> list[list[tuple]]:
        camera = [(0x010F, 2, make.encode() + b"\0"), (0x0110, 2, model.encode() + b"\0"), (0x0112, 3, (orientation,))]
        jpeg_named = [(0x0201, 4, (at["preview"],)), (0x0202, 4, (len(preview),))]
        cfa = [
            (0x00FE, 4, (0,)), (0x0100, 4, (width,)), (0x0101, 4, (height,)), (0x0102, 3, (16,)), (0x0103, 3, (1,)),
            (0x0106, 3, (32803,)), (0x0111, 4, (at["sensor"],)), (0x0115, 3, (1,)), (0x0116, 4, (height,)),
            (0x0117, 4, (len(sensor),)), (0x828D, 3, (2, 2)), (0x828E, 1, bytes([0, 1, 1, 2])),
        ]  # fmt: skip
        if kind == "NEF":
            ifd0 = [
                (0x00FE, 4, (1,)), (0x0100, 4, (160,)), (0x0101, 4, (120,)), (0x0102, 3, (8, 8, 8)), (0x0103, 3, (1,)),
                (0x0106, 3, (2,)), (0x0111, 4, (at["thumbnail"],)), (0x0115, 3, (3,)), (0x0116, 4, (120,)),
                (0x0117, 4, (len(raw_thumbnail),)), (0x014A, 4, (at["ifd 1"], at["ifd 2"])), *camera,
            ]  # fmt: skip
            return [ifd0, [(0x00FE, 4, (1,)), (0x0103, 3, (6,)), *jpeg_named], cfa]
        if kind == "ARW":
            return [[(0x00FE, 4, (1,)), (0x0103, 3, (6,)), (0x014A, 4, (at["ifd 1"],)), *jpeg_named, *camera], cfa]
        strip = [(0x0103, 3, (6,)), (0x0111, 4, (at["preview"],)), (0x0117, 4, (len(preview),))]
        thumbnail_named = [(0x0201, 4, (at["thumbnail"],)), (0x0202, 4, (len(jpeg_thumbnail),))]
        return [[*strip, *camera], [(0x0103, 3, (6,)), *thumbnail_named]]

    # The directories first, as cameras write them, then the pictures: the directories' lengths
    # do not depend on the offsets they hold, so they are laid out once with zeros.
    blobs = {"thumbnail": jpeg_thumbnail if kind == "CR2" else raw_thumbnail, "preview": preview, "sensor": sensor}
    at = dict.fromkeys(["ifd 1", "ifd 2", *blobs], 0)
    lengths = [len(tiff_ifd("<", d, 0)) for d in directories(at)]
    end = 16 if kind == "CR2" else 8  # Canon's mark and the raw IFD's offset follow the header
    for n, length in enumerate(lengths):
        at[f"ifd {n}"], end = end, end + length
    for name, blob in blobs.items():
        at[name], end = end, end + len(blob)
    laid = [tiff_ifd("<", d, at[f"ifd {n}"]) for n, d in enumerate(directories(at))]
    if kind == "CR2":  # IFD0 leads on to IFD1
        laid[0] = tiff_ifd("<", directories(at)[0], at["ifd 0"], next_at=at["ifd 1"])
    header = b"II*\0" + struct.pack("<I", at["ifd 0"]) + (b"CR\x02\0\0\0\0\0" if kind == "CR2" else b"")
    path.write_bytes(header + b"".join(laid) + b"".join(blobs.values()))
    if tags:
        exiftool(path, *tags)
    return path


def preview_pointing_outside(path: Path, *, at_offset: bool) -> Path:
    """A hostile copy of a NEF or ARW: its preview named at an offset past the file's end, or
    with a length that runs past it."""
    data = bytearray(path.read_bytes())
    entry = data.index(struct.pack("<HHI", 0x0201 if at_offset else 0x0202, 4, 1)) + 8
    data[entry : entry + 4] = struct.pack("<I", len(data) + 1000 if at_offset else len(data))
    path.write_bytes(bytes(data))
    return path


def tiff_ifd(endian: str, entries: list[tuple], at: int, next_at: int = 0) -> bytes:
    """A TIFF directory at offset `at` of (tag, type, values) entries, values a tuple of numbers
    or bytes, the values longer than 4 bytes after it, leading on to the directory at `next_at`."""
    entries = sorted(entries)
    data_at, table, data = at + 2 + 12 * len(entries) + 4, b"", b""
    for tag, kind, values in entries:
        packed = values if isinstance(values, bytes) else struct.pack(f"{endian}{len(values)}{'?BxHI'[kind]}", *values)
        if len(packed) <= 4:
            field = packed.ljust(4, b"\0")
        else:
            field, data = struct.pack(endian + "I", data_at + len(data)), data + packed + b"\0" * (len(packed) & 1)
        table += struct.pack(endian + "HHI", tag, kind, len(values)) + field
    return struct.pack(endian + "H", len(entries)) + table + struct.pack(endian + "I", next_at) + data


def mosaic(image: Image.Image) -> np.ndarray:
    """`image` as an RGGB sensor sees it, 12 bits a value."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint16) * 16
    height, width = rgb.shape[:2]
    out = np.empty((height, width), np.uint16)
    out[0::2, 0::2] = rgb[0::2, 0::2, 0]
    out[0::2, 1::2] = rgb[0::2, 1::2, 1]
    out[1::2, 0::2] = rgb[1::2, 0::2, 1]
    out[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return out


# Video ------------------------------------------------------------------------------------------


def video(
    path: Path,
    *,
    format: str,
    codec: str,
    image: Image.Image,
    created: datetime | None = None,
    frames: int = 5,
    options: dict | None = None,
    codec_tag: str | None = None,
) -> Path:
    """A short video of `image` (the first frame, the others moved along), written by FFmpeg's own
    muxer for `format`, with the container's creation time where it holds one."""
    with av.open(str(path), "w", format=format, options=options or {}) as container:
        if created is not None:
            container.metadata["creation_time"] = created.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        stream = container.add_stream(codec, rate=Fraction(25))
        stream.width, stream.height = image.size
        stream.pix_fmt = "yuv420p"
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=none"}
        if codec_tag:
            stream.codec_tag = codec_tag
        for n in range(frames):
            frame = av.VideoFrame.from_image(image if n == 0 else image.rotate(n * 10))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
