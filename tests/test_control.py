"""Job control services: the rules every entry point (API, page, admin) shares."""

import pytest

from jobs.models import File, Job
from jobs.services.control import ActionRefused, retry_failed_files

pytestmark = pytest.mark.django_db


def job_with_a_failed_file(status: str) -> Job:
    job = Job.objects.create(kind=Job.Kind.PATH, status=status, progress_total=2, progress_current=2, error_count=1)
    File.objects.create(job=job, original_name="ok.jpg", path="/x/ok.jpg", status=File.Status.DONE)
    File.objects.create(job=job, original_name="bad.jpg", path="/x/bad.jpg", status=File.Status.FAILED, error="Damaged", attempts=1)
    return job


@pytest.mark.parametrize(
    "status, after",
    [
        (Job.Status.COMPLETED, Job.Status.RUNNING),
        (Job.Status.FAILED, Job.Status.RUNNING),
        (Job.Status.RUNNING, Job.Status.RUNNING),
        (Job.Status.PAUSED, Job.Status.PAUSED),  # kept for its resume
    ],
)
def test_retrying_failed_files_puts_them_back_and_the_counts_with_them(status, after, django_capture_on_commit_callbacks):
    job = job_with_a_failed_file(status)

    with django_capture_on_commit_callbacks() as queued:
        assert retry_failed_files(job=job) == 1

    job.refresh_from_db()
    assert (job.status, job.progress_current, job.error_count) == (after, 1, 0)
    bad = job.files.get(original_name="bad.jpg")
    assert (bad.status, bad.error, bad.attempts) == (File.Status.PENDING, "", 0)
    assert len(queued) == (0 if after == Job.Status.PAUSED else 1)  # a paused job is queued on resume


def test_a_cancelled_job_is_not_retried(django_capture_on_commit_callbacks):
    job = job_with_a_failed_file(Job.Status.CANCELLED)

    with pytest.raises(ActionRefused, match="A cancelled job cannot be retried"):
        retry_failed_files(job=job)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.files.get(original_name="bad.jpg").status == File.Status.FAILED
