import imagehash
import pytest
from PIL import Image, ImageOps

from benchmarks.evaluation_set import reduced_decode
from jobs.pipeline.near_duplicates import MAX_DISTANCE
from jobs.pipeline.perceptual import (
    DATE_TIME_ORIGINAL,
    EXIF_IFD,
    FINGERPRINT_LENGTH,
    MAKE,
    MODEL,
    SUBSEC_TIME_ORIGINAL,
    camera_name,
    different_shots,
    distance,
    fingerprint,
    shot_identity,
)

PHOTO = "digicam/Canon/EOS RP/_MG_0636.JPG"
BURST = ("digicam/Apple/iPhone XR/IMG_3580.JPG", "digicam/Apple/iPhone XR/IMG_3581.JPG")


@pytest.fixture
def photo(copy_media, tmp_path):
    return copy_media(PHOTO, single=True)


def fingerprint_of(path):
    image, _ = reduced_decode(path)
    return fingerprint(image)


def test_a_photo_has_a_fingerprint_of_hex_digits(photo):
    value = fingerprint_of(photo)
    assert len(value) == FINGERPRINT_LENGTH == 48
    int(value, 16)


@pytest.mark.parametrize("name", [PHOTO, *BURST])
def test_the_fingerprint_is_the_three_hashes_of_the_whole_picture(copy_media, name):
    # phash's 32x32 reduction is shared with the contrast measure: fingerprints must stay those
    # imagehash computes from the picture itself, or files imported before would no longer match.
    image, _ = reduced_decode(copy_media(name, single=True))
    grey = image.convert("L")
    hashes = (imagehash.phash(grey), imagehash.dhash(grey), imagehash.average_hash(grey))
    assert fingerprint(image) == "".join(str(h) for h in hashes)


def test_a_messenger_copy_is_close_and_another_photo_is_not(copy_media, photo, tmp_path):
    with Image.open(photo) as image:
        image.resize((image.width // 4, image.height // 4)).save(tmp_path / "sent.jpg", quality=40)
    other = copy_media("exif-samples/jpg/hdr/canon_hdr_NO.jpg", single=True)
    original = fingerprint_of(photo)
    assert distance(original, fingerprint_of(tmp_path / "sent.jpg")) <= 4
    assert distance(original, fingerprint_of(other)) > 2 * MAX_DISTANCE


def test_a_copy_stored_rotated_with_its_orientation_tag_matches(photo, tmp_path):
    # Orientation 6 asks viewers to turn the stored pixels 90 degrees clockwise, so pixels turned
    # 90 degrees anticlockwise show the original picture.
    with Image.open(photo) as image:
        exif = Image.Exif()
        exif[0x0112] = 6
        image.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "rotated.jpg", quality=90, exif=exif)
    rotated = fingerprint_of(tmp_path / "rotated.jpg")
    assert distance(fingerprint_of(photo), rotated) <= 4
    with Image.open(tmp_path / "rotated.jpg") as stored:
        assert distance(fingerprint(stored), rotated) > MAX_DISTANCE, "orientation must matter"


def test_png_gif_and_heic_copies_are_close(photo, tmp_path):
    with Image.open(photo) as image:
        image = ImageOps.exif_transpose(image).reduce(4)
        image.save(tmp_path / "copy.png")
        image.convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "copy.gif")
        image.save(tmp_path / "copy.heic", quality=50)
    original = fingerprint_of(photo)
    for name in ("copy.png", "copy.gif", "copy.heic"):
        assert distance(original, fingerprint_of(tmp_path / name)) <= 8, name


def test_transparent_parts_count_as_white(tmp_path):
    on_white = Image.new("RGB", (200, 200), "white")
    on_white.paste((200, 30, 30), (40, 40, 120, 160))
    # The same drawing over transparent black pixels.
    transparent = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    transparent.paste((200, 30, 30, 255), (40, 40, 120, 160))
    transparent.save(tmp_path / "transparent.png")
    with Image.open(tmp_path / "transparent.png") as reopened:
        assert fingerprint(reopened) == fingerprint(on_white)
        assert fingerprint(reopened) != fingerprint(reopened.convert("RGB")), "black would be another picture"


