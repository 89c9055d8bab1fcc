"""Controlling jobs: pause, resume, cancel, retry failed files, and recovering stalled jobs."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django_q.models import OrmQ

from jobs.models import File, Job
from jobs.services.imports import enqueue_job
from jobs.services.processing import finish_job_if_done, work_for

log = logging.getLogger(__name__)


class ActionRefused(Exception):
    """The job's state does not allow the action."""

    def __init__(self, job: Job, action: str):
        self.job = job
        self.action = action
        self.allowed_actions = job.allowed_actions()
        if action not in _PAST:
            message = f"Unknown action '{action}'."
        else:
            message = f"A {job.status} job cannot be {_PAST[action]}."
        allowed = ", ".join(self.allowed_actions) or "none"
        super().__init__(f"{message} Allowed now: {allowed}.")


_PAST = {"pause": "paused", "resume": "resumed", "cancel": "cancelled", "retry": "retried"}


def control_job(*, job: Job, action: str) -> Job:
    """Apply an action with a compare-and-set on the job's status, so that of two requests racing,
    exactly one wins. Returns the job as it is afterwards."""
    if action not in Job.ACTIONS:
        raise ActionRefused(job, action)
    sources, target = Job.ACTIONS[action]
    changes = {"status": target}
    if target in Job.FINISHED:
        changes["completed_at"] = timezone.now()
    if target == Job.Status.RUNNING:
        changes["last_progress_at"] = timezone.now()
    with transaction.atomic():
        won = Job.objects.filter(id=job.id, status__in=sources).update(**changes)
        job.refresh_from_db()
        if not won:
            raise ActionRefused(job, action)
        if action == "resume":
            transaction.on_commit(lambda: enqueue_job(job))
    return job


def retry_failed_files(*, job: Job) -> int:
    """Put the job's failed files back on the queue. A finished job runs again, a running one
    takes them on, a paused one keeps them for its resume; a cancelled job is refused, since the
    person stopped it. Returns how many files."""
    retryable = [Job.Status.COMPLETED, Job.Status.FAILED, Job.Status.RUNNING, Job.Status.PAUSED]
    with transaction.atomic():
        # The job's row first: its state cannot change under us (and cancel cannot slip in).
        taken = Job.objects.filter(id=job.id, status__in=retryable).update(last_progress_at=timezone.now())
        if not taken:
            job.refresh_from_db()
            raise ActionRefused(job, "retry")
        failed = work_for(job.kind).model.objects.filter(job=job, status=File.Status.FAILED)
        count = failed.update(status=File.Status.PENDING, error="", attempts=0, claimed_by="", processed_at=None)
        if count:
            Job.objects.filter(id=job.id).update(
                status=Case(When(status=Job.Status.PAUSED, then=Value(Job.Status.PAUSED)), default=Value(Job.Status.RUNNING)),
                progress_current=F("progress_current") - count,
                error_count=F("error_count") - count,
                completed_at=None,
                failure="",
            )
        job.refresh_from_db()
        if count and job.status == Job.Status.RUNNING:
            transaction.on_commit(lambda: enqueue_job(job))
    return count


# Recovery looks at the queue only while it is this short; a longer queue is still working.
RECOVERY_QUEUE_LIMIT = 2000


def recover_stalled_jobs(*, quiet_seconds: float = 60) -> list[int]:
    """Queue again the unfinished files of jobs that should be moving but have no task left on the
    queue (a task lost to a crash, a web process that died before enqueueing) and have shown no
    progress for `quiet_seconds`. Runs when the cluster starts and every minute. Returns the ids of
    the jobs re-queued."""
    if OrmQ.objects.count() > RECOVERY_QUEUE_LIMIT:
        return []
    queued = jobs_with_queued_batches()
    quiet_since = timezone.now() - timedelta(seconds=quiet_seconds)
    recovered = []
    for job in Job.objects.filter(status__in=[Job.Status.PENDING, Job.Status.RUNNING]).exclude(id__in=queued):
        last_seen = job.last_progress_at or job.created_at
        if last_seen > quiet_since:
            continue
        if finish_job_if_done(job.id):
            continue
        log.warning("Job %s had no queued work; queueing its unfinished files again", job.id)
        enqueue_job(job)
        recovered.append(job.id)
    return recovered


def jobs_with_queued_batches() -> set[int]:
    """The jobs that have a batch on the queue, waiting or being worked on."""
    jobs = set()
    for row in OrmQ.objects.all().iterator():
        # A payload this process cannot read (signed with another key) is not ours: django-q2
        # answers it with a placeholder task that has no func.
        if row.task.get("func") == "jobs.tasks.process_batch":
            jobs.add(row.task["args"][0])
    return jobs
