"""The picture data's own hash: the same for copies that differ only in metadata, made here with
exiftool as people make them, and different for any other picture."""

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from jobs.pipeline.picture_identity import heif_identity, jpeg_identity, photo_identity, pixel_identity

JPEG = "digicam/Apple/iPhone XR/IMG_3580.JPG"
NEXT_FRAME = "digicam/Apple/iPhone XR/IMG_3581.JPG"
HEIC = "drewnoakes/heic/IMG_2927.HEIC"
EDITS = {
    "zone-fixed": ["-AllDates+=1"],
    "stripped": ["-all="],
    "gps": ["-GPSLatitude=48.137", "-GPSLatitudeRef=N", "-GPSLongitude=11.575", "-GPSLongitudeRef=E"],
}


def exiftool_copies(original: Path) -> dict[str, Path]:
    """The original and a copy per edit, each edit written by exiftool into its own copy."""
    copies = {"original": original}
    for name, arguments in EDITS.items():
        copy = original.with_name(f"{name}{original.suffix}")
        shutil.copyfile(original, copy)
        subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", *arguments, str(copy)], check=True)
        copies[name] = copy
    return copies


def identity(path: Path) -> str | None:
    return jpeg_identity(path.read_bytes()) if path.suffix.lower() == ".jpg" else heif_identity(path)


@pytest.mark.parametrize("relative", [JPEG, HEIC])
def test_metadata_edits_keep_the_identity_and_change_the_bytes(copy_media, relative):
    copies = exiftool_copies(copy_media(relative, single=True))
    contents = {path.read_bytes() for path in copies.values()}
    identities = {identity(path) for path in copies.values()}
    assert len(contents) == len(copies)  # every edit changed the file
    assert len(identities) == 1 and None not in identities


def test_another_frame_and_a_re_encoded_copy_are_other_pictures(copy_media, tmp_path):
    original = copy_media(JPEG, single=True)
    next_frame = copy_media(NEXT_FRAME, single=True)
    re_encoded = tmp_path / "re-encoded.jpg"
    with Image.open(original) as image:
        image.save(re_encoded, quality=95, exif=image.getexif())
    assert len({identity(original), identity(next_frame), identity(re_encoded)}) == 3


def test_a_jpeg_cut_short_has_no_identity(copy_media):
    data = copy_media(JPEG, single=True).read_bytes()
    assert jpeg_identity(data[: len(data) // 2]) is None
    assert jpeg_identity(b"not a jpeg") is None


def test_a_segment_that_miscounts_its_length_keeps_the_identity_and_its_copies_too(copy_media):
    # drewnoakes' "Issue 308.jpg": an editor's XMP segment says it is 2 bytes shorter than it is,
    # so "?>" sits where the next marker should; decoders skip such bytes to the next marker.
    original = copy_media("drewnoakes/jpg/Issue 308.jpg", single=True)
    data = original.read_bytes()
    assert data[9258:9262] == b"?>\xff\xdb"
    identities = {jpeg_identity(path.read_bytes()) for path in exiftool_copies(original).values()}
    assert len(identities) == 1 and None not in identities
    assert jpeg_identity(data) == jpeg_identity(data[:9258] + data[9260:])  # the same without them


def test_a_motion_photos_video_is_not_part_of_its_picture(copy_media):
    # Google and Samsung append an MP4 after the JPEG's end: the picture is the JPEG's.
    data = copy_media(JPEG, single=True).read_bytes()
    assert jpeg_identity(data + b"\0\0\0\x18ftypmp42" + b"\1" * 1000) == jpeg_identity(data)


def test_other_pictures_are_known_by_their_pixels(tmp_path):
    picture = Image.linear_gradient("L").convert("RGB")
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    picture.save(first)
    picture.save(second, compress_level=1, pnginfo=None)
    assert first.read_bytes() != second.read_bytes()
    with Image.open(first) as a, Image.open(second) as b:
        assert photo_identity(first, "image/png", a.convert("RGB"), a.size) == pixel_identity(b.convert("RGB"))
        # A reduced decode is not the whole picture: no identity from it.
        assert photo_identity(first, "image/png", a.resize((16, 16)), a.size) is None
