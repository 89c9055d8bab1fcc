"""One Pillow open per photo: what the file says (EXIF, XMP, size) and a reduced decode that serves
both the thumbnail and the perceptual hash."""

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import Image

from jobs.pipeline.errors import MediaError, in_words
from jobs.pipeline.timestamps import image_iptc

# Only these decoders may ever run on an imported file (RAW files go through jobs.pipeline.raw).
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "HEIF", "TIFF", "WEBP", "AVIF")
pillow_heif.register_heif_opener()  # Pillow's "HEIF" format

# The reduced decode is at least this large on its long side: the thumbnail's size.
REDUCED_SIZE = 320


@dataclass
class Photo:
    width: int  # as shown, after EXIF orientation
    height: int
    exif: Image.Exif
    xmp: bytes | None
    iptc: object  # Pillow's IPTC records, where editors keep a capture time with its offset
    reduced: Image.Image  # oriented, long side >= REDUCED_SIZE where the original is that large


def open_photo(path: Path) -> Photo:
    """Read one photo. Raises MediaError with a message a person understands."""
    with decoding():
        with Image.open(path, formats=PILLOW_FORMATS) as im:
            return _read(im)


@contextmanager
def decoding(what: str = "Image"):
    """Pillow's failures as MediaErrors that say what is wrong with the picture."""
    with warnings.catch_warnings():
        # A decompression bomb warning (between MAX_IMAGE_PIXELS and twice that) becomes an error,
        # so a file declaring absurd dimensions is refused before any pixel is decoded.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise MediaError(
                f"{what} is too large to decode safely: it declares more pixels than "
                f"MEDIAIMPORT_MAX_IMAGE_PIXELS allows. Raise that setting to import it if it is genuine ({e})"
            ) from e
        except Image.UnidentifiedImageError as e:
            # The first bytes already said which format it is: the rest does not follow. (Pillow's
            # message is only the file's path.)
            raise MediaError(in_words(what, "no decoder could read past its header")) from e
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise MediaError(in_words(what, e)) from e


def _read(im: Image.Image) -> Photo:
    exif = im.getexif()
    xmp = im.info.get("xmp")
    width, height = im.size
    # Pillow turns a TIFF upright itself: its size is already as shown, loading turns the pixels.
    orientation = None if im.format == "TIFF" else exif.get(ORIENTATION_TAG)
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    return Photo(
        width=width,
        height=height,
        exif=exif,
        xmp=xmp if isinstance(xmp, bytes) else None,
        iptc=image_iptc(im),
        reduced=reduced_copy(im, orientation),
    )


def reduced_copy(im: Image.Image, orientation: int | None) -> Image.Image:
    """The picture as shown (turned by its EXIF orientation), decoded no larger than needed.

    A reduced decode for a fraction of the cost: JPEG decodes at 1/2, 1/4 or 1/8 scale, HEIC
    decodes the smallest embedded thumbnail that is a true scaled copy (same orientation, crop and
    colours) instead of the full HEVC image; the other formats ignore it. Only the long side must
    reach REDUCED_SIZE: a phone's 320x240 HEIC thumbnail serves, which (320, 320) would refuse.
    A multi-page TIFF, an animated WebP or GIF gives its first picture, the one Pillow opens on."""
    im.draft("RGB", (REDUCED_SIZE, 1) if im.width >= im.height else (1, REDUCED_SIZE))
    reduced = _displayable(im)
    if (transpose := TRANSPOSES.get(orientation)) is not None:
        reduced = reduced.transpose(transpose)
    return reduced


ORIENTATION_TAG = 0x0112
ROTATED_ORIENTATIONS = {5, 6, 7, 8}
# ImageOps.exif_transpose's turns, applied with the EXIF already read: that function parses the
# EXIF block twice more and writes it back without the tag, for a picture never saved with it.
TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _displayable(im: Image.Image) -> Image.Image:
    """RGB, or RGBA where the picture has transparency; deep (16-bit, float) modes scaled down."""
    if im.mode in ("RGB", "RGBA"):
        return im.copy() if im.mode == "RGBA" else im.convert("RGB")
    if im.mode in ("P", "PA", "LA") or "transparency" in im.info:
        return im.convert("RGBA")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return im.point(lambda v: v / 256).convert("L").convert("RGB")
    return im.convert("RGB")
