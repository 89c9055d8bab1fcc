"""Processing a job's units of work, the work of one queued batch: an import's Files, an export's
entries (see Work).

Each file is claimed before any decoding, with an attempt counted, so a worker that dies on a file
(killed, out of memory, timed out) is known and a file that keeps taking workers down ends as an
error instead of looping. Results are written a few at a time, each write moving the job's
progress counts in the same transaction, so the counts always match the files."""

import errno
import functools
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Model, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from jobs.models import File, FileStatus, Job
from jobs.pipeline.hashing import sha256_of
from jobs.services import liveness
from jobs.services.corrections import apply_earlier_corrections
from jobs.services.library import Known, earlier_import_id, known_file
from jobs.storage import local_path, save_thumbnail

if TYPE_CHECKING:
    from jobs.pipeline.analysis import Analysis

log = logging.getLogger(__name__)

# Results are written every FLUSH_FILES files or FLUSH_SECONDS seconds, whichever comes first.
FLUSH_FILES = 10
FLUSH_SECONDS = 2.0

RESULT_FIELDS = [
    "status", "processed_at", "error", "size", "sha256", "mime_type", "width", "height", "duration",
    "camera", "shot", "captured_at", "capture_offset", "confidence", "capture_source",
    "capture_evidence", "capture_conflict", "capture_precision", "capture_offset_known", "perceptual_hash",
    "picture_sha256", "content_identifier", "thumbnail", "earlier_import_id",
]  # fmt: skip
# What a file of a skip_known job takes from its earlier import: every result but its own state.
OWN_STATE = ("status", "processed_at", "error", "thumbnail", "earlier_import_id")
KNOWN_FIELDS = [name for name in RESULT_FIELDS if name not in OWN_STATE]


class JobCannotGoOn(Exception):
    """Raised by a unit's work when the whole job must stop (an export's destination is full):
    the job fails with this message, and so does the unit in hand."""


@dataclass(frozen=True)
class Work:
    """What a job's batches work through, by job kind. A unit is a row with the claim fields
    (job, status, attempts, claimed_at, claimed_by, processed_at, error); `do` does one unit's
    work, setting its `result_fields` on the row in memory, and returns an error for a person
    ("" when it went well)."""

    model: type[Model]
    result_fields: tuple[str, ...]
    do: Callable[[Model], str]
    rows: Callable[[QuerySet], QuerySet] = lambda rows: rows
    batch_size: int | None = None  # units per queued batch; MEDIAIMPORT_BATCH_SIZE when None
    # Called with the ids of the units just written, in the same transaction.
    after_written: Callable[[list[int]], None] | None = None
    # Claim this many first attempts with one statement rather than one each (0: one by one): for
    # units that take milliseconds (an export's plain copy), a claim per unit was a fifth of the
    # work, and two workers' claims waited on each other's write lock. Pause and cancel are then
    # seen every `claim_ahead` units; units claimed but not started when a batch stops are given
    # back untouched; a worker that dies charges an attempt to the units claimed with the one in
    # hand (one crash costs each one attempt, and they are then worked one at a time, as any unit
    # taken back after a crash is). With a single attempt allowed that would fail them, so units
    # are then claimed one by one.
    claim_ahead: int = 0

    @property
    def units_per_batch(self) -> int:
        return self.batch_size or settings.MEDIAIMPORT_BATCH_SIZE


def work_for(kind: str) -> Work:
    if kind == Job.Kind.EXPORT:
        from jobs.services.export import EXPORT_WORK  # the export module builds on this one

        return EXPORT_WORK
    return IMPORT_WORK


