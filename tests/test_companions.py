"""Companions: a Live Photo's picture and video, a RAW and its JPEG, are one shot in two files,
found when their job ends, shown together and never a duplicate group of each other."""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pillow_heif
import pytest
from PIL import Image

from jobs.models import DuplicateGroup, File
from jobs.pipeline.companions import Half, apple_content_identifier, find_pairs
from jobs.pipeline.near_duplicates import MAX_DISTANCE
from jobs.pipeline.perceptual import distance
from tests import media
from tests.importing import import_folder
from tests.test_export import entries, export

pillow_heif.register_heif_opener()

LIVE_PHOTO = ("digicam/Apple/iPhone XR/IMG_3589.HEIC", "digicam/Apple/iPhone XR/IMG_3589.mov")
OTHER_LIVE_PHOTO = ("digicam/Apple/iPhone XR/IMG_3616.HEIC", "digicam/Apple/iPhone XR/IMG_3616.mov")


def apple_maker_note(identifier: str) -> bytes:
    """An Apple MakerNote holding only the content identifier (tag 0x0011), as an iPhone writes it:
    a big-endian directory whose offsets count from the note's start."""
    value = identifier.encode() + b"\0"
    header = b"Apple iOS\0\x00\x01MM"
    value_at = len(header) + 2 + 12 + 4
    entry = b"\x00\x11\x00\x02" + len(value).to_bytes(4, "big") + value_at.to_bytes(4, "big")
    return header + b"\x00\x01" + entry + b"\0\0\0\0" + value


def live_photo_picture(path: Path, *, taken: str, identifier: str | None, shade: int = 0) -> Path:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = taken
    if identifier:
        exif_ifd[0x927C] = apple_maker_note(identifier)
    picture = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    picture.paste((shade, 80, 160), (0, 0, 200, 150))
    picture.save(path, exif=exif.tobytes(), quality=60)
    return path


