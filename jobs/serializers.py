"""Jobs, files and duplicate groups as the plain dicts of the JSON API (docs/api.md). The page
and the admin use them too, so every view of a job says the same thing."""

from datetime import datetime
from functools import cache

from django.urls import reverse
from django.utils import timezone

from jobs import selectors
from jobs.models import ExportEntry, Job, group_name, shown_capture_time
from jobs.pipeline.companions import pair_kind


def job_dict(job: Job) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "job_type": job.kind,
        "dry_run": job.dry_run,
        "progress_current": job.progress_current,
        "progress_total": job.progress_total,
        "progress_percent": job.progress_percent,
        "error_count": job.error_count,
        "skipped_count": job.skipped_count,
        "skipped": job.skipped,
        "already_imported_count": job.already_imported_count,
        "skip_known": job.skip_known,
        "created_at": _time(job.created_at),
        "started_at": _time(job.started_at),
        "completed_at": _time(job.completed_at),
        "allowed_actions": job.allowed_actions(),
        "failure": job.failure,
        "needs_review_count": selectors.needs_review_count(job),
    }


def file_dict(file: dict, *, job: Job) -> dict:
    """A file of the job, from its row of selectors.LISTED_FIELDS."""
    capture_time = shown_capture_time(file["captured_at"], file["capture_offset"])
    return {
        "id": file["id"],
        "filename": file["original_name"],
        "path": file_path(file, job=job),
        "folder": file["folder"],
        "job_id": job.id,
        "status": file["status"],
        # The capture time in its own offset: the file's, or MEDIAIMPORT_TIME_ZONE's when the
        # file tells none.
        "timestamp": capture_time.isoformat() if capture_time else None,
        "confidence": file["confidence"],
        "timestamp_source": file["capture_source"],
        "timestamp_evidence": file["capture_evidence"],
        "timestamp_conflict": file["capture_conflict"],
        "timestamp_precision": file["capture_precision"] or None,
        # False: "timestamp" is a wall-clock time read in MEDIAIMPORT_TIME_ZONE, its zone unknown.
        "timestamp_offset_known": file["capture_offset_known"] if file["captured_at"] else None,
        "sha256": file["sha256"],
        "size": file["size"],
        "width": file["width"],
        "height": file["height"],
        "duration": file["duration"],
        "mime_type": file["mime_type"],
        "thumbnail_url": thumbnail_url(file["id"]) if file["thumbnail"] else None,
        "error": file["error"],
        "companion_id": file["companion_id"],
        "camera": file["camera"],
        "companion_name": file["companion__original_name"],
        # What the page needs to show the pair side by side, whichever half it lists first.
        "companion_kind": pair_kind(file["mime_type"], file["companion__mime_type"]) if file["companion_id"] else None,
        "companion_thumbnail_url": thumbnail_url(file["companion_id"]) if file["companion__thumbnail"] else None,
        # Already in the owner's library, from an earlier job: that job's file.
        "already_imported": file["earlier_import_id"] is not None,
        "already_imported_from": file["earlier_import_id"],
    }


def thumbnail_url(file_id: int) -> str:
    return _thumbnail_url_pattern().format(file_id)


@cache
def _thumbnail_url_pattern() -> str:
    # Reversed once: a listing of thousands of files would otherwise spend a third of its time in
    # reverse(). The id placeholder is one no real id can be confused with in a URL.
    return reverse("api-file-thumbnail", args=[0]).replace("/0/", "/{}/")


def file_path(file: dict, *, job: Job) -> str:
    """Where the file came from: its absolute path for a folder import; for an upload, the path
    the person dropped it under. Never the internal storage name."""
    if job.kind == Job.Kind.PATH:
        return file["path"]
    return f"{file['folder']}/{file['original_name']}" if file["folder"] else file["original_name"]


def duplicate_group_dict(*, kind: str, key: str, files: list[dict], job: Job) -> dict:
    name = group_name(files[0]["original_name"], files[0]["folder"])
    return {"kind": kind, "key": key, "name": name, "files": [file_dict(f, job=job) for f in files]}


def export_entry_dict(entry: ExportEntry) -> dict:
    """An entry of an export's manifest; `destination` is relative to the export's folder."""
    return {
        "file_id": entry.file_id,
        "source": entry.source,
        "destination": entry.destination,
        "action": entry.action,
        "sha256": entry.sha256,
        "written": entry.written,
        "duplicate_of": entry.duplicate_of_id,
        "status": entry.status,
        "error": entry.error,
        "note": entry.note,
    }


def _time(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None