def process_batch(*, job_id: int, first_id: int, last_id: int, token: str) -> None:
    """Process the job's unfinished units with ids in [first_id, last_id], stopping at the next
    unit boundary once the job is no longer running (paused, cancelled)."""
    job = start_job(job_id)
    if job is None:
        return
    work = work_for(job.kind)
    results = Results(job_id, token, work)
    cancelled = False
    # Units claimed ahead and not yet started; a batch that stops early gives them back untouched.
    claimed_ahead: set[int] = set()
    try:
        files = _unfinished_files(job, first_id, last_id, work)
        for n, file in enumerate(files):
            if liveness.stopping():
                # The cluster is being stopped (Ctrl-C): the units left go back on the queue under
                # the same token, for whichever cluster runs next, instead of holding the stop up.
                results.flush()
                _release(claimed_ahead, token, work)
                claimed_ahead.clear()
                queue_batch(job_id=job_id, first_id=file.id, last_id=last_id, token=token)
                break
            if file.id in claimed_ahead:
                claimed_ahead.discard(file.id)
                taken = True
            elif work.claim_ahead and file.attempts == 0 and settings.MEDIAIMPORT_MAX_FILE_ATTEMPTS > 1:
                ahead = _claim_ahead(files[n : n + work.claim_ahead], token, work)
                taken = file.id in ahead
                claimed_ahead |= ahead - {file.id}
            else:
                taken = _claim(file, token, work)
            if not taken:
                status = _job_status(job_id)
                if status != Job.Status.RUNNING:
                    cancelled = status == Job.Status.CANCELLED
                    break  # paused or cancelled: stop at this file boundary
                continue  # another batch has it
            if file.attempts > settings.MEDIAIMPORT_MAX_FILE_ATTEMPTS:
                crashes = file.attempts - 1
                results.add(
                    file,
                    failure=f"Processing this file crashed the worker {crashes} times "
                    "(killed, out of memory or over the time limit); skipped",
                )
                continue
            suspect = file.attempts > 1
            if suspect:
                # A file that was being processed when a worker died goes alone, with the other
                # results already written, so that another crash is charged to it only.
                results.flush()
            results.add(file, failure=work.do(file))
            if suspect:
                results.flush()
    except JobCannotGoOn as e:
        results.add(file, failure=str(e))
        results.flush()
        fail_job(job_id, str(e))
        return
    except SystemExit:
        # django-q2 stops a task that outlasts its timeout by raising SystemExit inside it, then
        # acknowledges the task as failed, so nothing would hand the rest of this batch out again.
        # It goes back on the queue under the same token, after the finished results are written:
        # the file in hand, charged an attempt already, is taken back at once instead of waiting
        # for its claim to go stale.
        results.flush()
        _release(claimed_ahead, token, work)
        claimed_ahead.clear()
        queue_batch(job_id=job_id, first_id=first_id, last_id=last_id, token=token)
        raise
    finally:
        results.flush()
        _release(claimed_ahead, token, work)
    if cancelled and results.written and job.kind != Job.Kind.EXPORT:
        # The file in hand when the cancel came was written after it: the regrouping that the
        # cancel queued may have run without it.
        queue_regrouping(job_id)
    finish_job_if_done(job_id)


def queue_batch(*, job_id: int, first_id: int, last_id: int, token: str) -> None:
    """Put one batch of the job's files on the queue for process_batch."""
    async_task(
        "jobs.tasks.process_batch",
        job_id,
        first_id,
        last_id,
        token,
        task_name=f"job {job_id} files {first_id}-{last_id}",
        group=f"job-{job_id}",
    )


@functools.cache
def load_pipeline():
    """The pipeline's analysis, imported and set up at a process's first file: its decoders (numpy,
    scipy, PyAV, libheif) take a quarter of a second to load and tens of megabytes that the web
    server and the import command, which import this module too, never need."""
    from jobs.pipeline import analysis

    analysis.configure_decoders(max_image_pixels=settings.MEDIAIMPORT_MAX_IMAGE_PIXELS)
    return analysis


def import_file(file: File) -> str:
    """An import's unit of work: analyse the file and set what was learned on it."""
    analysis = analyse_file(file)
    if isinstance(analysis, str):
        return analysis
    if isinstance(analysis, Known):
        _take_known(file, analysis)
        return file.error
    _apply(file, analysis)
    file.earlier_import_id = earlier_import_id(job=file.job, sha256=file.sha256)
    return file.error


def analyse_file(file: File) -> "Analysis | Known | str":
    """The file's analysis, the earlier import whose results it takes (a skip_known job's file
    the owner's library holds already), or the error that kept it from being read at all."""
    is_path = file.job.kind == Job.Kind.PATH
    try:
        with local_path(file) as path:
            digest = None
            if file.job.skip_known:
                digest = sha256_of(path)
                if (known := known_file(job=file.job, sha256=digest[0], fields=KNOWN_FIELDS)) is not None:
                    return known
            file_modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) if is_path else None
            return load_pipeline().analyse(
                path,
                digest=digest,
                name=file.original_name,
                folders=tuple(file.folder.split("/")) if file.folder else (),
                zone=ZoneInfo(settings.TIME_ZONE),
                file_modified=file_modified,
                client_modified=file.client_modified_at,
                imported_at=file.job.created_at,
                sidecars=is_path,
            )
    except FileNotFoundError:
        return "The file is no longer there"
    except PermissionError:
        return "The file cannot be read: permission denied"
    except OSError as e:
        return f"The file cannot be read: {e.strerror or e}"
    except Exception as e:  # a bug or a decoder's surprise must not stop the job
        log.exception("Unexpected error processing file %s (%s)", file.id, file.path)
        return f"Unexpected error while reading the file: {type(e).__name__}: {e}"


