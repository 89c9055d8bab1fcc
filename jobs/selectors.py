"""Queries that the page, the API and the admin read."""

from django.db.models import Count, QuerySet

from jobs.models import File, Job


def jobs_for(user) -> QuerySet[Job]:
    """The jobs a user may see: their own, or every job for staff."""
    jobs = Job.objects.select_related("owner")
    return jobs if user.is_staff else jobs.filter(owner=user)


def exact_duplicate_groups(job: Job) -> list[tuple[str, list[File]]]:
    """The job's files that share a SHA-256, as (sha256, files) for each group of two or more."""
    shared = (
        File.objects.filter(job=job).exclude(sha256="").values("sha256").annotate(n=Count("id")).filter(n__gt=1)
    )
    files = File.objects.filter(job=job, sha256__in=shared.values("sha256")).order_by("sha256", "id")
    groups: dict[str, list[File]] = {}
    for file in files:
        groups.setdefault(file.sha256, []).append(file)
    return list(groups.items())
