"""manage.py export on real files: the layout, the capture time written into the copies and read
back by exiftool, pictures and originals unchanged, duplicates, pairs, undated and date-only files,
a second run, and undo."""

import hashlib
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from unittest.mock import patch
from zoneinfo import ZoneInfo

import av
import pytest
from django.core.management import CommandError, call_command
from django_q.conf import Conf
from PIL import Image

from jobs.models import DuplicateGroup, DuplicateKind, ExportEntry, File, Job
from jobs.services.control import ActionRefused, control_job
from jobs.export_plan import numbered
from jobs.services.export import create_export_job
from jobs.services.corrections import correct_capture_times, parse_correction
from jobs.services.duplicates import mark_not_duplicates
from jobs.services.processing import process_batch, start_job
from tests.importing import import_folder


def export(destination: Path, *args: str) -> Job:
    out = io.StringIO()
    call_command("export", str(destination), "--sync", *args, stdout=out, verbosity=0)
    first = out.getvalue().splitlines()[0]
    assert first.startswith("job ")
    return Job.objects.get(id=int(first.split()[1]))


def undo(job: Job) -> str:
    out = io.StringIO()
    call_command("export", "--undo", str(job.id), stdout=out)
    return out.getvalue()


def exiftool(path: Path, *tags: str) -> dict:
    """exiftool's own reading, QuickTime dates as UTC instants."""
    result = subprocess.run(
        ["exiftool", "-j", "-G1", "-api", "QuickTimeUTC", *[f"-{t}" for t in tags], str(path)],
        capture_output=True, text=True, check=True, env={**os.environ, "TZ": "UTC"},
    )  # fmt: skip
    return json.loads(result.stdout)[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def pixels(path: Path) -> bytes:
    with Image.open(path) as im:
        return im.tobytes()


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux() if p.size]


def entries(job: Job) -> dict[str, ExportEntry]:
    return {Path(e.source).name: e for e in ExportEntry.objects.filter(job=job)}


def file_named(name: str) -> File:
    return File.objects.exclude(job__kind=Job.Kind.EXPORT).get(original_name=name)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def correct_capture_time(*, file: File, value: datetime, by) -> None:
    """A correction by hand, through the corrections service, as the page and the API make it."""
    correct_capture_times(user=by, file_ids=[file.id], correction=parse_correction({"set": value.isoformat()}))


@pytest.fixture
def formats(copy_media, staff):
    """A JPEG, a HEIC, a PNG, an MP4 and a MOV, imported, each with its capture time corrected by
    hand to a time of its own with its offset."""
    folder = copy_media(
        "elodie/plain.jpg",
        "digicam/Apple/iPhone XR/IMG_3578.HEIC",
        "elodie/photo.png",
        "drewnoakes/mp4/with-gps.mp4",
        "drewnoakes/mov/with-gps.mov",
    )
    originals = tree(folder)
    import_folder(folder)
    times = {
        "plain.jpg": "2001-02-03T04:05:06+02:00",
        "IMG_3578.HEIC": "2002-03-04T05:06:07+05:30",
        "photo.png": "2003-04-05T06:07:08-03:00",
        "with-gps.mp4": "2004-05-06T07:08:09-05:00",
        "with-gps.mov": "2005-06-07T08:09:10+09:00",
    }
    for name, value in times.items():
        correct_capture_time(file=file_named(name), value=at(value), by=staff)
    return folder, originals, times