def test_tiny_pictures_get_no_fingerprint(copy_media, tmp_path):
    placeholder = copy_media("exiftool/Canon.jpg", single=True)  # 8x8 px
    assert fingerprint_of(placeholder) is None
    with Image.open(copy_media(PHOTO, single=True)) as image:
        assert fingerprint(image.resize((60, 31))) is None
        assert fingerprint(image.resize((48, 32))) is not None


def test_featureless_pictures_get_no_fingerprint(copy_media, tmp_path):
    black = copy_media("drewnoakes/jpg/Sony DSC-P12.jpg", single=True)  # a black frame
    assert fingerprint_of(black) is None
    assert fingerprint(Image.new("RGB", (640, 480), (128, 128, 128))) is None


def test_distance_counts_differing_bits():
    zero = "0" * 48
    assert distance(zero, zero) == 0
    assert distance(zero, "f" + "0" * 47) == 4
    assert distance("f" * 48, zero) == 192
    with pytest.raises(ValueError, match="different lengths"):
        distance(zero, "0" * 16)


def read_shot(path):
    with Image.open(path) as image:
        return shot_identity(image.getexif())


def test_burst_shots_have_different_capture_records(copy_media, tmp_path):
    first, second = (read_shot(copy_media(path, single=True)) for path in BURST)
    assert first == "Apple iPhone XR|2020:04:17 10:03:42|144"
    assert second == "Apple iPhone XR|2020:04:17 10:03:42|262"
    assert different_shots(first, second)


def test_an_export_keeps_the_capture_record(copy_media, tmp_path):
    original = copy_media(BURST[0], single=True)
    with Image.open(original) as image:
        image.reduce(8).save(tmp_path / "export.heic", exif=image.getexif())
        image.reduce(8).save(tmp_path / "sent.jpg")
    assert read_shot(tmp_path / "export.heic") == read_shot(original)
    assert read_shot(tmp_path / "sent.jpg") is None


def exif_with(**tags):
    exif = Image.Exif()
    exif_ifd = exif.get_ifd(EXIF_IFD)
    for name, value in tags.items():
        tag = {"make": MAKE, "model": MODEL, "taken": DATE_TIME_ORIGINAL, "subsec": SUBSEC_TIME_ORIGINAL}[name]
        (exif if tag in (MAKE, MODEL) else exif_ifd)[tag] = value
    return exif


def test_no_original_time_means_no_capture_record():
    assert shot_identity(None) is None
    assert shot_identity(Image.Exif()) is None
    assert shot_identity(exif_with(make="Canon", model="EOS")) is None
    assert shot_identity(exif_with(make="Nikon", taken="0000:00:00 00:00:00")) is None
    assert shot_identity(exif_with(make="Nikon", taken="    :  :     :  :  ")) is None


def test_capture_records_are_clean_and_short():
    padded = exif_with(make=b"NIKON\x00\x00", model="E775   ", taken="2001:07:21 11:07:17\x00", subsec="500")
    assert shot_identity(padded) == "NIKON E775|2001:07:21 11:07:17|5"
    long = shot_identity(exif_with(model="x" * 300, taken="2001:07:21 11:07:17", subsec="12"))
    assert len(long) == 200 and long.endswith("|2001:07:21 11:07:17|12")
    damaged = shot_identity(exif_with(make="Canon", taken="2001:07:21 11:07:17" + "?" * 300, subsec="9" * 300))
    assert len(damaged) <= 200 and damaged.startswith("Canon|2001:07:21 11:07:17")


def test_records_missing_a_part_match_any():
    full = "Apple iPhone XR|2020:04:17 10:03:42|144"
    assert not different_shots(full, "Apple iPhone XR|2020:04:17 10:03:42|")
    assert not different_shots(full, "|2020:04:17 10:03:42|144")
    assert not different_shots(full, None)
    assert not different_shots(full, "")
    assert different_shots(full, "Apple iPhone XR|2020:04:17 10:03:43|")
    assert different_shots(full, "Canon EOS RP|2020:04:17 10:03:42|144")


@pytest.mark.parametrize(
    "make, model, name",
    [
        ("Canon", "Canon EOS RP", "Canon EOS RP"),
        ("NIKON\x00  ", "E775 ", "NIKON E775"),
        (b"Apple", b"iPhone XR", "Apple iPhone XR"),
        ("", "iPhone XR", "iPhone XR"),
        (None, None, ""),
    ],
)
def test_a_camera_is_named_with_its_make_once(make, model, name):
    assert camera_name(make, model) == name
