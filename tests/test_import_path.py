"""manage.py import_path: the whole path from a folder of real media to processed Files."""

import hashlib
import io
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from jobs.models import File, Job
from jobs.pipeline.formats import by_name
from jobs.selectors import exact_duplicate_groups, job_files
from jobs.serializers import file_dict
from tests.conftest import ROOT, inherited_environ, manage


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*args) -> tuple[str, Job]:
    out = io.StringIO()
    call_command("import_path", *args, stdout=out, verbosity=0)
    first_line = out.getvalue().splitlines()[0]
    assert first_line.startswith("job ")
    return out.getvalue(), Job.objects.get(id=int(first_line.split()[1]))


@pytest.fixture
def library(corpus, tmp_path):
    """A copy of the whole corpus plus byte copies of three files under other names, and litter."""
    root = tmp_path / "library"
    shutil.copytree(corpus, root)
    copies = {
        "elodie/plain.jpg": "copies/holiday.JPG",
        "digicam/Apple/iPhone XR/IMG_3589.HEIC": "copies/deep/same.heic",
        "drewnoakes/mov/with-gps.mov": "copies/clip.MOV",
    }
    for source, target in copies.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / source, root / target)
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "copies" / "._holiday.JPG").write_bytes(b"\0\5\26\7")
    (root / "copies" / "Thumbs.db").write_bytes(b"junk")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.jpg").write_bytes((root / "elodie/plain.jpg").read_bytes())
    return root


@pytest.mark.django_db
def test_sync_import_of_the_whole_corpus(library):
    before = {p: sha256(p) for p in library.rglob("*") if p.is_file()}

    output, job = run(str(library), "--sync")

    expected = {
        str(p) for p in library.rglob("*")
        if p.is_file() and by_name(p.name) and not any(part.startswith(".") for part in p.relative_to(library).parts)
    }  # fmt: skip
    files = list(job.files.all())
    assert sorted(f.path for f in files) == sorted(expected)  # every media file exactly once, nothing else
    assert job.status == Job.Status.COMPLETED
    assert job.progress_current == job.progress_total == len(expected)
    assert job.error_count == sum(1 for f in files if f.status == File.Status.FAILED)
    assert "completed" in output
    for f in files:
        assert f.status in (File.Status.DONE, File.Status.FAILED)
        assert f.sha256 == before[Path(f.path)], f.path
        assert f.size == Path(f.path).stat().st_size
    # Thumbnails exist and decode for every file that was read.
    done = [f for f in files if f.status == File.Status.DONE]
    assert len(done) > 0.8 * len(files)
    for f in done:
        if f.thumbnail:
            with f.thumbnail.open("rb") as t, Image.open(t) as im:
                assert max(im.size) <= 320
    # Exact duplicates are exactly the copies made above, and the corpus's own duplicates.
    groups = {key: sorted(Path(f["path"]).relative_to(library).as_posix() for f in members) for key, members in exact_duplicate_groups(job)}
    assert groups[sha256(library / "elodie/plain.jpg")] == [
        "copies/holiday.JPG", "elodie/Plain With Spaces And Uppercase 123.jpg", "elodie/plain.jpg"
    ]  # fmt: skip
    assert groups[sha256(library / "drewnoakes/mov/with-gps.mov")] == ["copies/clip.MOV", "drewnoakes/mov/with-gps.mov"]
    for members in groups.values():
        assert len({sha256(library / m) for m in members}) == 1
    # Nothing was modified, moved or deleted.
    assert {p: sha256(p) for p in library.rglob("*") if p.is_file()} == before


@pytest.mark.django_db
def test_broken_files_are_recorded_and_the_job_goes_on(copy_media):
    folder = copy_media("broken/elodie/invalid.jpg", "broken/exif-samples/jpg/corrupted.jpg", "elodie/plain.jpg")
    (folder / "random.jpg").write_bytes(b"not a picture at all" * 100)

    _, job = run(str(folder), "--sync")

    assert job.status == Job.Status.COMPLETED
    errors = {f.original_name: f.error for f in job.files.all()}
    assert errors["invalid.jpg"] == "The file is empty"
    assert errors["random.jpg"].startswith("Not a photo or video we import")
    assert errors["plain.jpg"] == ""
    assert job.error_count == sum(1 for e in errors.values() if e)


