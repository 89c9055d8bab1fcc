"""The owner's library across jobs: files already imported, and --skip-known taking the earlier
file's results instead of decoding the file again."""

from datetime import UTC, datetime

import pytest
from django.core.files.storage import default_storage
from django_q.models import OrmQ

from jobs.models import File, Job
from jobs.services.control import control_job
from jobs.services.imports import KNOWN_BATCH_FACTOR, create_path_job
from jobs.services.processing import process_batch
from tests.importing import import_folder

PHOTOS = ("elodie/plain.jpg", "drewnoakes/jpg/Canon EOS 7D.jpg", "drewnoakes/heic/IMG_2927.HEIC")
BROKEN = "broken/elodie/invalid.jpg"


@pytest.fixture
def folder(copy_media):
    copy_media(*PHOTOS)
    return copy_media(BROKEN, into="broken")


def files_by_name(job: Job) -> dict[str, File]:
    return {file.original_name: file for file in job.files.all()}


RESULTS = (
    "sha256", "size", "mime_type", "width", "height", "captured_at", "capture_offset", "confidence",
    "capture_source", "capture_evidence", "capture_precision", "perceptual_hash", "picture_sha256", "shot",
)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_second_import_names_the_files_already_in_the_library(folder):
    first = import_folder(folder)
    assert first.already_imported_count == 0
    assert not first.files.filter(earlier_import__isnull=False).exists()

    second = import_folder(folder)

    earlier = files_by_name(first)
    files = files_by_name(second)
    # The broken file is done in neither job (failed), so the library does not hold it.
    assert second.already_imported_count == len(PHOTOS)
    for name, file in files.items():
        if name == "invalid.jpg":
            assert file.status == File.Status.FAILED and file.earlier_import is None
            continue
        assert file.earlier_import == earlier[name]
        for field in RESULTS:
            assert getattr(file, field) == getattr(earlier[name], field), (name, field)
    # Every file of the job stays listed in it.
    assert second.files.count() == first.files.count() == len(PHOTOS) + 1


@pytest.mark.django_db(transaction=True)
def test_skip_known_takes_the_earlier_results_without_decoding(folder):
    first = import_folder(folder)
    # A correction made in the library since (by hand here): a file decoded again would lose it,
    # a known file takes it as it is.
    corrected = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    evidence = [{"source": "manual", "value": corrected.isoformat(), "by": "alice"}]
    first.files.filter(original_name="plain.jpg").update(
        captured_at=corrected, capture_source="manual", confidence="high", capture_evidence=evidence
    )

    second = import_folder(folder, "--skip-known")

    assert second.skip_known and second.status == Job.Status.COMPLETED
    assert second.already_imported_count == len(PHOTOS)
    earlier, files = files_by_name(first), files_by_name(second)
    plain = files["plain.jpg"]
    assert (plain.captured_at, plain.capture_source, plain.capture_evidence) == (corrected, "manual", evidence)
    for name in ("Canon EOS 7D.jpg", "IMG_2927.HEIC"):
        for field in RESULTS:
            assert getattr(files[name], field) == getattr(earlier[name], field), (name, field)
    # The broken file is not in the library: it is read again, and fails again with its error.
    assert files["invalid.jpg"].status == File.Status.FAILED and files["invalid.jpg"].error

    # Each job has its own thumbnail: deleting the first job leaves the second's whole.
    for name in ("plain.jpg", "IMG_2927.HEIC"):
        assert files[name].thumbnail.name != earlier[name].thumbnail.name
    first.delete()
    for name in ("plain.jpg", "IMG_2927.HEIC"):
        file = File.objects.get(id=files[name].id)
        assert file.earlier_import is None  # the earlier file is gone; this one keeps its results
        with default_storage.open(file.thumbnail.name, "rb") as thumbnail:
            assert thumbnail.read(4) == b"RIFF"


@pytest.mark.django_db(transaction=True)
def test_the_library_is_the_owners(folder, alice, bob, api):
    import_folder(folder, "--user", "alice")

    ownerless = import_folder(folder)
    bobs = import_folder(folder, "--user", "bob", "--skip-known")
    alices = import_folder(folder, "--user", "alice", "--skip-known")
    ownerless_again = import_folder(folder)

    assert (ownerless.already_imported_count, bobs.already_imported_count) == (0, 0)
    assert alices.already_imported_count == len(PHOTOS)
    # Jobs without an owner are one owner of their own.
    assert ownerless_again.already_imported_count == len(PHOTOS)

    answer = api(alice).get(f"/api/jobs/{alices.id}").json()
    assert answer["already_imported_count"] == len(PHOTOS)
    files = api(alice).get(f"/api/jobs/{alices.id}/files").json()["files"]
    assert sorted(f["filename"] for f in files if f["already_imported"]) == sorted(p.rsplit("/", 1)[1] for p in PHOTOS)
    assert all(f["already_imported_from"] for f in files if f["already_imported"])


@pytest.mark.django_db
def test_import_path_api_takes_skip_known(folder, alice, api, settings):
    settings.MEDIAIMPORT_IMPORT_ROOTS = [folder.parent]
    answer = api(alice).post("/api/import-path", {"path": str(folder), "skip_known": True})
    assert answer.status_code == 201
    assert Job.objects.get(id=answer.json()["job_id"]).skip_known

    refused = api(alice).post("/api/import-path", {"path": str(folder), "skip_known": "yes"})
    assert refused.status_code == 400 and "skip_known" in refused.json()["error"]


@pytest.mark.django_db
def test_a_skip_known_job_is_queued_in_larger_batches(folder, settings, django_capture_on_commit_callbacks):
    settings.MEDIAIMPORT_BATCH_SIZE = 1
    with django_capture_on_commit_callbacks(execute=True):
        plain = create_path_job(path=folder)
    with django_capture_on_commit_callbacks(execute=True):
        known = create_path_job(path=folder, skip_known=True)

    batches = [row.task["args"][0] for row in OrmQ.objects.all()]
    assert batches.count(plain.id) == len(PHOTOS) + 1
    assert batches.count(known.id) == -(-(len(PHOTOS) + 1) // KNOWN_BATCH_FACTOR)


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_import_goes_on_from_what_it_did_when_its_folder_is_imported_again_skipping_known(folder):
    cancelled = create_path_job(path=folder, owner=None)
    first, second, *rest = cancelled.files.order_by("id")
    # One batch of two files runs, then the person cancels: the rest is never processed.
    process_batch(job_id=cancelled.id, first_id=first.id, last_id=second.id, token="first-batch")
    control_job(job=Job.objects.get(id=cancelled.id), action="cancel")
    # A time no decode would give, so that a file read again would show it.
    marker = datetime(1999, 9, 9, 9, 9, 9, tzinfo=UTC)
    cancelled.files.filter(status=File.Status.DONE).update(captured_at=marker)
    done = {f.original_name: f for f in cancelled.files.filter(status=File.Status.DONE)}
    assert done and cancelled.files.filter(status=File.Status.PENDING).count() == len(rest)

    again = import_folder(folder, "--skip-known")

    files = files_by_name(again)
    assert again.status == Job.Status.COMPLETED and again.already_imported_count == len(done)
    for name, file in files.items():
        if name in done:  # taken from the cancelled job, not read again
            assert file.earlier_import_id == done[name].id
            assert (file.captured_at, file.perceptual_hash) == (marker, done[name].perceptual_hash)
        else:  # never processed before: read now
            assert file.earlier_import_id is None and file.status in (File.Status.DONE, File.Status.FAILED)
    assert len(files) == len(PHOTOS) + 1
