"""Perceptual fingerprints, equal or close for the same picture at another size, quality or format,
and the capture record that tells apart two shots that look alike.

A fingerprint is three 64-bit image hashes of the picture in grey, written as 48 hex digits:
the DCT hash (phash), the gradient hash (dhash) and the mean hash (ahash). Each alone lets unrelated
photos collide (the moon in a black sky has the same phash as a grey wall with a light patch); in
the evaluation set, their sum keeps unrelated photos 46 bits apart or more, and 99 % of copies
within 26 bits of each other. docs/duplicates.md has the measurements behind this choice.
"""

import re

import imagehash
import numpy as np
from PIL import Image, ImageStat

HASH_BITS = 64
FINGERPRINT_LENGTH = 3 * HASH_BITS // 4

# phash first reduces the picture to 32x32 grey (its hash size 8 times its high-frequency factor
# 4). Done here once, that reduction also serves to measure the contrast, and phash of it is phash
# of the picture: resizing to the size a picture already has is a copy.
PHASH_REDUCTION = (32, 32)

# Below this many pixels on the short side the hashes' 32x32 and 9x8 grids would be filled by
# upscaling: an 8x8 placeholder (the ExifTool samples) or an icon is not a picture to compare.
MIN_SIDE = 32

# A picture whose grey levels spread less than this (standard deviation, 0-255 scale, at 32x32) has
# no structure for the hashes to read: their bits are set by sensor and JPEG noise, so every black
# frame, lens-cap shot or blank page would match every other.
MIN_CONTRAST = 2.0


def fingerprint(image: Image.Image) -> str | None:
    """The fingerprint of a decoded picture (EXIF orientation applied; mode RGB, RGBA, L or P), or
    None when it is too small or too featureless to be told apart from other pictures."""
    if min(image.size) < MIN_SIDE:
        return None
    grey = flattened(image).convert("L")
    reduced = grey.resize(PHASH_REDUCTION, Image.Resampling.LANCZOS)
    if ImageStat.Stat(reduced).stddev[0] < MIN_CONTRAST:
        return None
    return f"{imagehash.phash(reduced)}{imagehash.dhash(grey)}{imagehash.average_hash(grey)}"


# The closer look (below) compares pictures in grey at this size: fine enough to keep the small
# changes of light and framing between two frames of a burst, which the hashes' one bit per cell
# rounds away, and coarse enough that a messenger's resizing and recompression average out.
DETAIL_SIZE = (32, 32)


def detail(image: Image.Image) -> bytes:
    """The picture in grey at DETAIL_SIZE, one byte per pixel: what the closer look compares."""
    return flattened(image).convert("L").resize(DETAIL_SIZE, Image.Resampling.LANCZOS).tobytes()


def detail_difference(a: bytes, b: bytes) -> float:
    """How far apart two pictures' details are: the mean difference of their grey levels (0-255)."""
    return float(np.abs(np.frombuffer(a, np.uint8).astype(np.int16) - np.frombuffer(b, np.uint8)).mean())


def distance(a: str, b: str) -> int:
    """How many of the fingerprints' bits differ: 0 for the same picture decoded the same way."""
    if len(a) != len(b):
        raise ValueError(f"Fingerprints of different lengths cannot be compared: {len(a)} and {len(b)}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def flattened(image: Image.Image) -> Image.Image:
    """The picture as a viewer shows it: transparent parts over white (as editors export to JPEG)
    rather than whatever colour the transparent pixels happen to hold."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


MAKE = 0x010F
MODEL = 0x0110
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
SUBSEC_TIME_ORIGINAL = 0x9291
SHOT_MAX_LENGTH = 200


def shot_identity(exif: Image.Exif | None) -> str | None:
    """The capture record of the shot: "camera|original time|sub-seconds", or None when the file
    carries no original time (a messenger copy, a screenshot, a scan).

    Two files whose records differ are different shots however alike they look (a burst, two
    exposures of one scene); a copy that keeps its record, like an export or an edit, keeps it equal.
    """
    if exif is None:
        return None
    exif_ifd = exif.get_ifd(EXIF_IFD)
    taken = _text(exif_ifd.get(DATE_TIME_ORIGINAL))
    if not taken.strip("0: "):  # absent, blank or "0000:00:00 00:00:00": the camera's clock was unset
        return None
    camera = camera_name(exif.get(MAKE), exif.get(MODEL))
    # Sub-seconds are a decimal fraction: "50" and "500" are the same instant.
    subsec = _text(exif_ifd.get(SUBSEC_TIME_ORIGINAL)).rstrip("0")
    # The times are 19 and a few characters long; a damaged tag is cut so the record still fits.
    record = f"|{taken[:40]}|{subsec[:20]}"
    return camera[: SHOT_MAX_LENGTH - len(record)] + record


def camera_name(make: object, model: object) -> str:
    """"Canon EOS RP" from make "Canon" and model "Canon EOS RP", "NIKON E775" from "NIKON" and
    "E775": the make once, however the camera split its name between the two tags."""
    make, model = _text(make), _text(model)
    if make and model.lower().startswith(make.split()[0].lower()):
        return model[:SHOT_MAX_LENGTH]
    return " ".join(part for part in (make, model) if part)[:SHOT_MAX_LENGTH]


def different_shots(a: str | None, b: str | None) -> bool:
    """Whether two capture records belong to different shots: their original times differ, or
    their cameras or sub-seconds do where both records have them (some editors and apps drop those
    tags and keep the time)."""
    if not a or not b:
        return False
    camera_a, taken_a, subsec_a = a.rsplit("|", 2)
    camera_b, taken_b, subsec_b = b.rsplit("|", 2)
    return taken_a != taken_b or _both_and_differ(camera_a, camera_b) or _both_and_differ(subsec_a, subsec_b)


def _both_and_differ(a: str, b: str) -> bool:
    return bool(a and b and a != b)


def _text(value: object) -> str:
    """An EXIF ASCII value as clean text: cameras pad with NULs and spaces, some store bytes."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return re.sub(r"\s+", " ", str(value).replace("\x00", " ")).strip()
