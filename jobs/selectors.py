"""Queries that the page, the API and the admin read."""

from django.db.models import Count, F, Q, QuerySet

from jobs.models import Confidence, DuplicateGroup, DuplicateKind, DuplicateMember, ExportEntry, File, Job


def jobs_for(user) -> QuerySet[Job]:
    """The jobs a user may see: their own, or every job for staff."""
    jobs = Job.objects.select_related("owner")
    return jobs if user.is_staff else jobs.filter(owner=user)


def files_for(user) -> QuerySet[File]:
    """The files of the jobs a user may see."""
    return File.objects.select_related("job").filter(job__in=jobs_for(user))


# What a listing shows of a file (serializers.file_dict). Listings read these columns as rows: the
# duplicates call lists thousands of files at once, and building a File for each, with every
# column converted, was a quarter of its time.
LISTED_FIELDS = (
    "id", "original_name", "path", "folder", "status", "captured_at", "capture_offset", "confidence",
    "capture_source", "capture_evidence", "capture_conflict", "sha256", "size", "width", "height",
    "duration", "mime_type", "thumbnail", "error", "capture_precision", "capture_offset_known", "companion_id",
    "camera", "companion__original_name", "companion__thumbnail", "companion__mime_type", "earlier_import_id",
)  # fmt: skip


# The group of files not processed yet (waiting, or in a worker's hands): they have no confidence
# yet, not confidence "none", which says a file was read and told no date.
PENDING = "pending"
# A file needs a person's look when its capture time is a guess, missing, or contradicted.
NEEDS_REVIEW = Q(status=File.Status.DONE) & (
    Q(confidence__in=[Confidence.LOW, Confidence.NONE]) | Q(capture_conflict=True)
)
SORTS = {
    "id": ["id"],
    # By instant, oldest first, undated last; id keeps files of the same instant in a stable order.
    "capture_time": [F("captured_at").asc(nulls_last=True), "id"],
}


def job_files(
    job: Job,
    *,
    confidence: str | None = None,
    status: str | None = None,
    pending: bool = False,
    needs_review: bool = False,
    sort: str = "id",
) -> QuerySet:
    """The job's files as rows of LISTED_FIELDS, in a stable order (id, or capture time),
    optionally of one confidence (processed files only), one processing status, only those not
    processed yet, or only those that need review; the (job, confidence, id) and (job, status)
    indexes serve them."""
    files = File.objects.filter(job=job).order_by(*SORTS[sort]).values(*LISTED_FIELDS)
    if confidence:
        files = files.filter(confidence=confidence).exclude(status__in=File.UNFINISHED)
    if status:
        files = files.filter(status=status)
    if pending:
        files = files.filter(status__in=File.UNFINISHED)
    if needs_review:
        files = files.filter(NEEDS_REVIEW)
    return files


def needs_review_count(job: Job) -> int:
    return File.objects.filter(NEEDS_REVIEW, job=job).count()


def listed_files(file_ids: list[int]) -> list[dict]:
    """Rows of LISTED_FIELDS (with job_id) of the given files, in id order."""
    return list(File.objects.filter(id__in=file_ids).order_by("id").values(*LISTED_FIELDS, "job_id"))


def confidence_counts(job: Job) -> dict[str, int]:
    """How many of the job's processed files have each confidence, every confidence named, and
    how many files are not processed yet (PENDING)."""
    counts = dict.fromkeys([*Confidence.values, PENDING], 0)
    rows = File.objects.filter(job=job).order_by().values_list("status", "confidence").annotate(n=Count("id"))
    for status, confidence, n in rows:
        counts[PENDING if status in File.UNFINISHED else confidence] += n
    return counts


def _shared_sha256s(job: Job) -> QuerySet:
    return File.objects.filter(job=job).exclude(sha256="").values("sha256").annotate(n=Count("*")).filter(n__gt=1)


def exact_duplicate_keys(job: Job) -> list[str]:
    """The keys of the job's exact groups, in the order exact_duplicate_groups gives them."""
    return list(_shared_sha256s(job).order_by("sha256").values_list("sha256", flat=True))


def exact_duplicate_groups(job: Job, keys: list[str] | None = None) -> list[tuple[str, list[dict]]]:
    """The job's files that share a SHA-256, as (sha256, rows of LISTED_FIELDS) for each group of
    two or more, in the order of their keys; only the groups of `keys` when given (a page)."""
    shared = _shared_sha256s(job).values("sha256") if keys is None else keys
    files = File.objects.filter(job=job, sha256__in=shared).order_by("sha256", "id")
    groups: dict[str, list[dict]] = {}
    for file in files.values(*LISTED_FIELDS):
        groups.setdefault(file["sha256"], []).append(file)
    return list(groups.items())


def _near_groups_of(job: Job) -> QuerySet[DuplicateGroup]:
    return (
        DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR, not_duplicates=False, files__job=job)
        .annotate(n=Count("files"))
        .filter(n__gt=1)
        .order_by("key")
    )


def near_duplicate_keys(job: Job) -> list[str]:
    """The keys of the job's near groups, in the order near_duplicate_groups gives them."""
    return list(_near_groups_of(job).values_list("key", flat=True))


def near_duplicate_groups(job: Job, keys: list[str] | None = None) -> list[tuple[str, list[dict]]]:
    """The library's near-duplicate groups that hold two or more of the job's files, as (key,
    rows of LISTED_FIELDS) with only the job's own files (another job's files may belong to
    someone else), in the order of their keys; only the groups of `keys` when given (a page).
    Groups that staff marked as not duplicates are left out."""
    groups = _near_groups_of(job)
    if keys is not None:
        groups = groups.filter(key__in=keys)
    # From the groups' members to the files, never the other way: the job may have 100,000 files
    # and only a few in near groups (SQLite, with no statistics, would start from the job's files).
    members = DuplicateMember.objects.filter(group__in=groups)
    files = File.objects.filter(job=job, id__in=members.values("file_id")).values(*LISTED_FIELDS)
    files = {file["id"]: file for file in files}
    found: dict[str, list[dict]] = {}
    for key, file_id in members.order_by("group__key", "file_id").values_list("group__key", "file_id"):
        if file_id in files:  # a member from another job stays out
            found.setdefault(key, []).append(files[file_id])
    return list(found.items())


def export_entries(job: Job) -> QuerySet[ExportEntry]:
    """An export's manifest, in the order the entries were planned."""
    return ExportEntry.objects.filter(job=job).order_by("id")
