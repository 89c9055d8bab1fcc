"""The JSON API (docs/api.md): thin views that parse the request, call a service or a selector,
and answer. Every answer is JSON, errors included: `{"error": "..."}` with a 4xx status."""

import csv
import json
import math
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import FileResponse, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError, TooManyFilesSent
from django.views import csrf
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from jobs import review, selectors, uploads
from jobs.export_plan import DEFAULT_TEMPLATE
from jobs.models import Confidence, File, Job
from jobs.pipeline import thumbnails
from jobs.serializers import duplicate_group_dict, export_entry_dict, file_dict, job_dict
from jobs.services import corrections, export
from jobs.services.control import ActionRefused, control_job
from jobs.services.import_roots import ImportForbidden, folder_in_import_roots
from jobs.services.imports import (
    ImportRefused,
    NothingToImport,
    add_uploads_to_job,
    create_path_job,
    create_upload_job,
)

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
DUPLICATE_KINDS = ("exact", "near", "all")


def error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_view(*methods: str):
    """For logged-in users only (401 otherwise, never a redirect to the login page), for the
    given methods only (405); a BadRequest raised while parsing answers 400."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return error(401, "Log in first: the API needs the session of a logged-in user.")
            if request.method not in methods:
                response = error(405, f"{request.method} is not allowed here; use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except BadRequest as e:
                return error(400, str(e))

        return wrapped

    return decorator


def with_job(view):
    """Hands the view the URL's job from among the user's jobs. Someone else's job is answered
    exactly like a job that does not exist: 404."""

    @wraps(view)
    def wrapped(request, job_id: int):
        job = selectors.jobs_for(request.user).filter(id=job_id).first()
        if job is None:
            return error(404, f"No job {job_id}.")
        return view(request, job)

    return wrapped


# --- jobs -------------------------------------------------------------------------------------


# Django's CSRF check reads the form, which must wait until the upload handlers are in place;
# _receive_upload checks the token before anything is stored.
@csrf_exempt
@api_view("POST")
def upload(request):
    limit = settings.MEDIAIMPORT_UPLOAD_MAX_BYTES
    # Refused before reading a byte when the request says its size; counted while it streams if not.
    if _content_length(request) > limit:
        return _too_large(limit)
    guard = uploads.UploadGuard(request, limit=limit)
    request.upload_handlers = [guard, TemporaryFileUploadHandler(request)]
    body = uploads.watched_body(request)
    try:
        if body is not None:
            # Parsed as Django would, through the watch; the request keeps the result as its own
            # POST and FILES (as Django REST framework does), which it closes when it ends.
            request._post, request._files = request.parse_file_upload(request.META, body)
        files = request.FILES.getlist("files")
    except TooManyFilesSent:
        most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return error(
            400,
            f"Too many files in one upload: at most {most:,} (MEDIAIMPORT_UPLOAD_MAX_FILES). "
            "Send the rest in another upload.",
        )
    except TooManyFieldsSent:
        return error(400, "Too many form fields in one upload.")
    except RequestDataTooBig:
        return error(413, "The form fields of the upload are too large.")
    except (MultiPartParserError, UnreadablePostError) as e:
        return error(400, f"The upload could not be read ({e}); nothing of it was kept.")
    except ConnectionError:
        return error(400, "The upload was cut off; nothing of it was kept. Send it again.")
    except OSError as e:
        if e.errno not in uploads.DISK_FULL:
            raise
        return error(507, f"The server's disk is full ({e.strerror}); nothing of the upload was kept.")
    if guard.exceeded:
        return _too_large(limit)
    if guard.interrupted or (body is not None and body.cut):
        return error(400, "The upload was cut off before it all arrived; nothing of it was kept. Send it again.")
    return _receive_upload(request, files)


@csrf_protect
def _receive_upload(request, files):
    if not files:
        return error(400, "No files came: send them as multipart/form-data in the field 'files'.")
    try:
        stored, rejected = uploads.receive(
            files,
            last_modified=request.POST.getlist("last_modified"),
            relative_paths=request.POST.getlist("relative_path"),
        )
    except uploads.InvalidUpload as e:
        return error(400, str(e))
    except uploads.UploadNotStored as e:
        return error(507, str(e))
    rejections = [r.as_dict() for r in rejected]
    if not stored:
        return error(400, "None of the files is a photo or video we import.", rejected=rejections)
    try:
        job = _add_to_job(request, stored)
    except ImportRefused as e:
        uploads.discard(stored)
        return error(400, str(e))
    except BaseException:
        uploads.discard(stored)  # no file is kept without its record
        raise
    return JsonResponse(
        {"job_id": job.id, "file_count": job.progress_total, "status": "queued", "rejected": rejections}, status=201
    )


def _add_to_job(request, stored) -> Job:
    """A new upload job, or with `job_id` the user's upload job that earlier requests of the same
    selection started."""
    job_id = _positive_int(request.POST, "job_id", None)
    if job_id is None:
        return create_upload_job(owner=request.user, uploads=stored)
    job = selectors.jobs_for(request.user).filter(id=job_id).first()
    if job is None or job.kind != Job.Kind.UPLOAD:
        raise ImportRefused(f"job_id {job_id} is not an upload job of yours; leave it out to start a new job.")
    return add_uploads_to_job(job=job, uploads=stored)


@api_view("POST")
def import_path(request):
    body = _json_body(request)
    path = body.get("path")
    if not isinstance(path, str) or not path.strip():
        return error(400, 'Send the folder as JSON: {"path": "/absolute/path/to/photos"}.')
    skip_known = body.get("skip_known", False)
    if not isinstance(skip_known, bool):
        return error(400, "skip_known must be true or false.")
    try:
        folder = folder_in_import_roots(Path(path))
        job = create_path_job(path=folder, owner=request.user, skip_known=skip_known)
    except ImportForbidden as e:
        return error(403, str(e))
    except NothingToImport as e:
        return error(400, str(e), skipped_count=sum(e.skipped.values()), skipped=e.skipped)
    except ImportRefused as e:
        return error(400, str(e))
    return JsonResponse({"job_id": job.id, "file_count": job.progress_total, "status": "queued"}, status=201)


@api_view("GET")
def jobs(request):
    page, per_page = _paging(request)
    visible = selectors.jobs_for(request.user)
    total = visible.count()
    start = (page - 1) * per_page
    return JsonResponse(
        {"jobs": [job_dict(j) for j in visible[start : start + per_page]], **_page_info(page, per_page, total)}
    )


@api_view("GET")
@with_job
def job_detail(request, job: Job):
    return JsonResponse(job_dict(job))


@api_view("POST")
@with_job
def job_control(request, job: Job):
    action = _json_body(request).get("action")
    if not isinstance(action, str):
        actions = ", ".join(Job.ACTIONS)
        message = f'Send the action as JSON: {{"action": "pause"}} (one of {actions}).'
        return error(400, message, allowed_actions=job.allowed_actions())
    try:
        job = control_job(job=job, action=action)
    except ActionRefused as e:
        return error(400, str(e), allowed_actions=e.allowed_actions)
    return JsonResponse(job_dict(job))


@api_view("GET")
@with_job
def job_files(request, job: Job):
    page, per_page = _paging(request)
    confidence = request.GET.get("confidence")
    if confidence is not None and confidence not in Confidence.values:
        raise BadRequest(f"confidence must be one of {', '.join(Confidence.values)}.")
    status = request.GET.get("status")
    if status is not None and status not in File.Status.values:
        raise BadRequest(f"status must be one of {', '.join(File.Status.values)}.")
    group_by = request.GET.get("group_by")
    if group_by is not None and group_by != "confidence":
        raise BadRequest("group_by can only be 'confidence'.")
    needs_review = request.GET.get("needs_review") in ("1", "true")
    sort = request.GET.get("sort", "id")
    if sort not in selectors.SORTS:
        raise BadRequest(f"sort must be one of {', '.join(selectors.SORTS)}.")
    start = (page - 1) * per_page
    if group_by:
        # Each group is paged on its own: page N holds the N-th slice of every group, so the page
        # never loads more than 4 x per_page files however large the job.
        counts = selectors.confidence_counts(job)
        shown = [confidence] if confidence else [*Confidence.values, selectors.PENDING]
        groups = {
            c: [
                file_dict(f, job=job)
                for f in _group_files(job, c, status=status, needs_review=needs_review, sort=sort)[start : start + per_page]
            ]
            if c in shown
            else []
            for c in counts
        }
        paging = _page_info(page, per_page, max(counts[c] for c in shown))
        paging["total"] = sum(counts[c] for c in shown)
        return JsonResponse({"groups": groups, "counts": counts, **paging})
    files = selectors.job_files(job, confidence=confidence, status=status, needs_review=needs_review, sort=sort)
    total = files.count()
    page_files = [file_dict(f, job=job) for f in files[start : start + per_page]]
    return JsonResponse({"files": page_files, **_page_info(page, per_page, total)})


def _group_files(job: Job, group: str, **filters):
    """One group of the grouped listing: a confidence, or the files not processed yet."""
    if group == selectors.PENDING:
        return selectors.job_files(job, pending=True, **filters)
    return selectors.job_files(job, confidence=group, **filters)


@api_view("GET")
@with_job
def job_duplicates(request, job: Job):
    kind = request.GET.get("kind", "exact")
    if kind not in DUPLICATE_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(DUPLICATE_KINDS)}.")
    kinds = {"exact": selectors.exact_duplicate_groups, "near": selectors.near_duplicate_groups}
    if kind != "all":
        kinds = {kind: kinds[kind]}
    if "page" not in request.GET and "per_page" not in request.GET:
        groups = [duplicate_group_dict(kind=k, key=key, files=f, job=job) for k, find in kinds.items() for key, f in find(job)]  # fmt: skip
        return JsonResponse({"groups": groups})
    # Paged over groups: the keys first (exact before near), then the files of this page's groups only.
    page, per_page = _paging(request)
    listed = {"exact": selectors.exact_duplicate_keys, "near": selectors.near_duplicate_keys}
    keys = [(k, key) for k in kinds for key in listed[k](job)]
    start = (page - 1) * per_page
    shown = keys[start : start + per_page]
    groups = []
    for k, find in kinds.items():
        if wanted := [key for kind_, key in shown if kind_ == k]:
            groups += [duplicate_group_dict(kind=k, key=key, files=f, job=job) for key, f in find(job, wanted)]
    return JsonResponse({"groups": groups, **_page_info(page, per_page, len(keys))})


# --- exports ----------------------------------------------------------------------------------


@api_view("POST")
def exports(request):
    body = _json_body(request)
    destination = body.get("destination")
    if not isinstance(destination, str) or not destination.strip():
        return error(400, 'Send the destination as JSON: {"destination": "/absolute/path/to/collection"}.')
    job_ids = body.get("job_ids")
    if job_ids is not None and (
        not isinstance(job_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in job_ids)
    ):
        return error(400, "job_ids must be a list of job ids (whole numbers).")
    options = {}
    for name in ("dry_run", "write_metadata", "link"):
        if name in body:
            if not isinstance(body[name], bool):
                return error(400, f"{name} must be true or false.")
            options[name] = body[name]
    template = body.get("template") or DEFAULT_TEMPLATE
    if not isinstance(template, str):
        return error(400, "template must be a string, e.g. {year}/{year}{month}{day}_{hour}{minute}{second}.")
    if job_ids:
        visible = set(selectors.jobs_for(request.user).filter(id__in=job_ids).values_list("id", flat=True))
        if missing := [i for i in job_ids if i not in visible]:
            return error(404, f"No job {missing[0]}.")
    try:
        folder = export.folder_in_export_roots(Path(destination))
        job = export.create_export_job(
            destination=folder, owner=request.user, job_ids=job_ids or None, template=template, **options
        )
    except export.ExportForbidden as e:
        return error(403, str(e))
    except export.ExportRefused as e:
        return error(400, str(e))
    return JsonResponse({"job_id": job.id, "file_count": job.progress_total, "status": "queued"}, status=201)


@api_view("GET")
def export_preview(request):
    """Where a few of the user's own files would go under a template: the page's live preview."""
    template = request.GET.get("template") or DEFAULT_TEMPLATE
    try:
        placed = export.preview(owner=request.user, template=template)
    except export.ExportRefused as e:
        return error(400, str(e))
    return JsonResponse({"template": template, "entries": placed})


@api_view("GET")
@with_job
def job_manifest(request, job: Job):
    if job.kind != Job.Kind.EXPORT:
        return error(400, f"Job {job.id} is an import; only an export has a manifest.")
    rows = selectors.export_entries(job)
    if request.GET.get("format") == "csv":
        return _manifest_csv(job, rows)
    page, per_page = _paging(request)
    total = rows.count()
    start = (page - 1) * per_page
    return JsonResponse(
        {
            "entries": [export_entry_dict(e) for e in rows[start : start + per_page]],
            "summary": export.plan_summary(job),
            **_page_info(page, per_page, total),
        }
    )


def _manifest_csv(job: Job, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="export-{job.id}-manifest.csv"'
    writer = csv.writer(response)
    columns = ["file_id", "source", "destination", "action", "sha256", "written", "duplicate_of", "status", "error", "note"]
    writer.writerow(columns)
    for entry in rows.iterator():
        row = export_entry_dict(entry)
        row["written"] = " ".join(row["written"])
        writer.writerow([row[c] if row[c] is not None else "" for c in columns])
    return response


@api_view("POST")
@with_job
def job_undo(request, job: Job):
    try:
        report = export.undo_export(job=job)
    except export.ExportRefused as e:
        return error(400, str(e))
    return JsonResponse(report.as_dict())


# --- files ------------------------------------------------------------------------------------


@api_view("GET")
def file_thumbnail(request, file_id: int):
    file = selectors.files_for(request.user).filter(id=file_id).first()
    if file is None or not file.thumbnail:
        return error(404, f"No thumbnail for file {file_id}.")
    try:
        content = default_storage.open(file.thumbnail.name, "rb")
    except FileNotFoundError:
        return error(404, f"No thumbnail for file {file_id}.")
    response = FileResponse(content, content_type=thumbnails.CONTENT_TYPE)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@api_view("GET")
@with_job
def job_review(request, job: Job):
    """The job's files that need review, grouped, with proposals (docs/api.md)."""
    library = selectors.files_for(request.user)
    return _review_answer(review.review(File.objects.filter(job=job), library=library, scope=f"job {job.id}"))


