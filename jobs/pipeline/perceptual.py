"""Perceptual fingerprints: equal or close for the same picture at another size or quality."""

import imagehash
from PIL import Image


def fingerprint(image: Image.Image) -> str:
    return str(imagehash.phash(image.convert("L")))


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def shot_identity(exif: Image.Exif | None) -> str | None:
    return None