class Results:
    """Finished units waiting to be written, with the job's counts, in one transaction."""

    def __init__(self, job_id: int, token: str, work: "Work | None" = None):
        self.job_id = job_id
        self.token = token
        self.work = work or IMPORT_WORK
        self.pending: list[File] = []
        self.since = time.monotonic()
        self.written = 0  # results written by this batch

    def add(self, file: File, *, analysis: "Analysis | str | None" = None, failure: str = "") -> None:
        if isinstance(analysis, str):
            failure = analysis
        elif analysis is not None:
            _apply(file, analysis)
        if failure:
            file.error = failure
        file.status = FileStatus.FAILED if file.error else FileStatus.DONE
        file.processed_at = timezone.now()
        self.pending.append(file)
        if len(self.pending) >= FLUSH_FILES or time.monotonic() - self.since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self.since = time.monotonic()
        if not self.pending:
            return
        written, errors, known, done = 0, 0, 0, []
        with transaction.atomic():
            for file in self.pending:
                # Written only while the file is still this batch's, so that a result is written
                # and counted once even if another batch took the file over meanwhile.
                if _write_result(file, self.token, self.work):
                    written += 1
                    errors += file.status == FileStatus.FAILED
                    known += getattr(file, "earlier_import_id", None) is not None
                    done.append(file.id)
            if self.work.after_written:
                self.work.after_written(done)
            Job.objects.filter(id=self.job_id).update(
                progress_current=F("progress_current") + written,
                error_count=F("error_count") + errors,
                already_imported_count=F("already_imported_count") + known,
                last_progress_at=timezone.now(),
            )
        self.written += written
        self.pending = []


def _write_result(unit: Model, token: str, work: Work) -> bool:
    """Write the unit's results while it is still this batch's; False when another batch took it
    over meanwhile."""
    sql, fields = _result_statement(work.model, work.result_fields, connection.vendor)
    values = [field.get_db_prep_save(_db_value(unit, name), connection) for name, field in zip(work.result_fields, fields)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, unit.id, FileStatus.PROCESSING, token])
        return cursor.rowcount == 1


# Every unit's result is written by this statement. Built through the ORM's update it cost more
# than running it (1.5 ms a file, a tenth of a known file's time); written once per model instead,
# each value still prepared by its field as the ORM would, for SQLite and PostgreSQL alike.
@functools.cache
def _result_statement(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, list]:
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    where = " AND ".join(f"{quote(column)} = %s" for column in ("id", "status", "claimed_by"))
    sql = f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {where}"
    return sql, fields


def _db_value(file: Model, name: str):
    return file.thumbnail.name if name == "thumbnail" else getattr(file, name)