@api_view("GET")
def library_review(request):
    """The same over every job the user may see."""
    library = selectors.files_for(request.user)
    return _review_answer(review.review(library, library=library, scope="library"))


def _review_answer(found: dict) -> JsonResponse:
    jobs = Job.objects.in_bulk({row["job_id"] for row in found["files"]})
    files = [
        {**file_dict(row, job=jobs[row["job_id"]]), "job_id": row["job_id"], "reason": review.reason(row)}
        for row in found["files"]
    ]
    return JsonResponse({**found, "files": files, "shown": len(files)})


@api_view("POST")
def capture_time(request):
    """Correct capture times (docs/api.md); with `dry_run` only say what it would do."""
    body = _json_body(request)
    act = corrections.plan_correction if body.get("dry_run") else corrections.correct_capture_times
    try:
        outcome = act(user=request.user, file_ids=body.get("file_ids"), correction=corrections.parse_correction(body))
    except corrections.NotFound as e:
        return error(404, str(e))
    except corrections.CorrectionRefused as e:
        return error(400, str(e))
    answer = {"updated": outcome.updated, "skipped": outcome.skipped, "files": _files_as_now(outcome)}
    if outcome.change is not None:
        answer = {"change_id": outcome.change.id, **answer}
    return JsonResponse(answer)


