"""Entry points for the django-q2 cluster. Each loads ids and calls a service."""

from jobs.models import Job
from jobs.services import control, duplicates, processing


def process_batch(job_id: int, first_id: int, last_id: int, token: str) -> None:
    processing.process_batch(job_id=job_id, first_id=first_id, last_id=last_id, token=token)


def recover_stalled_jobs() -> list[int]:
    return control.recover_stalled_jobs()


def refresh_duplicate_groups(job_id: int | None = None) -> None:
    job = Job.objects.filter(id=job_id).first() if job_id is not None else None
    if job_id is not None and job is None:
        return  # the job is gone, and its files with it
    duplicates.refresh_duplicate_groups(job=job)
