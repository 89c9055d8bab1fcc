"""The web page. It is rendered once with what only the server knows (the user's jobs, the upload
limits, the import and export roots); everything after that goes through the JSON API from static/js."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from jobs import selectors
from jobs.export_plan import DEFAULT_TEMPLATE
from jobs.models import Job
from jobs.pipeline import formats

HISTORY_PER_PAGE = 20
# The page sends a selection in requests of at most this many files and bytes, far below the
# server's limits: a request is stored whole or not at all, so Stop or a dropped connection loses
# only the one on its way (a few seconds to a minute of sending at home-network speeds).
UPLOAD_REQUEST_FILES = 200
UPLOAD_REQUEST_BYTES = 256 * 1024**2


@login_required
def home(request, job_id: int | None = None):
    """The import page. Opened at `/` it shows the user's latest unfinished job, so that reopening
    the page picks up where it was; at `/jobs/<id>/` it shows that job."""
    jobs = selectors.jobs_for(request.user)
    if job_id is not None:
        job = get_object_or_404(jobs, id=job_id)
    else:
        job = jobs.filter(owner=request.user).exclude(status__in=Job.FINISHED).first()
    history = Paginator(jobs, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/home.html",
        {
            "job": job,
            "history": history,
            "import_roots": settings.MEDIAIMPORT_IMPORT_ROOTS,
            "export_roots": settings.MEDIAIMPORT_EXPORT_ROOTS,
            "allowed_types": formats.ALLOWED_NAMES,
            "page_config": {
                "jobId": job.id if job else None,
                "uploadMaxFiles": settings.MEDIAIMPORT_UPLOAD_MAX_FILES,
                "uploadMaxBytes": settings.MEDIAIMPORT_UPLOAD_MAX_BYTES,
                "uploadRequestFiles": min(UPLOAD_REQUEST_FILES, settings.MEDIAIMPORT_UPLOAD_MAX_FILES),
                "uploadRequestBytes": min(UPLOAD_REQUEST_BYTES, settings.MEDIAIMPORT_UPLOAD_MAX_BYTES),
                "extensions": sorted(formats.EXTENSIONS),
                # The job state machine, so that the page offers only the buttons the job allows.
                "actions": {action: sorted(sources) for action, (sources, _) in Job.ACTIONS.items()},
                "exportTemplate": DEFAULT_TEMPLATE,
            },
        },
    )
