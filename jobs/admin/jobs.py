from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from jobs.admin import display
from jobs.admin.base import ConsoleAdmin
from jobs.models import DuplicateGroup, DuplicateMember, Job
from jobs.services import export
from jobs.services.control import ActionRefused, control_job, retry_failed_files

# What staff can do to a job: the state machine's actions, and retrying the failed files.
CONTROLS = {"pause": "Pause", "resume": "Resume", "cancel": "Cancel", "retry": "Retry the failed files"}
DONE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}
# Files an undo kept are named one message each, up to this many.
UNDO_KEPT_SHOWN = 10


@admin.register(Job)
class JobAdmin(ConsoleAdmin):
    list_display = [
        "id", "kind_label", "owner", "status_badge", "progress", "file_progress", "errors", "created", "duration"
    ]  # fmt: skip
    list_filter = ["status", "kind", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner"]
    search_fields = ["=id", "source_path", "owner__username"]
    show_full_result_count = False
    actions = ["pause", "resume", "cancel", "retry_failed", "undo_export"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "kind", "owner", "source_path", "status_badge", "progress", "file_progress", "errors",
                    "skipped_files", "already_imported_count", "skip_known", "failure",
                ]  # fmt: skip
            },
        ),
        ("Times", {"fields": ["created_at", "started_at", "completed_at", "duration", "last_progress_at"]}),
        ("Results", {"fields": ["file_list", "duplicate_groups"]}),
        ("Export", {"fields": ["destination", "template", "export_options", "manifest", "undone_at"]}),
    ]
    readonly_fields = [
        "kind", "owner", "source_path", "status_badge", "progress", "file_progress", "errors", "skipped_files",
        "already_imported_count", "skip_known", "failure", "created_at",
        "started_at", "completed_at", "duration", "last_progress_at", "file_list", "duplicate_groups",
        "destination", "template", "export_options", "manifest", "undone_at",
    ]  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        # An import has no export settings, an export no files or duplicate groups of its own.
        fieldsets = super().get_fieldsets(request, obj)
        unwanted = "Results" if obj is not None and obj.kind == Job.Kind.EXPORT else "Export"
        return [fieldset for fieldset in fieldsets if fieldset[0] != unwanted]

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, job):
        # A dry run is listed with the exports, named as what it is: it wrote nothing.
        return f"{job.get_kind_display()} (dry run)" if job.dry_run else job.get_kind_display()

    @admin.display(description="status", ordering="status")
    def status_badge(self, job):
        return format_html('<span class="console-status console-status-{}">{}</span>', job.status, job.get_status_display())

    @admin.display(description="progress")
    def progress(self, job):
        return display.progress_bar(job)

    @admin.display(description="files", ordering="progress_total")
    def file_progress(self, job):
        return f"{job.progress_current} / {job.progress_total}"

    @admin.display(description="errors", ordering="error_count")
    def errors(self, job):
        return job.error_count

    @admin.display(description="skipped")
    def skipped_files(self, job):
        """What a folder import found and does not import, by extension."""
        return f"{job.skipped_count} ({job.skipped_summary})" if job.skipped_count else "none"

    @admin.display(description="created", ordering="created_at")
    def created(self, job):
        return display.moment(job.created_at)

    @admin.display(description="duration")
    def duration(self, job):
        return display.duration(job.started_at, job.completed_at)

    @admin.display(description="files")
    def file_list(self, job):
        url = reverse("admin:jobs_file_changelist")
        return format_html(
            '<a href="{}?job={}">All {} files</a> · <a href="{}?job={}&has_error=yes">the {} with errors</a>',
            url, job.pk, job.progress_total, url, job.pk, job.error_count,
        )  # fmt: skip

    @admin.display(description="duplicate groups")
    def duplicate_groups(self, job):
        groups = DuplicateGroup.objects.filter(
            Exists(DuplicateMember.objects.filter(group=OuterRef("pk"), file__job=job))
        ).count()
        url = reverse("admin:jobs_duplicategroup_changelist")
        noun = "group" if groups == 1 else "groups"
        return format_html('<a href="{}?job={}">{} {} with files of this job</a>', url, job.pk, groups, noun)

    @admin.display(description="options")
    def export_options(self, job):
        options = [("dry run", job.dry_run), ("hard links", job.link), ("capture time written", job.write_metadata)]
        return ", ".join(f"{name}: {'yes' if on else 'no'}" for name, on in options)

    @admin.display(description="manifest")
    def manifest(self, job):
        url = reverse("api-job-manifest", args=[job.pk])
        return format_html('<a href="{}?format=csv">Download the manifest (CSV)</a>', url)

    # --- actions -------------------------------------------------------------------------------

    @admin.action(description="Undo the selected exports", permissions=["change"])
    def undo_export(self, request, queryset):
        for job in queryset:
            try:
                report = export.undo_export(job=job)
            except export.ExportRefused as refused:
                self.message_user(request, f"Job {job.pk}: {refused}", messages.WARNING)
                continue
            self.message_user(request, f"Export {job.pk}: {len(report.removed)} files removed.", messages.SUCCESS)
            for kept in report.kept[:UNDO_KEPT_SHOWN]:
                self.message_user(request, f"Export {job.pk} kept {kept['destination']}: {kept['reason']}.", messages.WARNING)
            if len(report.kept) > UNDO_KEPT_SHOWN:
                more = len(report.kept) - UNDO_KEPT_SHOWN
                self.message_user(request, f"Export {job.pk} kept {more} more files.", messages.WARNING)

    @admin.action(description="Pause the selected jobs", permissions=["change"])
    def pause(self, request, queryset):
        self.apply(request, queryset, "pause")

    @admin.action(description="Resume the selected jobs", permissions=["change"])
    def resume(self, request, queryset):
        self.apply(request, queryset, "resume")

    @admin.action(description="Cancel the selected jobs", permissions=["change"])
    def cancel(self, request, queryset):
        self.apply(request, queryset, "cancel")

    @admin.action(description="Retry the files that failed", permissions=["change"])
    def retry_failed(self, request, queryset):
        self.apply(request, queryset, "retry")

    def apply(self, request, jobs, action: str) -> None:
        """Run one control on each job through the services, saying in the messages what
        happened to each and why a refused one was refused."""
        changed = 0
        for job in jobs:
            try:
                if action == "retry":
                    count = retry_failed_files(job=job)
                    if count:
                        self.message_user(request, f"Job {job.pk}: {count} failed files queued again.", messages.SUCCESS)
                    else:
                        self.message_user(request, f"Job {job.pk} has no failed files to retry.", messages.WARNING)
                    continue
                control_job(job=job, action=action)
            except ActionRefused as refused:
                self.message_user(request, f"Job {job.pk}: {refused}", messages.WARNING)
            else:
                changed += 1
        if changed:
            noun = "job" if changed == 1 else "jobs"
            self.message_user(request, f"{changed} {noun} {DONE[action]}.", messages.SUCCESS)

    # --- the job's own page ----------------------------------------------------------------------

    def get_urls(self):
        control = self.admin_site.admin_view(require_POST(self.control_view))
        return [path("<int:job_id>/control/", control, name="jobs_job_control"), *super().get_urls()]

    def control_view(self, request, job_id):
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            raise Http404("No such job")
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        action = request.POST.get("action", "")
        if action not in CONTROLS:
            self.message_user(request, f"Unknown action '{action}'.", messages.ERROR)
        else:
            self.apply(request, [job], action)
        return redirect("admin:jobs_job_change", job.pk)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Jobs", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Everything on a job's page is computed; its buttons are the controls, not Save.
        context = {"title": "Job", "show_save": False, "show_save_and_continue": False, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            allowed = set(obj.allowed_actions()) | ({"retry"} if obj.error_count else set())
            context["controls"] = {action: label for action, label in CONTROLS.items() if action in allowed}
        return super().render_change_form(request, context, add, change, form_url, obj)
