"""Jobs, the Files they import, and the duplicate groups found among them."""

import functools
from datetime import datetime, timedelta, timezone

from django.conf import settings
from django.db import models
from django.db.models import Q

from jobs.folders import skipped_summary


class JobKind(models.TextChoices):
    UPLOAD = "upload", "Upload"
    PATH = "path", "Server folder"
    EXPORT = "export", "Export"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class FileStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Confidence(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    NONE = "none", "None"


class Precision(models.TextChoices):
    """How much of a capture time its source tells: a folder named 2009 gives only the year."""

    SECOND = "second", "Second"
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class DuplicateKind(models.TextChoices):
    EXACT = "exact", "Exact"
    NEAR = "near", "Near"


class Job(models.Model):
    """One import: an upload from the browser or a folder on the server."""

    Kind = JobKind
    Status = JobStatus

    # The job state machine: which action moves a job from which states to which state. Every
    # entry point (API, page, admin, command) goes through jobs.services.control_job.
    ACTIONS = {
        "pause": ({Status.RUNNING}, Status.PAUSED),
        "resume": ({Status.PAUSED}, Status.RUNNING),
        "cancel": ({Status.PENDING, Status.RUNNING, Status.PAUSED}, Status.CANCELLED),
    }
    FINISHED = {Status.CANCELLED, Status.COMPLETED, Status.FAILED}

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
        help_text="Who started the import; empty for jobs started with manage.py import_path.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source_path = models.TextField(blank=True, help_text="The server folder a path job imports.")
    skip_known = models.BooleanField(
        default=False, help_text="Files the owner's earlier jobs hold take those files' results instead of a decode."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress_total = models.PositiveIntegerField(default=0)
    progress_current = models.PositiveIntegerField(default=0, help_text="Files done, with or without error.")
    error_count = models.PositiveIntegerField(default=0)
    already_imported_count = models.PositiveIntegerField(
        default=0, help_text="Files whose SHA-256 an earlier job of the same owner already holds."
    )
    failure = models.TextField(blank=True, help_text="Why the job itself could not go on.")
    skipped_count = models.PositiveIntegerField(
        default=0, help_text="Files a folder import found and does not import (system litter not counted)."
    )
    skipped = models.JSONField(
        default=dict, blank=True, help_text='Those files by lower-case extension: {".txt": 3, ".psd": 1}.'
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last reported progress; finds stalled jobs."
    )

    # An export's settings (kind "export"); empty for imports.
    destination = models.TextField(blank=True, help_text="The folder an export writes into.")
    template = models.CharField(max_length=500, blank=True, help_text="Where each exported file goes (docs/export.md).")
    source_job_ids = models.JSONField(
        default=list, blank=True, help_text="The jobs an export takes its files from; empty for all of them."
    )
    dry_run = models.BooleanField(default=False, help_text="An export that only plans, writing nothing.")
    link = models.BooleanField(default=False, help_text="Hard-link files an export needs to write nothing into.")
    write_metadata = models.BooleanField(default=True, help_text="Write the capture time into exported copies.")
    undone_at = models.DateTimeField(null=True, blank=True, help_text="When an export's files were removed again.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="job_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=JobKind.values), name="job_kind_valid"),
            models.CheckConstraint(
                condition=Q(progress_current__lte=models.F("progress_total")), name="job_progress_within_total"
            ),
            models.CheckConstraint(
                condition=Q(error_count__lte=models.F("progress_current")), name="job_errors_within_progress"
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self):
        return f"Job {self.pk} ({self.get_kind_display().lower()}, {self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status == self.Status.COMPLETED else 0
        return min(100, self.progress_current * 100 // self.progress_total)

    @property
    def skipped_summary(self) -> str:
        """'.psd 3, .txt 1', as import_path and the page show it."""
        return skipped_summary(self.skipped)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def allowed_actions(self) -> list[str]:
        return [action for action, (sources, _) in self.ACTIONS.items() if self.status in sources]


class File(models.Model):
    """One photo or video of a job, and everything learned about it."""

    Status = FileStatus
    Confidence = Confidence
    Precision = Precision

    UNFINISHED = (Status.PENDING, Status.PROCESSING)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    original_name = models.CharField(max_length=1024, help_text="The name the file had where it came from.")
    path = models.TextField(
        help_text="Where the file lives: its absolute path for a folder import, its storage name for an upload."
    )
    folder = models.TextField(
        blank=True, help_text="The folders between the import root and the file, separated by '/'."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started on this file.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="The queued batch working on this file.")
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    client_modified_at = models.DateTimeField(
        null=True, blank=True, help_text="The browser's lastModified for an uploaded file."
    )

    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    mime_type = models.CharField(max_length=100, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds, for a video.")
    camera = models.CharField(max_length=200, blank=True, help_text="Make and model, from EXIF.")
    shot = models.CharField(
        max_length=200, blank=True, help_text="The capture record that tells two shots apart (camera, time)."
    )

    # The capture time is kept as an instant plus the UTC offset to show it with: the file's own
    # offset when it tells one, else MEDIAIMPORT_TIME_ZONE's at that moment.
    captured_at = models.DateTimeField(null=True, blank=True, db_index=True)
    capture_offset = models.SmallIntegerField(null=True, blank=True, help_text="Minutes east of UTC.")
    confidence = models.CharField(max_length=8, choices=Confidence.choices, default=Confidence.NONE)
    capture_source = models.CharField(max_length=64, blank=True)
    capture_evidence = models.JSONField(default=list, blank=True)
    capture_conflict = models.BooleanField(default=False)
    capture_precision = models.CharField(
        max_length=8, choices=Precision.choices, blank=True, help_text="Empty when there is no capture time."
    )
    # False when the file did not tell the offset: the time is a wall-clock time read in
    # MEDIAIMPORT_TIME_ZONE, and shown as "10:41, zone not recorded" rather than as that zone's.
    capture_offset_known = models.BooleanField(
        default=True, help_text="Whether the file told the capture time's offset (a wall-clock time in the zone if not)."
    )
    companion = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The other half of one shot in two files: a Live Photo's video, a RAW's JPEG.",
    )

    earlier_import = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The file of an earlier job of the same owner with the same SHA-256: this one was already imported.",
    )
    content_identifier = models.CharField(
        max_length=64, blank=True, help_text="Apple's content identifier, shared by a Live Photo's picture and video."
    )
    perceptual_hash = models.CharField(max_length=64, blank=True)
    picture_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the picture data alone (a JPEG's scan data, a HEIF's coded image, decoded "
        "pixels): equal for copies that differ only in metadata.",
    )
    thumbnail = models.FileField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "path"], name="file_path_unique_per_job"),
            models.CheckConstraint(condition=Q(status__in=FileStatus.values), name="file_status_valid"),
            models.CheckConstraint(condition=Q(confidence__in=Confidence.values), name="file_confidence_valid"),
            models.CheckConstraint(
                condition=Q(capture_precision__in=["", *Precision.values]), name="file_capture_precision_valid"
            ),
            models.CheckConstraint(
                condition=Q(capture_offset__isnull=True) | Q(capture_offset__gte=-1080, capture_offset__lte=1080),
                name="file_capture_offset_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["job", "status"]),
            models.Index(fields=["job", "confidence", "id"]),
            models.Index(fields=["job", "sha256"]),
        ]

    def __str__(self):
        return self.original_name

    @property
    def capture_time(self) -> datetime | None:
        """The capture time with the offset it is shown with."""
        return shown_capture_time(self.captured_at, self.capture_offset)


