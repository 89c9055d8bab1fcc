"""A batch reads its files once and claims each with one conditional update; the attempts it counts
must still match the database, since they decide when a file that kills workers is given up."""

import pytest

from jobs.models import File, Job
from jobs.services.imports import create_path_job
from jobs.services.processing import process_batch


@pytest.fixture
def job(copy_media):
    folder = copy_media("elodie/plain.jpg", "elodie/with-location.jpg", "elodie/no-exif.jpg")
    return create_path_job(path=folder, enqueue=False)


def run(job, token):
    ids = list(job.files.order_by("id").values_list("id", flat=True))
    process_batch(job_id=job.id, first_id=ids[0], last_id=ids[-1], token=token)
    job.refresh_from_db()
    return {f.original_name: f for f in job.files.all()}


@pytest.mark.django_db
def test_a_redelivered_batch_takes_back_the_file_it_died_on_and_counts_the_attempt(job):
    # The worker died while decoding the first file: claimed by this batch, one attempt counted.
    first = job.files.order_by("id").first()
    File.objects.filter(id=first.id).update(status=File.Status.PROCESSING, claimed_by="batch-1", attempts=1)

    files = run(job, "batch-1")

    assert job.status == Job.Status.COMPLETED and job.progress_current == 3
    assert files[first.original_name].attempts == 2
    assert files[first.original_name].status == File.Status.DONE
    assert all(f.attempts == 1 for name, f in files.items() if name != first.original_name)


@pytest.mark.django_db
def test_a_file_that_took_down_its_worker_too_often_is_given_up(job, settings):
    first = job.files.order_by("id").first()
    crashes = settings.MEDIAIMPORT_MAX_FILE_ATTEMPTS
    File.objects.filter(id=first.id).update(status=File.Status.PROCESSING, claimed_by="batch-1", attempts=crashes)

    files = run(job, "batch-1")

    assert files[first.original_name].status == File.Status.FAILED
    assert files[first.original_name].attempts == crashes + 1
    assert f"crashed the worker {crashes} times" in files[first.original_name].error
    assert job.error_count == 1 and job.progress_current == 3


@pytest.mark.django_db
def test_another_live_batchs_file_is_left_alone(job):
    first = job.files.order_by("id").first()
    File.objects.filter(id=first.id).update(status=File.Status.PROCESSING, claimed_by="batch-2", attempts=1)

    files = run(job, "batch-1")

    assert files[first.original_name].status == File.Status.PROCESSING
    assert files[first.original_name].attempts == 1 and files[first.original_name].claimed_by == "batch-2"
    assert job.status == Job.Status.RUNNING and job.progress_current == 2


@pytest.mark.django_db
def test_a_paused_job_stops_before_its_next_file(job):
    Job.objects.filter(id=job.id).update(status=Job.Status.PAUSED)

    files = run(job, "batch-1")

    assert job.status == Job.Status.PAUSED and job.progress_current == 0
    assert all(f.status == File.Status.PENDING and f.attempts == 0 for f in files.values())
