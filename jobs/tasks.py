"""Entry points for the django-q2 cluster. Each loads ids and calls a service."""

from jobs.services import control, processing


def process_batch(job_id: int, first_id: int, last_id: int, token: str) -> None:
    processing.process_batch(job_id=job_id, first_id=first_id, last_id=last_id, token=token)


def recover_stalled_jobs() -> list[int]:
    return control.recover_stalled_jobs()