@pytest.mark.django_db
def test_the_precision_and_whether_the_zone_was_recorded_are_stored_and_listed(tmp_path, settings):
    """A scan in a year's folder, copied minutes ago, and a camera JPEG without an offset."""
    settings.TIME_ZONE = "Europe/Paris"
    scan = tmp_path / "family" / "2009" / "Christmas 2009" / "scan001.jpg"
    camera = tmp_path / "card" / "DSC_0001.JPG"
    for path in (scan, camera):
        path.parent.mkdir(parents=True)
    Image.new("RGB", (16, 16), "white").save(scan, "JPEG")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2020:06:01 10:41:00"
    Image.new("RGB", (16, 16), "white").save(camera, "JPEG", exif=exif)

    _, job = run(str(tmp_path), "--sync")

    listed = {f["filename"]: f for f in (file_dict(row, job=job) for row in job_files(job))}
    assert {k: listed["scan001.jpg"][k] for k in ("timestamp", "confidence", "timestamp_source")} == {
        "timestamp": "2009-01-01T00:00:00+01:00", "confidence": "low", "timestamp_source": "folder",
    }  # fmt: skip
    assert (listed["scan001.jpg"]["timestamp_precision"], listed["scan001.jpg"]["timestamp_offset_known"]) == ("year", False)
    assert listed["DSC_0001.JPG"]["timestamp"] == "2020-06-01T10:41:00+02:00"
    assert (listed["DSC_0001.JPG"]["timestamp_precision"], listed["DSC_0001.JPG"]["timestamp_offset_known"]) == ("second", False)
    assert not next(e for e in listed["scan001.jpg"]["timestamp_evidence"] if e["source"] == "filesystem")["accepted"]


@pytest.mark.django_db
def test_missing_path_and_file_path_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="No such folder"):
        call_command("import_path", str(tmp_path / "nowhere"), "--sync")
    (tmp_path / "a.jpg").write_bytes(b"x")
    with pytest.raises(CommandError, match="Not a folder"):
        call_command("import_path", str(tmp_path / "a.jpg"), "--sync")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_folder_with_nothing_to_import_is_refused_and_no_job_is_kept(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    for name in ["a.psd", "b.PSD", "notes.txt", ".DS_Store", "._a.psd"]:
        (tmp_path / "other" / name).write_text("not a photo")

    with pytest.raises(CommandError, match="Nothing to import") as empty:
        run(str(tmp_path / "empty"), "--sync")
    with pytest.raises(CommandError, match=r"Skipped 3 files \(\.psd 2, \.txt 1\)") as other:
        run(str(tmp_path / "other"), "--sync")

    assert empty.value.returncode == other.value.returncode == 1
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_command_says_what_it_imported_and_what_it_skipped(copy_media):
    folder = copy_media("elodie/plain.jpg", "immich/formats/webp/denali.webp", "pillow-heif/non_heif/xmp.tiff")
    for name in ["a.psd", "b.psd", "c.psd", "list.txt", "Thumbs.db", ".DS_Store"]:
        (folder / name).write_text("not a photo")

    output, job = run(str(folder), "--sync")

    assert output.splitlines()[-1] == "imported 3, skipped 4 (.psd 3, .txt 1)"
    assert (job.skipped_count, job.skipped) == (4, {".psd": 3, ".txt": 1})
    assert job.status == Job.Status.COMPLETED and job.error_count == 0


def test_sync_import_on_the_command_line_ends_with_its_summary_and_groups(corpus, tmp_path):
    # A real process with the default settings (its own SQLite, autocommit), unlike call_command
    # inside a test's transaction: queueing the regrouping task closes the database connection,
    # which once broke the iteration over the job's batches when it went on after the last one
    # (with a number of files that is a multiple of the batch size).
    folder = tmp_path / "photos"
    shutil.copytree(corpus / "digicam" / "Canon", folder)
    shutil.copy2(folder / "EOS RP" / "_MG_0635.JPG", folder / "copy.JPG")
    shutil.copy2(folder / "EOS RP" / "_MG_0636.JPG", folder / "another.JPG")
    count = sum(1 for p in folder.rglob("*") if p.is_file() and by_name(p.name))
    assert count == 8
    env = {**inherited_environ("DATABASE_URL"), "MEDIAIMPORT_DATA_DIR": str(tmp_path / "data"), "MEDIAIMPORT_BATCH_SIZE": "4"}
    assert manage("migrate", "--noinput", env=env).returncode == 0

    result = manage("import_path", str(folder), "--sync", env=env, timeout=120)

    assert result.returncode == 0, result.stderr
    assert f"completed: {count} of {count} files, 0 with errors" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "db.sqlite3") as db:
        groups = db.execute("SELECT key FROM jobs_duplicategroup WHERE kind = 'exact'").fetchall()
    assert sorted(groups) == sorted([(sha256(folder / "copy.JPG"),), (sha256(folder / "another.JPG"),)])


from jobs.selectors import exact_duplicate_groups, job_files
from jobs.serializers import file_dict
from tests.conftest import ROOT, inherited_environ, manage
