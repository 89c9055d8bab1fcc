"""Creating import jobs and putting their files on the queue."""

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import Case, F, Value, When

from jobs.batching import batched
from jobs.folders import media_files, skipped_summary
from jobs.models import File, Job
from jobs.pipeline import formats
from jobs.services.processing import finish_job_if_done, queue_batch, work_for

BULK_CREATE_SIZE = 1000


class ImportRefused(Exception):
    """The import cannot start; the message says why in words a person can act on."""


class NothingToImport(ImportRefused):
    """A folder without a single photo or video we import; `skipped` names what it holds instead."""

    def __init__(self, path: Path, skipped: dict[str, int]):
        self.skipped = skipped
        holds = f" Skipped {sum(skipped.values())} files ({skipped_summary(skipped)})." if skipped else ""
        super().__init__(
            f"Nothing to import in {path}: it holds no photo or video of a type we import "
            f"({formats.ALLOWED_NAMES}).{holds}"
        )


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file already saved whole in storage."""

    storage_name: str
    original_name: str
    folder: str = ""
    client_modified_at: datetime | None = None


def create_path_job(*, path: Path, owner=None, enqueue: bool = True) -> Job:
    """A job for every photo and video below a server folder, left where they are."""
    if not path.is_absolute():
        raise ImportRefused(f"The path must be absolute: {path}")
    try:
        root = path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise ImportRefused(f"No such folder: {path}") from None
    if not root.is_dir():
        raise ImportRefused(f"Not a folder: {path}")
    skipped = Counter()
    with transaction.atomic():
        job = Job.objects.create(kind=Job.Kind.PATH, source_path=str(root), owner=owner)
        files = (
            File(job=job, original_name=p.name, path=str(p), folder=folder)
            for p, folder in media_files(root, skipped)
        )
        _record_files(job, files, enqueue=enqueue)
        if not job.progress_total:
            raise NothingToImport(path, dict(skipped))  # inside the transaction: no empty job is kept
        job.skipped_count, job.skipped = skipped.total(), dict(skipped)
        job.save(update_fields=["skipped_count", "skipped"])
    return job


def create_upload_job(*, owner, uploads: Iterable[StoredUpload], enqueue: bool = True) -> Job:
    with transaction.atomic():
        job = Job.objects.create(kind=Job.Kind.UPLOAD, owner=owner)
        _record_files(job, _upload_files(job, uploads), enqueue=enqueue)
    return job


def add_uploads_to_job(*, job: Job, uploads: Iterable[StoredUpload]) -> Job:
    """Later requests of one selection join the job of the first, so a pile larger than one
    request is still one job. A job that already completed runs again for the new files."""
    joinable = [Job.Status.PENDING, Job.Status.RUNNING, Job.Status.PAUSED, Job.Status.COMPLETED]
    with transaction.atomic():
        # Taking the row first: the job cannot be cancelled or completed under us meanwhile.
        updated = Job.objects.filter(id=job.id, kind=Job.Kind.UPLOAD, status__in=joinable).update(
            status=Case(When(status=Job.Status.COMPLETED, then=Value(Job.Status.RUNNING)), default=F("status")),
            completed_at=None,
        )
        if not updated:
            job.refresh_from_db()
            raise ImportRefused(f"Job {job.id} can take no more files: it is {job.status}.")
        job.refresh_from_db()
        _record_files(job, _upload_files(job, uploads), enqueue=job.status != Job.Status.PAUSED)
    return job


def _upload_files(job: Job, uploads: Iterable[StoredUpload]) -> Iterator[File]:
    for u in uploads:
        yield File(
            job=job,
            original_name=u.original_name,
            path=u.storage_name,
            folder=u.folder,
            client_modified_at=u.client_modified_at,
        )


def _record_files(job: Job, files: Iterable[File], *, enqueue: bool) -> None:
    added, first_id = 0, None
    for chunk in batched(files, BULK_CREATE_SIZE):
        created = File.objects.bulk_create(chunk)
        first_id = first_id or created[0].id
        added += len(chunk)
    Job.objects.filter(id=job.id).update(progress_total=F("progress_total") + added)
    job.refresh_from_db(fields=["progress_total"])
    if enqueue:
        # The cluster must not look for a job whose row is not committed yet.
        transaction.on_commit(lambda: enqueue_job(job, from_id=first_id or 0))


def enqueue_job(job: Job, *, from_id: int = 0) -> int:
    """Queue the job's unfinished units of work (an import's files, an export's entries), with ids
    from `from_id` on, in batches; returns how many batches. A job with nothing left to do is
    completed at once."""
    work = work_for(job.kind)
    ids = (
        work.model.objects.filter(job=job, status__in=File.UNFINISHED, id__gte=from_id)
        .order_by("id")
        .values_list("id", flat=True)
        .iterator(chunk_size=5000)
    )
    # The token tells a batch handed out again after its worker died (same token: it may take
    # back its own files) from a batch queued anew by resume or recovery.
    enqueued = uuid.uuid4().hex[:12]
    count = 0
    with transaction.atomic():
        for batch in batched(ids, work.units_per_batch):
            queue_batch(job_id=job.id, first_id=batch[0], last_id=batch[-1], token=f"{enqueued}-{batch[0]}")
            count += 1
    if count == 0:
        finish_job_if_done(job.id)
    return count
