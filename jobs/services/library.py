"""The owner's library: every job of one owner, seen as one collection.

A file whose SHA-256 an earlier job of the same owner holds, done, is *already imported*; it keeps
its place in its own job (nothing is hidden or skipped from the listing) and points at the earlier
file. With the job's `skip_known`, such a file is not decoded again: it takes the earlier file's
results as they are (capture time with its evidence and any correction, dimensions, fingerprint,
picture identity) and a copy of its thumbnail. Jobs without an owner (`import_path` without
`--user`) are one owner of their own.

Files that are one shot in two (a Live Photo's picture and video, a RAW and its JPEG) are each
other's companion, found when the job ends."""

import functools
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from jobs.models import File, Job


@dataclass(frozen=True)
class Known:
    """An earlier import of the same bytes (the columns asked for, and its id), and its thumbnail
    to copy."""

    earlier: dict
    thumbnail: bytes | None


def _earlier_imports(*, job: Job, sha256: str):
    """The files with these bytes done in earlier jobs of the job's owner, first imported first."""
    return File.objects.filter(
        sha256=sha256, status=File.Status.DONE, job_id__lt=job.id, job__owner_id=job.owner_id
    ).order_by("id")


def earlier_import_id(*, job: Job, sha256: str) -> int | None:
    """The id of the first file with these bytes done in an earlier job of the job's owner."""
    return _earlier_imports(job=job, sha256=sha256).values_list("id", flat=True).first() if sha256 else None


# Stand-ins for a lookup's own values in the statement compiled once (see _earlier_statement).
_SHA256, _JOB, _OWNER = "sha256 of the file", -1, -2


@functools.cache
def _earlier_statement(alias: str, vendor: str, owned: bool, fields: tuple[str, ...]):
    """The known-file lookup compiled once per process and database: building the query through
    the ORM for every file cost more than running it (a fifth of a known file's time). Returns the
    SQL, its parameters with the stand-ins in place, the column names and their converters."""
    job = Job(id=_JOB, owner_id=_OWNER if owned else None)
    query = _earlier_imports(job=job, sha256=_SHA256).values("id", "thumbnail", *fields)[:1].query
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    return sql, params, ("id", "thumbnail", *fields), compiler, converters


def _first_earlier(*, job: Job, sha256: str, fields: list[str]) -> dict | None:
    connection = connections[DEFAULT_DB_ALIAS]
    sql, params, names, compiler, converters = _earlier_statement(
        DEFAULT_DB_ALIAS, connection.vendor, job.owner_id is not None, tuple(fields)
    )
    values = {_SHA256: sha256, _JOB: job.id, _OWNER: job.owner_id}
    with connection.cursor() as cursor:
        cursor.execute(sql, [values.get(p, p) for p in params])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    return dict(zip(names, row, strict=True))


def known_file(*, job: Job, sha256: str, fields: list[str]) -> Known | None:
    """The earlier import whose results (`fields`) a file of a skip_known job takes, or None when
    there is none, or its thumbnail is gone (the file is then analysed, which makes one anew). Read
    as a row: building a File, every column converted, cost as much as the rest of a known file."""
    earlier = _first_earlier(job=job, sha256=sha256, fields=fields)
    if earlier is None:
        return None
    if not earlier["thumbnail"]:
        return Known(earlier, None)
    try:
        with default_storage.open(earlier["thumbnail"], "rb") as thumbnail:
            return Known(earlier, thumbnail.read())
    except FileNotFoundError:
        return None


def pair_companions(*, job: Job) -> int:
    """Record the Live Photo and RAW+JPEG pairs among the job's done files (jobs.pipeline.companions)
    as each other's companion; returns how many pairs. Run when the job ends, before regrouping,
    so that the halves of a pair are never a duplicate group of each other."""
    from jobs.pipeline.companions import Half, find_pairs

    rows = File.objects.filter(job=job, status=File.Status.DONE).values_list(
        "id", "folder", "original_name", "mime_type", "captured_at", "shot", "content_identifier"
    )
    halves = [
        Half(id_, folder, name, mime_type.startswith("video/"), captured_at, shot, identifier)
        for id_, folder, name, mime_type, captured_at, shot, identifier in rows.iterator(chunk_size=5000)
    ]
    pairs = find_pairs(halves)
    with transaction.atomic():
        File.objects.filter(job=job, companion__isnull=False).update(companion=None)
        File.objects.bulk_update(
            [File(id=a, companion_id=b) for a, b in pairs] + [File(id=b, companion_id=a) for a, b in pairs],
            ["companion"],
            batch_size=500,
        )
    return len(pairs)
