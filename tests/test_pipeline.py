"""The per-file pipeline on real files, with no Django involved."""

import hashlib
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageOps

from jobs.pipeline import formats
from jobs.pipeline.analysis import analyse
from jobs.pipeline.hashing import sha256_of
from jobs.pipeline.images import open_photo

UTC = ZoneInfo("UTC")

# One real file of each kind we import, with what exiftool says about it (MANIFEST.tsv).
SAMPLES = [
    "digicam/Canon/EOS RP/_MG_0635.JPG",
    "digicam/Apple/iPhone XR/IMG_3589.HEIC",
    "drewnoakes/png/Issue 280 (dotnet).png",
    "drewnoakes/gif/Issue 201.gif",
    "drewnoakes/mp4/uuid540.mp4",
    "drewnoakes/mov/with-gps.mov",
    "digicam/Apple/iPhone XR/IMG_3589.mov",
]


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im


@pytest.mark.parametrize("relative", SAMPLES)
def test_each_kind_of_file_gives_hash_size_thumbnail_and_fingerprint(relative, copy_media, manifest):
    path = copy_media(relative, single=True)
    expected = manifest[relative]

    result = analyse(path, name=path.name, zone=UTC)

    assert result.error == ""
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == expected["sha256"]
    assert result.size == int(expected["bytes"])
    assert (result.width, result.height) in {
        (int(expected["ImageWidth"]), int(expected["ImageHeight"])),
        (int(expected["ImageHeight"]), int(expected["ImageWidth"])),  # shown rotated
    }
    assert result.mime_type == formats.by_name(path.name).mime_type
    thumbnail = decoded(result.thumbnail)
    assert thumbnail.format == "WEBP" and max(thumbnail.size) == min(320, max(result.width, result.height))
    assert len(result.fingerprint) >= 16
    if result.mime_type.startswith("video/"):
        assert result.duration > 0


@pytest.mark.parametrize(
    "relative",
    ["digicam/Canon/EOS RP/_MG_0635.JPG", "digicam/Apple/iPhone XR/IMG_3589.HEIC", "elodie/plain.jpg"],
)
def test_capture_time_of_photos_matches_exiftool(relative, copy_media, manifest):
    path = copy_media(relative, single=True)
    expected = datetime.strptime(manifest[relative]["DateTimeOriginal"], "%Y:%m:%d %H:%M:%S")

    capture = analyse(path, name=path.name, zone=UTC).capture

    assert capture.value.replace(tzinfo=None, microsecond=0) == expected
    assert capture.confidence == "high"


def test_capture_time_of_an_mp4_is_its_utc_creation_time(copy_media, manifest):
    relative = "drewnoakes/mp4/uuid540.mp4"
    path = copy_media(relative, single=True)
    expected = datetime.strptime(manifest[relative]["QuickTimeCreateDate"], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)

    capture = analyse(path, name=path.name, zone=ZoneInfo("Europe/Paris")).capture

    assert capture.value == expected  # the same instant, whatever zone it is shown in


def test_exif_orientation_is_applied_to_size_and_thumbnail(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show rotated 90° clockwise
    Image.new("RGB", (800, 400), "red").save(path, exif=exif)

    result = analyse(path, name=path.name, zone=UTC)

    assert (result.width, result.height) == (400, 800)
    assert decoded(result.thumbnail).size == (160, 320)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_turned_as_pillow_turns_it(tmp_path, orientation):
    path = tmp_path / f"orientation-{orientation}.png"  # lossless, so pixels compare exactly
    exif = Image.Exif()
    exif[0x0112] = orientation
    picture = Image.new("RGB", (60, 40), "white")
    picture.paste("red", (0, 0, 20, 10))  # a corner that shows every turn and flip
    picture.save(path, exif=exif)

    with Image.open(path) as im:
        expected = ImageOps.exif_transpose(im.convert("RGB"))

    reduced = open_photo(path).reduced
    assert (reduced.size, reduced.tobytes()) == (expected.size, expected.tobytes())


def test_a_file_that_cannot_be_decoded_still_gets_hash_and_date(tmp_path):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)  # a JPEG header and nothing else

    result = analyse(path, name=path.name, zone=UTC, file_modified=datetime(2021, 5, 1, 12, tzinfo=UTC))

    assert result.error.startswith("Image is damaged: ")
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.thumbnail is None
    assert result.capture.value == datetime(2021, 5, 1, 12, tzinfo=UTC)


def test_hash_is_streamed_and_exact_for_large_files(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * (5 * 4096 + 7)  # over five read chunks, not a multiple of one
    path.write_bytes(data)
    assert sha256_of(path) == (hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize(
    "header, expected",
    [
        (b"\xff\xd8\xff\xe1", formats.JPEG),
        (b"\x89PNG\r\n\x1a\n", formats.PNG),
        (b"GIF89a", formats.GIF),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", formats.HEIC),
        (b"\0\0\0\x1cftypmp42\0\0\0\x01isommp41mp42", formats.MP4),
        (b"\0\0\0\x14ftypqt  \0\0\0\0qt  ", formats.MOV),
        (b"\0\0\0\x08wide\0\0\0\0mdat", formats.MOV),
        (b"RIFF\0\0\0\0AVI LIST", formats.AVI),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", formats.MKV),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", formats.AVIF),  # HEIF's box format, AV1 pictures
        (b"RIFF\0\0\0\0WEBPVP8 ", formats.WEBP),
        (b"RIFF\0\0\0\0WAVEfmt ", None),
        (b"", None),
        (b"hello world", None),
    ],
)
def test_content_sniffing(header, expected):
    assert formats.sniff(header) == expected