@pytest.mark.django_db
def test_an_export_writes_verified_dated_copies_and_leaves_the_originals_alone(formats, tmp_path):
    folder, originals, times = formats
    destination = tmp_path / "collection"

    job = export(destination)

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.error_count == 0, job.failure
    assert tree(folder) == originals  # every original's SHA-256 unchanged
    written = entries(job)
    assert {name: e.destination for name, e in written.items()} == {
        "plain.jpg": "2001/20010203_040506.jpg",
        "IMG_3578.HEIC": "2002/20020304_050607.heic",
        "photo.png": "2003/20030405_060708.png",
        "with-gps.mp4": "2004/20040506_070809.mp4",
        "with-gps.mov": "2005/20050607_080910.mov",
    }
    for name, entry in written.items():
        copy = destination / entry.destination
        assert entry.action == ExportEntry.Action.COPIED
        assert entry.sha256 == sha256(copy)
        assert entry.written, f"{name}: the corrected time was written"
        chosen = at(times[name])
        assert copy.stat().st_mtime == chosen.timestamp()  # the modification time is the capture time
        assert list(destination.rglob(".mediaimport-*")) == []  # no temporary file left

    # Photos: the wall clock the camera showed, with its offset.
    for name in ("plain.jpg", "IMG_3578.HEIC", "photo.png"):
        copy = destination / written[name].destination
        tags = exiftool(copy, "EXIF:DateTimeOriginal", "EXIF:OffsetTimeOriginal")
        chosen = at(times[name])
        assert tags["ExifIFD:DateTimeOriginal"] == chosen.strftime("%Y:%m:%d %H:%M:%S"), name
        assert tags["ExifIFD:OffsetTimeOriginal"] == chosen.isoformat()[-6:], name
        assert pixels(copy) == pixels(folder / name), f"{name}: the picture is unchanged"
    # Videos: QuickTime's dates as UTC instants, Apple's CreationDate with the offset.
    for name in ("with-gps.mp4", "with-gps.mov"):
        copy = destination / written[name].destination
        tags = exiftool(copy, "QuickTime:CreateDate", "Keys:CreationDate")
        chosen = at(times[name])
        assert tags["QuickTime:CreateDate"] == chosen.astimezone(UTC).strftime("%Y:%m:%d %H:%M:%S+00:00"), name
        assert tags["Keys:CreationDate"] == chosen.strftime("%Y:%m:%d %H:%M:%S") + chosen.isoformat()[-6:], name
        assert packets(copy) == packets(folder / name), f"{name}: picture and sound unchanged"
    assert "QuickTime:CreateDate" in written["with-gps.mov"].written
    assert "EXIF:DateTimeOriginal" in written["plain.jpg"].written

    # A second run adds nothing and touches nothing.
    before = {p: p.stat().st_mtime_ns for p in destination.rglob("*") if p.is_file()}
    again = export(destination)
    assert {e.action for e in ExportEntry.objects.filter(job=again)} == {ExportEntry.Action.EXISTS}
    assert {p: p.stat().st_mtime_ns for p in destination.rglob("*") if p.is_file()} == before


@pytest.mark.django_db
def test_undo_removes_what_the_export_made_and_keeps_a_file_changed_since(formats, tmp_path):
    folder, originals, _ = formats
    destination = tmp_path / "collection"
    destination.mkdir()
    (destination / "mine.txt").write_text("not the export's")
    job = export(destination)
    changed = destination / "2001/20010203_040506.jpg"
    with open(changed, "ab") as f:
        f.write(b"edited")

    output = undo(job)

    assert "kept 2001/20010203_040506.jpg: changed since the export" in output
    assert sorted(str(p.relative_to(destination)) for p in destination.rglob("*")) == [
        "2001", "2001/20010203_040506.jpg", "mine.txt"
    ]  # fmt: skip
    assert tree(folder) == originals


@pytest.mark.django_db
def test_one_copy_per_duplicate_group_staffs_keep_first(copy_media, tmp_path, staff):
    folder = copy_media("digicam/Canon/EOS RP/_MG_0635.JPG", "elodie/plain.jpg")
    shutil.copy2(folder / "plain.jpg", folder / "plain copy.jpg")  # exact duplicate
    with Image.open(folder / "_MG_0635.JPG") as im:  # near duplicate: smaller, no metadata
        im.reduce(4).save(folder / "small.jpg", quality=80)
    import_folder(folder)
    exact = DuplicateGroup.objects.get(kind=DuplicateKind.EXACT)
    exact.keep = file_named("plain copy.jpg")
    exact.save()
    assert DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR).count() == 1

    job = export(tmp_path / "out", "--dry-run")

    plan = entries(job)
    assert plan["plain.jpg"].action == ExportEntry.Action.DUPLICATE
    assert plan["plain.jpg"].duplicate_of_id == file_named("plain copy.jpg").id
    assert plan["small.jpg"].action == ExportEntry.Action.DUPLICATE  # fewer pixels
    assert plan["small.jpg"].duplicate_of_id == file_named("_MG_0635.JPG").id
    assert {plan["plain copy.jpg"].action, plan["_MG_0635.JPG"].action} == {ExportEntry.Action.PLANNED}
    assert not (tmp_path / "out").exists()  # a dry run writes nothing

    near = DuplicateGroup.objects.get(kind=DuplicateKind.NEAR)
    near.keep = file_named("small.jpg")
    near.save()
    plan = entries(export(tmp_path / "out", "--dry-run"))
    assert plan["_MG_0635.JPG"].duplicate_of_id == file_named("small.jpg").id