def shown_capture_time(captured_at: datetime | None, capture_offset: int | None) -> datetime | None:
    """A capture time (UTC, as stored) in its own offset (minutes east of UTC)."""
    if captured_at is None:
        return None
    return captured_at.astimezone(_offset(capture_offset or 0))


@functools.cache
def _offset(minutes: int) -> timezone:
    # A listing shows thousands of capture times in a handful of offsets.
    return timezone(timedelta(minutes=minutes))


class ExportAction(models.TextChoices):
    PLANNED = "planned", "Planned"
    COPIED = "copied", "Copied"
    LINKED = "linked", "Linked"
    EXISTS = "exists", "Already there"
    DUPLICATE = "duplicate", "Duplicate, left out"


class ExportEntry(models.Model):
    """One file of an export: where it goes, and once done what was written there. It is the
    export's unit of work, claimed and finished like an import's File (same status, attempts and
    claim fields), and the record that undo walks back."""

    Action = ExportAction
    Status = FileStatus

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="export_entries")
    file = models.ForeignKey(File, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.TextField(help_text="Where the original is, as the file listing shows it.")
    destination = models.TextField(
        help_text="Relative to the export's folder: planned, then where the file was actually written."
    )
    companion_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The entry whose name this one shares (the picture of a Live Photo or RAW+JPEG pair).",
    )  # fmt: skip
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.PLANNED)
    duplicate_of = models.ForeignKey(
        File, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The file exported instead."
    )
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the file as written at the destination.")
    written = models.JSONField(default=list, blank=True, help_text="Metadata written into the copy, as exiftool names it.")
    created = models.JSONField(
        default=list, blank=True, help_text="Files this entry made: [{path, size, mtime_ns}], for undo."
    )
    made_folders = models.JSONField(default=list, blank=True, help_text="Folders this entry made, for undo.")
    note = models.TextField(blank=True, help_text="What a person should know, e.g. why a sidecar was written.")

    status = models.CharField(max_length=16, choices=FileStatus.choices, default=FileStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "export entries"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=FileStatus.values), name="export_entry_status_valid"),
            models.CheckConstraint(condition=Q(action__in=ExportAction.values), name="export_entry_action_valid"),
        ]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self):
        return f"{self.source} -> {self.destination}"


