"""Queries that the page, the API and the admin read."""

from django.db.models import Count, F, QuerySet

from jobs.models import Confidence, DuplicateGroup, DuplicateKind, File, Job


def jobs_for(user) -> QuerySet[Job]:
    """The jobs a user may see: their own, or every job for staff."""
    jobs = Job.objects.select_related("owner")
    return jobs if user.is_staff else jobs.filter(owner=user)


def files_for(user) -> QuerySet[File]:
    """The files of the jobs a user may see."""
    return File.objects.select_related("job").filter(job__in=jobs_for(user))


def job_files(job: Job, *, confidence: str | None = None, status: str | None = None) -> QuerySet[File]:
    """The job's files in a stable order (id), optionally of one confidence or one processing
    status; the (job, confidence, id) and (job, status) indexes serve them."""
    files = File.objects.filter(job=job).select_related("job").order_by("id")
    if confidence:
        files = files.filter(confidence=confidence)
    if status:
        files = files.filter(status=status)
    return files


def confidence_counts(job: Job) -> dict[str, int]:
    """How many of the job's files have each confidence, every confidence named."""
    counts = dict.fromkeys(Confidence.values, 0)
    rows = File.objects.filter(job=job).order_by().values_list("confidence").annotate(n=Count("id"))
    counts.update(rows)
    return counts


def exact_duplicate_groups(job: Job) -> list[tuple[str, list[File]]]:
    """The job's files that share a SHA-256, as (sha256, files) for each group of two or more."""
    shared = (
        File.objects.filter(job=job).exclude(sha256="").values("sha256").annotate(n=Count("id")).filter(n__gt=1)
    )
    files = File.objects.filter(job=job, sha256__in=shared.values("sha256")).order_by("sha256", "id")
    groups: dict[str, list[File]] = {}
    for file in files:
        file.job = job  # known already: no join, no Job built per file
        groups.setdefault(file.sha256, []).append(file)
    return list(groups.items())


def near_duplicate_groups(job: Job) -> list[tuple[str, list[File]]]:
    """The library's near-duplicate groups that hold two or more of the job's files, as (key,
    files) with only the job's own files (another job's files may belong to someone else).
    Groups that staff marked as not duplicates are left out."""
    groups = (
        DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR, not_duplicates=False, files__job=job)
        .annotate(n=Count("files"))
        .filter(n__gt=1)
        .order_by("key")
    )
    members = (
        File.objects.filter(job=job, duplicate_memberships__group__in=groups)
        .annotate(group_key=F("duplicate_memberships__group__key"))
        .order_by("group_key", "id")
    )
    found: dict[str, list[File]] = {}
    for file in members:
        file.job = job
        found.setdefault(file.group_key, []).append(file)
    return list(found.items())