@pytest.mark.django_db
def test_a_live_photo_pair_shares_a_name_and_is_never_a_duplicate_of_itself(copy_media, tmp_path):
    folder = copy_media("digicam/Apple/iPhone XR/IMG_3589.HEIC", "digicam/Apple/iPhone XR/IMG_3589.mov")
    import_folder(folder)
    picture, video = file_named("IMG_3589.HEIC"), file_named("IMG_3589.mov")
    File.objects.filter(id=picture.id).update(companion=video)  # as the pairing (issue 16) records it
    File.objects.filter(id=video.id).update(companion=picture)

    job = export(tmp_path / "out")

    written = entries(job)
    stem = picture.capture_time.strftime("%Y/%Y%m%d_%H%M%S")
    assert written["IMG_3589.HEIC"].destination == f"{stem}.heic"
    assert written["IMG_3589.mov"].destination == f"{stem}.mov"
    assert {e.action for e in written.values()} <= {ExportEntry.Action.COPIED}
    assert (tmp_path / "out" / f"{stem}.mov").is_file()


@pytest.mark.django_db
def test_undated_and_date_only_files(copy_media, tmp_path):
    folder = copy_media("elodie/no-exif.jpg", into="Grandma/box")
    # A messenger's copy: no metadata at all, the day only in its name.
    Image.linear_gradient("L").convert("RGB").save(folder / "IMG-20170101-WA0003.jpg", quality=90)
    import_folder(folder)
    File.objects.filter(original_name="no-exif.jpg").update(confidence=File.Confidence.NONE)
    File.objects.filter(original_name="IMG-20170101-WA0003.jpg").update(
        captured_at=datetime(2017, 1, 1, tzinfo=UTC), capture_offset=0, capture_precision="day",
        confidence=File.Confidence.MEDIUM, capture_source="filename",
    )  # fmt: skip

    job = export(tmp_path / "out")

    written = entries(job)
    assert written["no-exif.jpg"].destination == "undated/Grandma/box/no-exif.jpg"
    assert written["no-exif.jpg"].written == []  # no time to write
    date_only = tmp_path / "out" / "2017/20170101_IMG-20170101-WA0003.jpg"
    assert written["IMG-20170101-WA0003.jpg"].destination == "2017/20170101_IMG-20170101-WA0003.jpg"
    tags = exiftool(date_only, "XMP-photoshop:DateCreated", "EXIF:DateTimeOriginal", "EXIF:CreateDate")
    assert tags == {"SourceFile": str(date_only), "XMP-photoshop:DateCreated": "2017:01:01"}  # no invented 00:00:00


@pytest.mark.django_db
def test_files_in_one_second_and_an_existing_different_file_are_numbered_never_overwritten(copy_media, tmp_path, staff):
    folder = copy_media("elodie/plain.jpg", "elodie/with-location.jpg", "elodie/with-original-name.jpg")
    import_folder(folder)
    # The three are one picture with other metadata (a location, an original name added), so one
    # near group; staff keep them all, and each is exported.
    mark_not_duplicates(groups=DuplicateGroup.objects.all(), by=staff)
    for name, value in (
        ("with-location.jpg", "2010-01-01T10:00:00.500000+01:00"),
        ("plain.jpg", "2010-01-01T10:00:00.200000+01:00"),
        ("with-original-name.jpg", "2010-01-01T10:00:00.900000+01:00"),
    ):
        correct_capture_time(file=file_named(name), value=at(value), by=staff)
    destination = tmp_path / "out"
    (destination / "2010").mkdir(parents=True)
    (destination / "2010/20100101_100000.jpg").write_bytes(b"someone else's file")

    job = export(destination)

    written = {name: e.destination for name, e in entries(job).items()}
    assert (destination / "2010/20100101_100000.jpg").read_bytes() == b"someone else's file"
    # plain.jpg is first in the second, so it was planned the plain name; that is taken on disk, so
    # it goes to the next number no other file of the export was planned to have.
    assert written == {
        "plain.jpg": "2010/20100101_100000_3.jpg",
        "with-location.jpg": "2010/20100101_100000_1.jpg",
        "with-original-name.jpg": "2010/20100101_100000_2.jpg",
    }
    assert tags_time(destination / written["plain.jpg"]) == "2010:01:01 10:00:00"
    assert exiftool(destination / written["plain.jpg"], "EXIF:SubSecTimeOriginal")["ExifIFD:SubSecTimeOriginal"] == 2


def tags_time(path: Path) -> str:
    return exiftool(path, "EXIF:DateTimeOriginal")["ExifIFD:DateTimeOriginal"]