@api_view("POST")
def undo_change(request, change_id: int):
    try:
        restored, kept = corrections.undo_change(user=request.user, change_id=change_id)
    except corrections.NotFound as e:
        return error(404, str(e))
    except corrections.CorrectionRefused as e:
        return error(400, str(e))
    return JsonResponse({"change_id": change_id, "restored": restored, "kept": kept})


PREVIOUS = ("timestamp", "timestamp_precision", "timestamp_offset_known")


def _files_as_now(outcome) -> list[dict]:
    """The updated files as the change leaves them (for a dry run: as it would leave them), each
    with `previous`, the time it had, for the page's preview."""
    rows = selectors.listed_files(outcome.updated)
    jobs = Job.objects.in_bulk({row["job_id"] for row in rows})
    listed = []
    for row in rows:
        before = file_dict({**row, **outcome.before[row["id"]]}, job=jobs[row["job_id"]])
        row.update(outcome.after[row["id"]])
        if outcome.change is None:  # a dry run: the evidence does not have the change's item yet
            row["capture_evidence"] = [*row["capture_evidence"], outcome.evidence[row["id"]]]
        listed.append({**file_dict(row, job=jobs[row["job_id"]]), "previous": {k: before[k] for k in PREVIOUS}})
    return listed


@api_view("GET")
def file_content(request, file_id: int):
    """The file itself, for the page's larger preview (a photo shown, a video played). Only photos
    and videos, as the type read from their bytes, never sniffed again by the browser."""
    file = selectors.files_for(request.user).filter(id=file_id).first()
    if file is None or not file.mime_type.startswith(("image/", "video/")):
        return error(404, f"No file {file_id} to show.")
    try:
        if file.job.kind == Job.Kind.PATH:
            content = open(file.path, "rb")
        else:
            content = default_storage.open(file.path, "rb")
    except OSError:
        return error(404, f"File {file_id} is no longer where it was imported from.")
    response = FileResponse(content, content_type=file.mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- errors -----------------------------------------------------------------------------------


def not_found(request, rest: str = ""):
    return error(404, f"No such API call: {request.method} {request.path}. See docs/api.md.")


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: JSON for the API, Django's own page for everything else."""
    if not request.path.startswith("/api/"):
        return csrf.csrf_failure(request, reason)
    return error(403, f"CSRF check failed ({reason}). Send the csrftoken cookie's value in the X-CSRFToken header.")


# --- helpers ----------------------------------------------------------------------------------


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _paging(request) -> tuple[int, int]:
    """page (from 1) and per_page (1 to MAX_PER_PAGE; larger values are capped)."""
    page = _positive_int(request.GET, "page", 1)
    per_page = min(_positive_int(request.GET, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return page, per_page


def _positive_int(params, name: str, default: int | None) -> int | None:
    """A whole number of at most nine digits from the query or form `params`, or `default`."""
    value = params.get(name)
    if value is None or value == "" and default is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise BadRequest(f"{name} must be a whole number from 1: got '{value[:20]}'.")
    return int(value)


def _page_info(page: int, per_page: int, total: int) -> dict:
    # A page past the last is answered with an empty list and the true totals.
    return {"page": page, "per_page": per_page, "total": total, "pages": max(1, math.ceil(total / per_page))}


def _too_large(limit: int) -> JsonResponse:
    return error(413, f"The upload is larger than the server accepts ({limit:,} bytes, MEDIAIMPORT_UPLOAD_MAX_BYTES).")


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
