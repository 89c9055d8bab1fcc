"""Small pieces of HTML the console's pages share."""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from jobs.models import File, Job

THUMBNAIL_CLASS = {"small": "console-thumb", "large": "console-preview"}


def thumbnail(file: File, size: str = "small") -> str:
    """The file's thumbnail through the staff-only view, or a dash when it has none."""
    if not file.thumbnail:
        return mark_safe('<span class="console-nothumb" title="No preview">—</span>')
    url = reverse("admin:jobs_file_thumbnail", args=[file.pk])
    return format_html('<img src="{}" class="{}" alt="" loading="lazy">', url, THUMBNAIL_CLASS[size])


# A date alone is shown as the day, month or year it is, never with an invented 00:00.
DATE_FORMATS = {File.Precision.DAY: "%Y-%m-%d", File.Precision.MONTH: "%Y-%m", File.Precision.YEAR: "%Y"}


def capture_time(file: File) -> str:
    """The capture time as the file tells it, with its own UTC offset; milliseconds when the file
    records them (they tell the shots of a burst apart). A time whose offset the file did not
    record is the wall clock read in MEDIAIMPORT_TIME_ZONE, and says so instead of an offset."""
    value = file.capture_time
    if value is None:
        return "—"
    if date_format := DATE_FORMATS.get(file.capture_precision):
        return value.strftime(date_format)
    if not file.capture_offset_known:
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds" if value.microsecond else "seconds") + ", zone not recorded"
    return value.isoformat(sep=" ", timespec="milliseconds" if value.microsecond else "seconds")


def moment(value: datetime | None) -> str:
    """A time of the system's own (created, started) in the server's zone, to the second."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def dimensions(file: File) -> str:
    return f"{file.width} × {file.height}" if file.width and file.height else "—"


def job_link(job_id: int) -> str:
    return format_html('<a href="{}">Job {}</a>', reverse("admin:jobs_job_change", args=[job_id]), job_id)


def progress_bar(job: Job) -> str:
    return format_html(
        '<progress class="console-progress" value="{}" max="{}"></progress> {}%',
        job.progress_current,
        job.progress_total or 1,
        job.progress_percent,
    )


def duration(started: datetime | None, ended: datetime | None) -> str:
    """How long a job ran: to its end, or until now while it runs."""
    if started is None:
        return "—"
    return human_duration((ended or timezone.now()) - started)


def human_duration(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"
