"""An export killed mid-way or stopped by a full disk: nothing half-written under a final name, no
temporary file left, every entry done once."""

import dataclasses
import hashlib
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django_q.models import OrmQ

from jobs.models import ExportEntry, File, Job
from jobs.services.control import retry_failed_files
from jobs.services.export import EXPORT_WORK, ExportRefused, create_export_job, export_entry, undo_export
from jobs.services.processing import _claim, _claim_ahead, process_batch, start_job
from tests.conftest import manage, wait_for
from tests.importing import import_folder


# Three different pictures (elodie's plain.jpg and with-location.jpg are one picture, and an export keeps one).
THREE_PICTURES = ("elodie/plain.jpg", "elodie/no-exif.jpg", "digicam/Canon/EOS RP/_MG_0635.JPG")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporary_files(destination: Path) -> list[Path]:
    return [p for p in destination.rglob(".mediaimport-*")]


def assert_each_entry_written_once(job: Job, destination: Path) -> None:
    job.refresh_from_db()
    entries = list(ExportEntry.objects.filter(job=job))
    assert job.status == Job.Status.COMPLETED, job.failure
    assert job.progress_current == job.progress_total == len(entries)
    assert {e.status for e in entries} == {File.Status.DONE}, [e.error for e in entries if e.error]
    written = [e for e in entries if e.action in (ExportEntry.Action.COPIED, ExportEntry.Action.EXISTS)]
    assert len({e.destination for e in written}) == len(written)
    for entry in written:
        assert sha256(destination / entry.destination) == entry.sha256, entry.destination
    on_disk = {str(p.relative_to(destination)) for p in destination.rglob("*") if p.is_file() and p.suffix != ".xmp"}
    assert on_disk == {e.destination for e in written}  # nothing else: no half file, no stray copy
    assert temporary_files(destination) == []


@pytest.mark.cluster
def test_a_cluster_killed_mid_export_finishes_it_after_a_restart_with_no_temporary_file_left(
    corpus, tmp_path, cluster, cluster_env
):
    source = tmp_path / "photos"
    for folder in ("digicam", "elodie"):
        shutil.copytree(corpus / folder, source / folder)
    import_folder(source)
    destination = tmp_path / "collection"
    queued = manage("export", str(destination), "--no-wait", env=cluster_env, timeout=120)
    assert queued.returncode == 0, queued.stderr
    job = Job.objects.get(id=int(re.fullmatch(r"job (\d+)", queued.stdout.splitlines()[0]).group(1)))
    at_start = job.progress_current  # duplicates left out are done when planned
    timing = {"MEDIAIMPORT_TASK_TIMEOUT": 15, "MEDIAIMPORT_TASK_RETRY": 16, "MEDIAIMPORT_BATCH_SIZE": 2}

    first = cluster(**timing)
    wait_for(lambda: Job.objects.get(id=job.id).progress_current >= at_start + 8, timeout=90, message="some files exported")
    first.kill()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.progress_current < job.progress_total, "killed too late"

    second = cluster(**timing)
    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=180, message="the export to finish after restart")
    wait_for(lambda: not OrmQ.objects.exists(), timeout=60, message="the queue to empty")
    second.stop()

    assert_each_entry_written_once(job, destination)
    assert max(ExportEntry.objects.filter(job=job).values_list("attempts", flat=True)) <= 2


@pytest.fixture
def small_destination(tmp_path):
    """A destination on a file system of its own, 1 MB large."""
    destination = tmp_path / "usb"
    destination.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(destination)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"a disk-full test needs to mount a tmpfs (run as root): {mounted.stderr.decode().strip()}")
    yield destination
    subprocess.run(["umount", "-l", str(destination)], check=True)


@pytest.mark.django_db
def test_an_export_that_does_not_fit_is_refused_before_anything_is_written(copy_media, small_destination):
    folder = copy_media("digicam/Canon/EOS RP/_MG_0635.JPG", "digicam/Canon/EOS RP/_MG_0636.JPG")
    import_folder(folder)

    with pytest.raises(ExportRefused, match=r"The export needs .* free"):
        create_export_job(destination=small_destination / "photos", enqueue=False)

    assert list(small_destination.iterdir()) == []
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()