def live_photo_video(path: Path, *, created: str, identifier: str | None, shade: int = 0) -> Path:
    """A three-second QuickTime clip of the same scene with Apple's keys, written by PyAV."""
    with av.open(str(path), "w", format="mov", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata["com.apple.quicktime.creationdate"] = created
        if identifier:
            out.metadata["com.apple.quicktime.content.identifier"] = identifier
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        frame = np.asarray(Image.linear_gradient("L").resize((640, 480)).convert("RGB")).copy()
        frame[:150, :200] = (shade, 80, 160)
        for _ in range(30):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_exiftool_reads_the_content_identifier_we_write_and_read(tmp_path):
    path = live_photo_picture(tmp_path / "IMG_0001.HEIC", taken="2023:05:01 10:00:01", identifier="4E1D-77A0")
    # exiftool 12.57 calls Apple's tag 0x0011 MediaGroupUUID; it is the MOV's ContentIdentifier.
    read = subprocess.run(["exiftool", "-s3", "-MediaGroupUUID", str(path)], capture_output=True, text=True, check=True)
    assert read.stdout.strip() == "4E1D-77A0"
    with Image.open(path) as image:
        assert apple_content_identifier(image.getexif()) == "4E1D-77A0"


@pytest.mark.django_db
def test_live_photos_are_paired_by_name_and_time_and_by_content_identifier(copy_media, api, alice):
    folder = copy_media(*LIVE_PHOTO, *OTHER_LIVE_PHOTO, into="phone")
    made = folder / "made"
    made.mkdir()
    # iCloud's name for the video of a Live Photo, and the same time.
    live_photo_picture(made / "IMG_0001.HEIC", taken="2023:05:01 10:00:01", identifier=None, shade=20)
    live_photo_video(made / "IMG_0001_HEVC.MOV", created="2023-05-01T10:00:00+0000", identifier=None, shade=20)
    # Renamed halves, told to be one shot by their content identifier alone.
    live_photo_picture(made / "holiday.heic", taken="2023:05:02 12:00:00", identifier="4E1D-77A0", shade=200)
    live_photo_video(made / "clip.mov", created="2023-05-02T12:00:00+0000", identifier="4E1D-77A0", shade=200)
    # Same stem, a minute apart: not a Live Photo.
    live_photo_picture(made / "IMG_0002.HEIC", taken="2023:05:01 10:05:00", identifier=None, shade=90)
    live_photo_video(made / "IMG_0002.MOV", created="2023-05-01T10:06:00+0000", identifier=None, shade=90)

    job = import_folder(folder, "--user", "alice")

    files = {file.original_name: file for file in job.files.all()}
    assert all(file.status == File.Status.DONE for file in files.values()), [f.error for f in files.values()]
    pairs = {(name, files[name].companion.original_name) for name in files if files[name].companion}
    assert pairs == {
        ("IMG_3589.HEIC", "IMG_3589.mov"), ("IMG_3589.mov", "IMG_3589.HEIC"),
        ("IMG_3616.HEIC", "IMG_3616.mov"), ("IMG_3616.mov", "IMG_3616.HEIC"),
        ("IMG_0001.HEIC", "IMG_0001_HEVC.MOV"), ("IMG_0001_HEVC.MOV", "IMG_0001.HEIC"),
        ("holiday.heic", "clip.mov"), ("clip.mov", "holiday.heic"),
    }  # fmt: skip
    # The made halves show one picture (the video's poster is the photo), yet no group holds a pair.
    for picture, video in (("IMG_0001.HEIC", "IMG_0001_HEVC.MOV"), ("holiday.heic", "clip.mov")):
        assert distance(files[picture].perceptual_hash, files[video].perceptual_hash) <= MAX_DISTANCE
    for group in DuplicateGroup.objects.all():
        members = set(group.files.values_list("id", flat=True))
        assert not any(file.companion_id in members for file in group.files.all()), group
    listed = api(alice).get(f"/api/jobs/{job.id}/files", per_page=50).json()["files"]
    by_name = {f["filename"]: f for f in listed}
    assert by_name["clip.mov"]["companion_id"] == files["holiday.heic"].id
    assert by_name["IMG_0002.MOV"]["companion_id"] is None
    assert len(listed) == len(files) == 10  # both halves stay listed


TAKEN = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
SHOT = "NIKON D7500|2024:07:01 09:30:00|42"


def half(id_: int, name: str, *, folder: str = "", video: bool = False, at=TAKEN, shot: str = "", identifier: str = ""):
    return Half(id_, folder, name, video, at, shot, identifier)


def test_raw_and_jpeg_of_one_shot_are_a_pair():
    # RAW files are imported by another part of the pipeline (formats); the pairing reads what
    # the pipeline recorded of them, so it is checked here on that record.
    assert find_pairs([half(1, "DSC_0001.NEF", shot=SHOT), half(2, "DSC_0001.JPG", shot=SHOT)]) == [(1, 2)]
    # Another capture record (a later frame under a reused number), another folder, no record: no pair.
    later = SHOT.replace("|42", "|43")
    assert find_pairs([half(1, "DSC_0001.NEF", shot=SHOT), half(2, "DSC_0001.JPG", shot=later)]) == []
    assert find_pairs([half(1, "DSC_0001.NEF", shot=SHOT), half(2, "DSC_0001.JPG", shot=SHOT, folder="b")]) == []
    assert find_pairs([half(1, "DSC_0001.DNG"), half(2, "DSC_0001.JPG")]) == []


def test_a_stem_with_two_candidates_makes_no_pair():
    soon = TAKEN + timedelta(seconds=1)
    assert find_pairs([half(1, "IMG_1.HEIC"), half(2, "IMG_1.MOV", video=True, at=soon)]) == [(1, 2)]
    assert find_pairs([half(1, "IMG_1.HEIC"), half(2, "IMG_1.MOV", video=True), half(3, "IMG_1.MP4", video=True)]) == []
    # A Live Photo whose video lost its time is still a pair when its identifier says so.
    assert find_pairs([half(1, "a.HEIC", identifier="X"), half(2, "b.MOV", video=True, at=None, identifier="X")]) == [(1, 2)]
    assert find_pairs([half(1, "IMG_1.HEIC"), half(2, "IMG_1.MOV", video=True, at=None)]) == []


# What a camera set to RAW+JPEG records in both files of one shot.
RAW_JPEG_EXIF = ("-DateTimeOriginal=2009:12:25 10:30:15", "-OffsetTimeOriginal=+01:00", "-SubSecTimeOriginal=25")


def raw_file(path: Path, scene: Image.Image) -> tuple[str, str]:
    """A RAW of `scene` of the kind `path`'s suffix names, from the formats' factories, with a
    preview and RAW_JPEG_EXIF; returns its camera's make and model, for the JPEG beside it."""
    preview = media.jpeg(scene.resize((480, 320)))
    if path.suffix == ".DNG":
        media.dng(path, scene, preview=preview, tags=RAW_JPEG_EXIF)
        return "Testcam", "Testcam R1"
    media.camera_raw(path, scene, preview=preview, tags=RAW_JPEG_EXIF)
    return media.CAMERAS[path.suffix.lstrip(".")]


@pytest.mark.parametrize("raw_name", ["DSC_0001.DNG", "DSC_0001.NEF"])
@pytest.mark.django_db
def test_a_raw_and_its_jpeg_imported_together_are_one_shot_named_alike(tmp_path, api, alice, raw_name):
    folder = tmp_path / "card"
    folder.mkdir()
    scene = media.picture()
    make, model = raw_file(folder / raw_name, scene)
    (folder / "DSC_0001.JPG").write_bytes(media.jpeg(scene))
    media.exiftool(folder / "DSC_0001.JPG", f"-Make={make}", f"-Model={model}", *RAW_JPEG_EXIF)
    # The next frame of that second, under its own number: the scene a moment later, no one's companion.
    scene.paste((0, 0, 0), (10, 390, 20, 400))
    (folder / "DSC_0002.JPG").write_bytes(media.jpeg(scene))
    next_frame = (*RAW_JPEG_EXIF[:2], "-SubSecTimeOriginal=50")
    media.exiftool(folder / "DSC_0002.JPG", f"-Make={make}", f"-Model={model}", *next_frame)

    job = import_folder(folder, "--user", "alice")

    files = {file.original_name: file for file in job.files.all()}
    assert all(file.status == File.Status.DONE for file in files.values()), [f.error for f in files.values()]
    raw, picture = files[raw_name], files["DSC_0001.JPG"]
    assert (raw.companion_id, picture.companion_id, files["DSC_0002.JPG"].companion_id) == (picture.id, raw.id, None)
    # The two show one picture and one capture record, yet no group holds both halves.
    assert raw.shot == picture.shot and distance(raw.perceptual_hash, picture.perceptual_hash) <= MAX_DISTANCE
    for group in DuplicateGroup.objects.all():
        assert not {raw.id, picture.id} <= set(group.files.values_list("id", flat=True)), group
    listed = {f["filename"]: f for f in api(alice).get(f"/api/jobs/{job.id}/files").json()["files"]}
    assert listed["DSC_0001.JPG"]["companion_id"] == raw.id and listed[raw_name]["companion_id"] == picture.id
    assert listed[raw_name]["companion_kind"] == listed["DSC_0001.JPG"]["companion_kind"] == "raw_jpeg"

    plan = entries(export(tmp_path / "out", "--dry-run", "--job", str(job.id)))

    stem = "2009/20091225_103015"
    raw_suffix = raw_name.split(".")[1].lower()
    assert (plan[raw_name].destination, plan["DSC_0001.JPG"].destination) == (f"{stem}.{raw_suffix}", f"{stem}.jpg")
    assert plan["DSC_0002.JPG"].destination == f"{stem}_1.jpg"  # another shot of that second: its own name