@pytest.mark.django_db
def test_link_hard_links_files_that_need_nothing_written(copy_media, tmp_path):
    folder = copy_media("elodie/plain.jpg", "digicam/Canon/PowerShot G2/MVI_0314.AVI")
    import_folder(folder)
    destination = folder.parent / "linked"  # the same file system as the originals

    job = export(destination, "--link", "--no-write-metadata")

    for name, entry in entries(job).items():
        assert entry.action == ExportEntry.Action.LINKED, name
        copy = destination / entry.destination
        assert copy.stat().st_ino == (folder / name).stat().st_ino
        assert entry.written == []
    undo(job)
    assert (folder / "plain.jpg").is_file() and not destination.exists()


@pytest.mark.django_db
def test_a_format_exiftool_cannot_write_gets_an_xmp_sidecar(copy_media, tmp_path, staff):
    folder = copy_media("digicam/Canon/PowerShot G2/MVI_0314.AVI")
    import_folder(folder)
    correct_capture_time(file=file_named("MVI_0314.AVI"), value=at("2003-07-01T12:00:00+02:00"), by=staff)

    job = export(tmp_path / "out")

    entry = entries(job)["MVI_0314.AVI"]
    copy = tmp_path / "out" / entry.destination
    assert sha256(copy) == sha256(folder / "MVI_0314.AVI")  # the video itself untouched
    sidecar = copy.with_name(copy.name + ".xmp")
    assert exiftool(sidecar, "XMP-exif:DateTimeOriginal")["XMP-exif:DateTimeOriginal"] == "2003:07:01 12:00:00+02:00"
    assert "Sidecar" not in entry.note and entry.written == ["XMP-exif:DateTimeOriginal (sidecar)"]
    undo(job)
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_nothing_to_export_and_a_bad_template_are_refused(tmp_path):
    with pytest.raises(CommandError, match="nothing done to export"):
        call_command("export", str(tmp_path / "out"), "--sync", stdout=io.StringIO())
    File.objects.create(job=Job.objects.create(kind=Job.Kind.PATH), path="/x.jpg", original_name="x.jpg", status="done")
    with pytest.raises(CommandError, match="Unknown token"):
        call_command("export", str(tmp_path / "out"), "--template", "{when}", stdout=io.StringIO())


@pytest.mark.django_db
def test_an_export_is_paused_resumed_and_cancelled_like_an_import(copy_media, tmp_path, django_capture_on_commit_callbacks):
    import_folder(copy_media("elodie/plain.jpg", "elodie/no-exif.jpg"))  # two pictures
    job = create_export_job(destination=tmp_path / "out", enqueue=False)
    ids = list(job.export_entries.values_list("id", flat=True))
    assert start_job(job.id)
    control_job(job=job, action="pause")

    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="paused")
    assert not (tmp_path / "out").exists()  # a paused export writes nothing

    with patch.object(Conf, "SYNC", True), django_capture_on_commit_callbacks(execute=True):
        control_job(job=job, action="resume")  # its entries are queued again, and run here
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.progress_current == 2
    assert len([p for p in (tmp_path / "out").rglob("*") if p.is_file()]) == 2
    with pytest.raises(ActionRefused):
        control_job(job=job, action="cancel")


@pytest.mark.django_db
@pytest.mark.parametrize("extension, muxer", [("mp4", "mp4"), ("mov", "mov")])
def test_a_date_only_video_time_is_written_into_the_copy_and_our_reader_reads_it_back(tmp_path, extension, muxer):
    from jobs.pipeline.analysis import analyse
    from tests.media import video

    folder = tmp_path / "films"
    folder.mkdir()
    video(folder / f"clip.{extension}", format=muxer, codec="mpeg4", image=Image.linear_gradient("L").convert("RGB"))
    import_folder(folder)
    File.objects.filter(original_name=f"clip.{extension}").update(
        captured_at=datetime(2014, 7, 4, tzinfo=UTC), capture_offset=0, capture_precision="day",
        confidence=File.Confidence.MEDIUM, capture_source="folder",
    )  # fmt: skip

    job = export(tmp_path / "out")

    entry = entries(job)[f"clip.{extension}"]
    copy = tmp_path / "out" / entry.destination
    assert entry.destination == f"2014/20140704_clip.{extension}"
    # Written into the copy itself and verified, not shipped unwritten beside a sidecar.
    assert (entry.written, entry.note) == (["XMP-photoshop:DateCreated"], "")
    assert not copy.with_name(copy.name + ".xmp").exists()
    tags = exiftool(copy, "XMP-photoshop:DateCreated", "QuickTime:CreateDate")
    assert tags["XMP-photoshop:DateCreated"] == "2014:07:04"
    # No invented midnight: the header's date is the original's (none: zero).
    assert tags["QuickTime:CreateDate"] == exiftool(folder / f"clip.{extension}", "QuickTime:CreateDate")["QuickTime:CreateDate"]
    assert packets(copy) == packets(folder / f"clip.{extension}")
    # What the export wrote, an import of the copy reads: the day, at day precision.
    read = analyse(copy, name="copy." + extension, zone=ZoneInfo("UTC"), sidecars=False).capture
    assert (read.value.date(), read.precision) == (datetime(2014, 7, 4).date(), "day")