class DuplicateGroup(models.Model):
    """Files across the whole library that hold the same picture: byte for byte (exact) or to
    the eye (near). Staff decisions are kept on the group and survive regrouping, which finds
    the group again by its kind and key."""

    Kind = DuplicateKind

    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=128, help_text="The SHA-256 shared by an exact group; for a near group, the SHA-256 of its earliest file.")
    files = models.ManyToManyField(File, through="DuplicateMember", related_name="duplicate_groups")
    keep = models.ForeignKey(
        File, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The copy to keep."
    )
    not_duplicates = models.BooleanField(default=False, help_text="Staff said these files are not duplicates.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="duplicate_group_unique_key"),
            models.CheckConstraint(condition=Q(kind__in=DuplicateKind.values), name="duplicate_group_kind_valid"),
        ]

    def __str__(self):
        """Named by its first file (the earliest imported) and that file's folder, as the page
        names it: a hex key tells a person nothing."""
        # The admin's lists prefetch each group's first members; elsewhere this is one query.
        shown = getattr(self, "shown_members", None)
        first = shown[0] if shown else self.members.select_related("file").order_by("file_id").first()
        if first is None:
            return f"{self.get_kind_display()} duplicates, no file left"
        return f"{self.get_kind_display()} duplicates: {group_name(first.file.original_name, first.file.folder)}"


def group_name(original_name: str, folder: str) -> str:
    """What a person calls a duplicate group: its first file's name and folder, so that ten
    groups of `empty_gps.jpg` look-alikes can be told apart."""
    return f"{original_name} in {folder}" if folder else original_name


class DuplicateMember(models.Model):
    group = models.ForeignKey(DuplicateGroup, on_delete=models.CASCADE, related_name="members")
    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="duplicate_memberships")
    identical = models.BooleanField(default=False, help_text="Byte-identical to another member.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "file"], name="duplicate_member_unique")]


class ClusterProcess(models.Model):
    """A running `manage.py qcluster`: the machine and process it is, and when it last said it
    lives. The tasks it takes from the queue are leased to it (TaskLease)."""

    machine = models.CharField(max_length=200, help_text="Host name, boot and process namespace: where its pid means it.")
    pid = models.PositiveIntegerField(help_text="The qcluster process.")
    process_started = models.BigIntegerField(help_text="The kernel's start time of that pid, so a reused pid is not taken for it.")
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(help_text="Its last heartbeat.")

    def __str__(self):
        return f"cluster {self.pid} on {self.machine.split('/')[0]}"


class TaskLease(models.Model):
    """A queued task in the hands of a cluster, from the moment its pusher takes it until its
    result is acknowledged. When the cluster, or the worker running the task, is gone, the
    task's lock is released and the next cluster to poll takes it, instead of waiting for the
    queue's `retry`."""

    task = models.BigIntegerField(unique=True, help_text="The django-q2 queue row (OrmQ id).")
    lock = models.DateTimeField(help_text="The lock the broker set when it handed the task out: this hand-out.")
    cluster = models.ForeignKey(ClusterProcess, on_delete=models.CASCADE, related_name="leases")
    worker_pid = models.PositiveIntegerField(null=True, blank=True, help_text="The worker running it; empty while it waits.")
    worker_started = models.BigIntegerField(null=True, blank=True)

    def __str__(self):
        return f"task {self.task} leased to {self.cluster}"


class CorrectionAction(models.TextChoices):
    SET = "set", "Set"
    SHIFT = "shift_seconds", "Shift"
    ZONE = "zone", "Time zone"
    REFERENCE = "reference", "Reference"


class CaptureTimeChange(models.Model):
    """One correction a person made to the capture times of some files, kept as LogEntry keeps an
    admin change: who, when, what they asked for. Its entries hold, for each file, the values it
    replaced and the values it set, so that undoing it restores exactly what was there."""

    Action = CorrectionAction

    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    parameters = models.JSONField(default=dict, help_text="What was asked, as the API received it.")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=CorrectionAction.values), name="capture_change_action_valid")
        ]

    def __str__(self):
        return f"Change {self.pk} ({self.get_action_display().lower()})"


class CaptureTimeChangeEntry(models.Model):
    """What one change did to one file: the capture values before and after."""

    change = models.ForeignKey(CaptureTimeChange, on_delete=models.CASCADE, related_name="entries")
    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="capture_changes")
    before = models.JSONField(help_text="The file's capture fields as the change found them.")
    after_at = models.DateTimeField(null=True)
    after_offset = models.SmallIntegerField(null=True)
    after_precision = models.CharField(max_length=8, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["change", "file"], name="capture_change_entry_unique")]
        indexes = [models.Index(fields=["file", "change"])]
