"""HEIC photos: the thumbnail and fingerprint come from the embedded thumbnail when the file carries
one large enough, while the size and EXIF still come from the main image."""

from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageOps

from jobs.pipeline.analysis import analyse
from jobs.pipeline.images import REDUCED_SIZE, open_photo
from jobs.pipeline.near_duplicates import MAX_DISTANCE
from jobs.pipeline.perceptual import FINGERPRINT_LENGTH, distance, fingerprint

# Phone photos that carry a 320x240 (iPhone) or 512x384 (Samsung, older iPhone) thumbnail.
WITH_THUMBNAIL = [
    "digicam/Apple/iPhone XR/IMG_3589.HEIC",
    "digicam/Apple/iPhone 13 Pro/IMG_8564.HEIC",  # portrait: stored landscape, rotated on display
    "exif-samples/heic/mobile/iphone_13_pro_max.HEIC",
    "drewnoakes/heic/Issue 487.heic",
    "immich/formats/motionphoto/samsung-one-ui-6.heic",
]
# No embedded thumbnail: the whole HEVC image is decoded.
WITHOUT_THUMBNAIL = "drewnoakes/heic/IMG_2927.HEIC"

DATE_TIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769


def full_decode(path) -> Image.Image:
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im.convert("RGB"))


@pytest.mark.parametrize("name", WITH_THUMBNAIL)
def test_a_heic_with_a_thumbnail_is_not_decoded_whole(name, copy_media, manifest):
    path = copy_media(name, single=True)
    full = full_decode(path)

    photo = open_photo(path)

    # The true size, as shown: the main image's, not the thumbnail's.
    assert (photo.width, photo.height) == full.size
    row = manifest[name]
    assert sorted((photo.width, photo.height)) == sorted((int(row["ImageWidth"]), int(row["ImageHeight"])))
    # The picture came from the embedded thumbnail: the long side reaches the thumbnail size, far
    # below the full image's, in the same orientation.
    assert REDUCED_SIZE <= max(photo.reduced.size) <= 512
    assert (photo.reduced.width > photo.reduced.height) == (full.width > full.height)
    # The EXIF is the main image's.
    taken = photo.exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL)
    assert taken == row["DateTimeOriginal"]
    # The same picture to the eye as the full decode.
    # The thumbnail's fingerprint is the full picture's, to well within what groups near-duplicates.
    assert distance(fingerprint(photo.reduced), fingerprint(full)) <= MAX_DISTANCE // 4


@pytest.mark.parametrize("name", [WITH_THUMBNAIL[0], WITH_THUMBNAIL[1], WITHOUT_THUMBNAIL])
def test_analysis_gives_a_small_thumbnail_that_decodes(name, copy_media):
    path = copy_media(name, single=True)

    analysis = analyse(path, name=path.name, zone=ZoneInfo("UTC"), sidecars=False)

    assert analysis.error == ""
    assert analysis.mime_type == "image/heic"
    assert (analysis.width, analysis.height) == full_decode(path).size
    with Image.open(_bytes_file(analysis.thumbnail, path.parent / "thumb.webp")) as thumbnail:
        thumbnail.load()
        assert thumbnail.format == "WEBP"
        assert max(thumbnail.size) == 320
        assert (thumbnail.width > thumbnail.height) == (analysis.width > analysis.height)
    assert len(analysis.fingerprint) == FINGERPRINT_LENGTH  # every hash, in hex


def test_a_heic_without_a_thumbnail_is_decoded_whole(copy_media):
    path = copy_media(WITHOUT_THUMBNAIL, single=True)

    photo = open_photo(path)

    assert photo.reduced.size == (photo.width, photo.height) == (3024, 4032)


def _bytes_file(data: bytes, path):
    path.write_bytes(data)
    return path