def _apply(file: File, analysis: "Analysis") -> None:
    file.error = _storable(analysis.error)
    file.size = analysis.size
    file.sha256 = analysis.sha256
    file.mime_type = analysis.mime_type
    file.width, file.height, file.duration = analysis.width, analysis.height, analysis.duration
    file.camera, file.shot = _storable(analysis.camera), _storable(analysis.shot)
    capture = analysis.capture
    file.captured_at = capture.value
    file.capture_offset = int(capture.value.utcoffset().total_seconds() // 60) if capture.value else None
    file.confidence = capture.confidence
    file.capture_source = _storable(capture.source)
    file.capture_evidence = _storable([e.as_dict() for e in capture.evidence])
    file.capture_conflict = capture.conflict
    file.capture_precision = capture.precision if capture.value else ""
    file.capture_offset_known = capture.offset_known
    # A picture too small or featureless to compare has no fingerprint.
    file.perceptual_hash = analysis.fingerprint or ""
    file.picture_sha256 = analysis.picture_sha256
    file.content_identifier = _storable(analysis.content_identifier)
    if analysis.thumbnail:
        try:
            file.thumbnail.name = save_thumbnail(file, analysis.thumbnail)
        except OSError as e:
            # The file fails with the reason, and retrying failed files redoes it once there is room.
            file.error = _storage_error(e, "the thumbnail could not be stored")


def _take_known(file: File, known: Known) -> None:
    """The earlier import's results as they are, and a copy of its thumbnail under this file's own
    name, so that deleting either job leaves the other's whole."""
    for name in KNOWN_FIELDS:
        setattr(file, name, known.earlier[name])
    file.earlier_import_id = known.earlier["id"]
    file.error = ""
    if known.thumbnail:
        try:
            file.thumbnail.name = save_thumbnail(file, known.thumbnail)
        except OSError as e:
            file.error = _storage_error(e, "the thumbnail could not be stored")


def _storage_error(error: OSError, what: str) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"Disk full: {what}. Free some space, then retry the failed files."
    return f"Storage error: {what}: {error.strerror or error}"


def _storable(value):
    """The value without NUL characters, which EXIF strings often carry and PostgreSQL refuses in
    text and JSON (SQLite would keep them); they never mean anything to a person."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    return value


def warm_up_pipeline() -> None:
    """Load the pipeline and run it once on a small picture, so that the imports it makes on first
    use (scipy's DCT for the perceptual hash, Pillow's plugins and WebP encoder) are done. qcluster
    does this before forking its workers: they share these modules' memory, and no worker's first
    batch waits for them."""
    from PIL import Image  # only a cluster warms up; the web server and commands load Pillow when they need it

    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "warm-up.jpg"
            # A gradient, so that the fingerprint is computed too (a flat picture gets none).
            Image.linear_gradient("L").resize((64, 48)).convert("RGB").save(path, "JPEG")
            load_pipeline().analyse(path, name=path.name, zone=ZoneInfo(settings.TIME_ZONE), sidecars=False)
    except Exception:  # the workers still work; their first files are only slower
        log.exception("Warming up the pipeline failed")


def start_job(job_id: int) -> Job | None:
    """Move a pending job to running; the job when it is running and batches should work, None
    when it is paused, cancelled, finished or gone."""
    now = timezone.now()
    Job.objects.filter(id=job_id, status=Job.Status.PENDING).update(
        status=Job.Status.RUNNING, started_at=Coalesce(F("started_at"), now), last_progress_at=now
    )
    return Job.objects.filter(id=job_id, status=Job.Status.RUNNING).first()


def finish_job_if_done(job_id: int) -> bool:
    """Complete a running (or empty pending) job once none of its units is left to do."""
    kind = Job.objects.filter(id=job_id).values_list("kind", flat=True).first()
    if kind is None:
        return False
    # One statement, so files added meanwhile (a later upload request) cannot be missed.
    unfinished = work_for(kind).model.objects.filter(job_id=OuterRef("id"), status__in=File.UNFINISHED)
    now = timezone.now()
    completed = Job.objects.filter(
        ~Exists(unfinished), id=job_id, status__in=[Job.Status.PENDING, Job.Status.RUNNING]
    ).update(status=Job.Status.COMPLETED, completed_at=now, started_at=Coalesce(F("started_at"), now))
    if completed and kind != Job.Kind.EXPORT:
        queue_regrouping(job_id)
    return bool(completed)


def queue_regrouping(job_id: int) -> None:
    """Bring the library's duplicate groups up to date with a job that ended, in whatever state:
    a cancelled job's files are in the library as much as a completed job's. Regrouping is a task
    of its own, so neither a batch's worker nor a request waits for it."""
    transaction.on_commit(
        lambda: async_task("jobs.tasks.refresh_duplicate_groups", job_id, task_name=f"job {job_id} duplicates")
    )


def fail_job(job_id: int, failure: str) -> bool:
    """The job cannot go on at all: it fails with the reason, unless it already ended."""
    return bool(
        Job.objects.filter(id=job_id, status__in=[Job.Status.PENDING, Job.Status.RUNNING, Job.Status.PAUSED]).update(
            status=Job.Status.FAILED, failure=failure, completed_at=timezone.now()
        )
    )


def _unfinished_files(job: Job, first_id: int, last_id: int, work: Work) -> list[Model]:
    """The batch's units still to do, read once when it starts; each is still claimed against the
    database before it is touched."""
    rows = work.model.objects.filter(job=job, id__gte=first_id, id__lte=last_id, status__in=File.UNFINISHED)
    files = list(work.rows(rows).order_by("id"))
    for file in files:
        file.job = job  # the batch's job, loaded once, not once per file
    return files


def _job_status(job_id: int) -> str | None:
    return Job.objects.filter(id=job_id).values_list("status", flat=True).first()


# The one statement every file runs. Built through the ORM it cost three times what it takes to
# run (0.7 of 0.2 ms; with the cluster, 0.6 ms of a 34 ms photo). Written once instead, for SQLite
# and PostgreSQL alike; tests/test_processing_claims.py runs on both.
CLAIM = """
    UPDATE {table}
    SET status = %(processing)s, claimed_by = %(token)s, claimed_at = %(now)s, attempts = attempts + 1
    WHERE {which}
      AND (status = %(pending)s OR (status = %(processing)s AND (claimed_by = %(token)s OR claimed_at < %(stale)s)))
      AND job_id IN (SELECT id FROM {jobs} WHERE id = %(job)s AND status = %(running)s)
"""


@functools.cache
def _claim_statement(model: type[Model], count: int = 0) -> str:
    """The claim of one unit (%(file)s), or of `count` units (%(unit0)s, …) naming those taken."""
    if not count:
        return CLAIM.format(table=model._meta.db_table, jobs=Job._meta.db_table, which="id = %(file)s")
    units = ", ".join(f"%(unit{n})s" for n in range(count))
    return CLAIM.format(table=model._meta.db_table, jobs=Job._meta.db_table, which=f"id IN ({units})") + " RETURNING id"


def _claim_parameters(job_id: int, token: str, now: datetime) -> dict:
    stale = now - timedelta(seconds=settings.Q_CLUSTER["retry"])
    return {
        "job": job_id,
        "token": token,
        "now": connection.ops.adapt_datetimefield_value(now),
        "stale": connection.ops.adapt_datetimefield_value(stale),
        "pending": FileStatus.PENDING,
        "processing": FileStatus.PROCESSING,
        "running": Job.Status.RUNNING,
    }


def _claim(file: Model, token: str, work: "Work | None" = None) -> bool:
    """Take the file for this batch, counting an attempt; False when another live batch has it or
    the job is no longer running.

    A file already marked processing is taken when this same batch had it (its task was handed out
    again because the worker died) or when its claim is older than the queue's retry time (the
    batch that had it is gone). The job's status is part of the same conditional update, so a
    pause or cancel is seen at the next file without a query of its own on every file."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_statement((work or IMPORT_WORK).model), {"file": file.id, **_claim_parameters(file.job_id, token, now)}
        )
        if cursor.rowcount != 1:
            return False
    # The copy read when the batch started, brought up to date without reading it again: a claim
    # by any other batch since then would have made this update fail (a batch runs for less than
    # the task timeout, so no claim made after it started is stale yet), so the database's count
    # of attempts is the copy's plus the one just counted.
    _claimed(file, token, now)
    return True


def _claim_ahead(files: list[Model], token: str, work: Work) -> set[int]:
    """Claim the files that are first attempts, as _claim does each, in one statement; the ids
    taken (none when the job is no longer running)."""
    files = [f for f in files if f.attempts == 0]
    now = timezone.now()
    parameters = {f"unit{n}": f.id for n, f in enumerate(files)}
    with connection.cursor() as cursor:
        cursor.execute(_claim_statement(work.model, len(files)), {**parameters, **_claim_parameters(files[0].job_id, token, now)})
        taken = {row[0] for row in cursor.fetchall()}
    for file in files:
        if file.id in taken:
            _claimed(file, token, now)
    return taken


def _release(ids: set[int], token: str, work: Work) -> None:
    """Give back units claimed ahead that were never started, as they were before the claim."""
    if ids:
        work.model.objects.filter(id__in=ids, status=FileStatus.PROCESSING, claimed_by=token).update(
            status=FileStatus.PENDING, attempts=F("attempts") - 1, claimed_by="", claimed_at=None
        )


def _claimed(file: Model, token: str, now: datetime) -> None:
    file.status, file.claimed_by, file.claimed_at = FileStatus.PROCESSING, token, now
    file.attempts += 1


# A picture the owner corrected before gets that correction again.
IMPORT_WORK = Work(model=File, result_fields=tuple(RESULT_FIELDS), do=import_file, after_written=apply_earlier_corrections)