@pytest.mark.django_db
def test_a_pair_whose_video_name_is_taken_moves_whole_to_one_number(copy_media, tmp_path):
    folder = copy_media("digicam/Apple/iPhone XR/IMG_3589.HEIC", "digicam/Apple/iPhone XR/IMG_3589.mov")
    import_folder(folder)
    picture, video = file_named("IMG_3589.HEIC"), file_named("IMG_3589.mov")
    File.objects.filter(id=picture.id).update(companion=video)
    File.objects.filter(id=video.id).update(companion=picture)
    stem = picture.capture_time.strftime("%Y/%Y%m%d_%H%M%S")
    destination = tmp_path / "out"
    (destination / stem).parent.mkdir(parents=True)
    (destination / f"{stem}.mov").write_bytes(b"another camera's clip")

    planned = entries(export(destination, "--dry-run"))
    job = export(destination)

    written = entries(job)
    assert written["IMG_3589.HEIC"].destination == f"{stem}_1.heic"
    assert written["IMG_3589.mov"].destination == f"{stem}_1.mov"
    assert {e.action for e in written.values()} == {ExportEntry.Action.COPIED}
    assert (destination / f"{stem}.mov").read_bytes() == b"another camera's clip"
    assert {n: e.destination for n, e in planned.items()} == {n: e.destination for n, e in written.items()}


@pytest.mark.django_db
def test_a_dry_run_plans_exists_and_numbers_as_the_real_export_does(copy_media, tmp_path, staff):
    folder = copy_media("elodie/plain.jpg", "digicam/Canon/EOS RP/_MG_0635.JPG", "digicam/Canon/PowerShot G2/MVI_0314.AVI")
    import_folder(folder)
    destination = tmp_path / "out"
    first = entries(export(destination))
    # Since then: one copy replaced by someone else's file, one file corrected to another time.
    taken = first["_MG_0635.JPG"].destination
    (destination / taken).unlink()
    (destination / taken).write_bytes(b"someone else's file")
    correct_capture_time(file=file_named("plain.jpg"), value=at("2012-03-04T05:06:07+01:00"), by=staff)

    plan = entries(export(destination, "--dry-run"))
    real = entries(export(destination))

    assert {n: (e.action, e.destination) for n, e in plan.items()} == {
        "plain.jpg": (ExportEntry.Action.PLANNED, "2012/20120304_050607.jpg"),
        "_MG_0635.JPG": (ExportEntry.Action.PLANNED, numbered(taken, 1)),
        "MVI_0314.AVI": (ExportEntry.Action.EXISTS, first["MVI_0314.AVI"].destination),
    }
    assert {n: e.destination for n, e in real.items()} == {n: e.destination for n, e in plan.items()}
    assert real["MVI_0314.AVI"].action == ExportEntry.Action.EXISTS
    assert real["MVI_0314.AVI"].sha256 == plan["MVI_0314.AVI"].sha256 == sha256(destination / real["MVI_0314.AVI"].destination)
    assert {real["plain.jpg"].action, real["_MG_0635.JPG"].action} == {ExportEntry.Action.COPIED}
    assert (destination / taken).read_bytes() == b"someone else's file"


@pytest.mark.django_db
def test_the_command_ends_saying_what_became_of_each_file(copy_media, tmp_path):
    import_folder(copy_media("elodie/plain.jpg", "digicam/Canon/PowerShot G2/MVI_0314.AVI"))

    def last_line() -> str:
        out = io.StringIO()
        call_command("export", str(tmp_path / "out"), "--sync", "--no-write-metadata", stdout=out, verbosity=0)
        return out.getvalue().splitlines()[-1]

    assert last_line() == "copied 2"
    assert last_line() == "already there 2"