@pytest.mark.django_db
def test_a_destination_that_fills_up_fails_the_export_clearly_with_nothing_half_written(copy_media, small_destination):
    folder = copy_media("elodie/plain.jpg", "elodie/with-location.jpg", "elodie/no-exif.jpg", "digicam/HP/Photosmart 735/HPIM1006.JPG")
    originals = {p.name: sha256(p) for p in folder.iterdir()}
    import_folder(folder)
    job = create_export_job(destination=small_destination / "photos", enqueue=False)
    # Something else fills the disk after the plan was checked against the free space, leaving
    # room for the small copies only.
    room = shutil.disk_usage(small_destination).free
    (small_destination / "filler").write_bytes(b"\0" * (room - 60_000))

    ids = list(ExportEntry.objects.filter(job=job).values_list("id", flat=True))
    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token=uuid.uuid4().hex[:12])

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.failure.startswith(f"The destination {small_destination / 'photos'} is full")
    failed = ExportEntry.objects.get(job=job, status=File.Status.FAILED)
    assert failed.error == job.failure
    assert temporary_files(small_destination) == []
    for entry in ExportEntry.objects.filter(job=job, action=ExportEntry.Action.COPIED):
        assert sha256(small_destination / "photos" / entry.destination) == entry.sha256  # whole files only
    written = {str(p.relative_to(small_destination / "photos")) for p in (small_destination / "photos").rglob("*") if p.is_file()}
    assert written == set(ExportEntry.objects.filter(job=job, action=ExportEntry.Action.COPIED).values_list("destination", flat=True))
    assert {p.name: sha256(p) for p in folder.iterdir()} == originals
    # Entries claimed together with the one that hit the full disk are given back untouched.
    for entry in ExportEntry.objects.filter(job=job, status=File.Status.PENDING):
        assert entry.attempts == 0 and entry.claimed_by == ""

    # Once there is room, retrying the failed files finishes the export.
    (small_destination / "filler").unlink()
    assert retry_failed_files(job=job) == 1
    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token=uuid.uuid4().hex[:12])
    assert_each_entry_written_once(job, small_destination / "photos")


@pytest.mark.django_db
def test_a_copy_placed_by_a_worker_that_died_before_recording_it_is_the_exports_own(copy_media, tmp_path):
    import_folder(copy_media("elodie/plain.jpg", "elodie/with-location.jpg"))
    destination = tmp_path / "out"
    job = create_export_job(destination=destination, enqueue=False)
    ids = list(ExportEntry.objects.filter(job=job).values_list("id", flat=True))
    started = start_job(job.id)
    # A worker takes the first entry and writes its copy, then dies before its result is written.
    entry = ExportEntry.objects.select_related("file__job").get(id=ids[0])
    entry.job = started
    assert _claim(entry, "dead-batch", EXPORT_WORK)
    assert export_entry(entry) == ""
    assert (destination / entry.destination).is_file()
    assert ExportEntry.objects.get(id=ids[0]).status == File.Status.PROCESSING  # not on record

    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="dead-batch")  # handed out again

    again = ExportEntry.objects.get(id=ids[0])
    assert again.attempts == 2 and again.action == ExportEntry.Action.COPIED
    assert [c["path"] for c in again.created] == [entry.destination]
    assert_each_entry_written_once(job, destination)
    undo_export(job=Job.objects.get(id=job.id))
    assert not destination.exists()  # undo knew the copy the dead worker made


@pytest.mark.django_db
def test_an_export_batch_claims_its_entries_together_and_counts_one_attempt_each(copy_media, tmp_path):
    import_folder(copy_media(*THREE_PICTURES))
    destination = tmp_path / "out"
    job = create_export_job(destination=destination, enqueue=False)
    ids = list(ExportEntry.objects.filter(job=job).values_list("id", flat=True))

    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="batch-1")

    assert set(ExportEntry.objects.filter(job=job).values_list("attempts", "claimed_by")) == {(1, "batch-1")}
    assert_each_entry_written_once(job, destination)


@pytest.mark.django_db
def test_entries_claimed_together_with_one_a_worker_died_on_are_taken_back_one_by_one(copy_media, tmp_path):
    import_folder(copy_media(*THREE_PICTURES))
    destination = tmp_path / "out"
    job = create_export_job(destination=destination, enqueue=False)
    started = start_job(job.id)
    entries = list(ExportEntry.objects.filter(job=job).select_related("file__job").order_by("id"))
    for entry in entries:
        entry.job = started
    # A worker claims the three together, writes the first copy, then dies before any result is written.
    assert _claim_ahead(entries, "dead-batch", EXPORT_WORK) == {e.id for e in entries}
    assert export_entry(entries[0]) == ""

    process_batch(job_id=job.id, first_id=entries[0].id, last_id=entries[-1].id, token="dead-batch")

    # One crash costs each of them one attempt, never more; the copy the dead worker made is on record.
    assert list(ExportEntry.objects.filter(job=job).order_by("id").values_list("attempts", flat=True)) == [2, 2, 2]
    assert ExportEntry.objects.get(id=entries[0].id).created[0]["path"] == entries[0].destination
    assert_each_entry_written_once(job, destination)


@pytest.mark.django_db
def test_a_paused_export_stops_within_the_entries_claimed_together(copy_media, tmp_path, monkeypatch):
    import_folder(copy_media(*THREE_PICTURES))
    job = create_export_job(destination=tmp_path / "out", enqueue=False)
    ids = list(ExportEntry.objects.filter(job=job).values_list("id", flat=True))
    pause_after_first = dataclasses.replace(EXPORT_WORK, claim_ahead=2, do=lambda entry: pause(job) or export_entry(entry))
    monkeypatch.setattr("jobs.services.processing.work_for", lambda kind: pause_after_first)

    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="batch-1")

    job.refresh_from_db()
    assert job.status == Job.Status.PAUSED and job.progress_current == 2  # the two claimed together
    last = ExportEntry.objects.get(id=max(ids))
    assert (last.status, last.attempts, last.claimed_by) == (File.Status.PENDING, 0, "")


def pause(job: Job) -> None:
    Job.objects.filter(id=job.id).update(status=Job.Status.PAUSED)
