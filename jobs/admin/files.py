from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from jobs.admin import display
from jobs.admin.base import ConsoleAdmin
from jobs.admin.filters import FileTypeFilter, HasErrorFilter, InDuplicateGroupFilter, JobFilter
from jobs.admin.pagination import CappedCountPaginator
from jobs.models import DuplicateGroup, File
from jobs.pipeline.companions import PAIR_KINDS, pair_kind
from jobs.pipeline.thumbnails import CONTENT_TYPE as THUMBNAIL_CONTENT_TYPE
from jobs.services.corrections import Correction, CorrectionRefused, NotFound, correct_capture_times, parse_correction
from jobs.services.duplicates import keep_copies, mark_not_duplicates


class CaptureTimeCorrectionForm(forms.ModelForm):
    """A file's page edits nothing of the file but its capture time, through the service."""

    corrected_capture_time = forms.CharField(required=False, label="Correct the capture time")

    class Meta:
        model = File
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrected_capture_time"].help_text = (
            "For example 2019-07-14 15:30, 2019-07-14T15:30:00+02:00, or only a day, month or year: 2019-07-14, "
            f"2019-07, 2019. Without an offset it is read in {settings.TIME_ZONE}. Saved as source 'manual', "
            "confidence high, with the precision written; the previous value stays in the evidence, and the "
            "change can be undone from the page or the API."
        )

    def clean_corrected_capture_time(self) -> Correction | None:
        text = self.cleaned_data["corrected_capture_time"].strip()
        if not text:
            return None
        try:
            return parse_correction({"set": text})  # the same values the API takes
        except CorrectionRefused as refused:
            raise forms.ValidationError(str(refused)) from None


@admin.register(File)
class FileAdmin(ConsoleAdmin):
    # Narrow enough for a 1366-px screen beside the admin's menu and filters: a file's folder, job
    # and pair go under its name.
    list_display = [
        "thumbnail_small", "name_and_folder", "capture_time", "confidence", "file_size", "dimensions", "error_summary"
    ]  # fmt: skip
    list_display_links = ["name_and_folder"]
    list_select_related = ["companion"]
    actions = ["keep_this_copy", "not_duplicates"]
    list_filter = ["confidence", FileTypeFilter, JobFilter, HasErrorFilter, InDuplicateGroupFilter, "status"]
    search_fields = ["original_name", "path", "=sha256"]
    list_per_page = 100
    paginator = CappedCountPaginator
    show_full_result_count = False
    form = CaptureTimeCorrectionForm
    fieldsets = [
        (None, {"fields": ["preview", "original_name", "job_link", "path", "folder", "status", "error"]}),
        (
            "Capture time",
            {"fields": ["capture_time", "confidence", "capture_source", "clues_agree", "evidence", "corrected_capture_time"]},
        ),
        ("Content", {"fields": ["mime_type", "file_size", "dimensions", "duration", "camera", "shot", "sha256", "perceptual_hash"]}),
        ("Duplicates", {"fields": ["group_links"]}),
        ("Library", {"fields": ["earlier_import_link", "companion_link", "picture_sha256", "content_identifier"]}),
        ("Processing", {"fields": ["attempts", "processed_at", "client_modified_at"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "preview", "original_name", "job_link", "path", "folder", "status", "error", "capture_time", "confidence",
        "capture_source", "clues_agree", "evidence", "mime_type", "file_size", "dimensions", "duration", "camera",
        "shot", "sha256", "perceptual_hash", "group_links", "attempts", "processed_at", "client_modified_at",
        "earlier_import_link", "companion_link", "picture_sha256", "content_identifier",
    ]  # fmt: skip

    @admin.display(description="")
    def thumbnail_small(self, file):
        return display.thumbnail(file)

    @admin.display(description="name", ordering="original_name")
    def name_and_folder(self, file):
        """The name, its folder below it (ten empty_gps.jpg are told apart by it), and the other
        half of a pair: the source of the capture time is on the file's own page."""
        pair = format_html('<div class="console-quiet">with {}</div>', file.companion) if file.companion_id else ""
        known = format_html('<div class="console-quiet">{}</div>', "already in the library") if file.earlier_import_id else ""  # fmt: skip
        return format_html(
            '<span class="console-name" title="{}">{}</span><div class="console-quiet console-folder">{}</div>'
            '<div class="console-quiet">{}</div>{}{}',
            file.path, file.original_name, file.folder or "", display.job_link(file.job_id), pair, known,
        )  # fmt: skip

    @admin.display(description="already imported as")
    def earlier_import_link(self, file):
        if file.earlier_import_id is None:
            return "Not in an earlier job of this owner."
        url = reverse("admin:jobs_file_change", args=[file.earlier_import_id])
        earlier = file.earlier_import
        return format_html('<a href="{}">{}</a> in {}', url, earlier, display.job_link(earlier.job_id))

    @admin.display(description="companion")
    def companion_link(self, file):
        """The pair side by side, this file first: one shot in two files."""
        if file.companion_id is None:
            return "None: not one half of a Live Photo or RAW+JPEG pair."
        companion = file.companion
        url = reverse("admin:jobs_file_change", args=[companion.pk])
        return format_html(
            '<div class="console-pair"><strong>{}</strong><div class="console-pair-halves">'
            "<figure>{}<figcaption>{} (this file)</figcaption></figure>"
            '<figure>{}<figcaption><a href="{}">{}</a></figcaption></figure></div></div>',
            PAIR_KINDS[pair_kind(file.mime_type, companion.mime_type)],
            display.thumbnail(file, "large"), file, display.thumbnail(companion, "large"), url, companion,
        )  # fmt: skip

    # --- bulk decisions on duplicate groups ------------------------------------------------------

    @admin.action(description="Keep the selected copies (in their duplicate groups)", permissions=["change"])
    def keep_this_copy(self, request, queryset):
        decided, refused = keep_copies(files=queryset, by=request.user)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
        if decided:
            decided_text = f"{len(decided)} duplicate groups decided: the selected copies are kept."
            self.message_user(request, decided_text, messages.SUCCESS)
        elif not refused:
            self.message_user(request, "None of the selected files is in a duplicate group.", messages.WARNING)

    @admin.action(description="Mark the selected files' groups as not duplicates", permissions=["change"])
    def not_duplicates(self, request, queryset):
        groups = DuplicateGroup.objects.filter(members__file__in=queryset).distinct().order_by("id")
        decided = mark_not_duplicates(groups=groups, by=request.user)
        if decided:
            self.message_user(request, f"{len(decided)} duplicate groups marked as not duplicates.", messages.SUCCESS)
        else:
            self.message_user(request, "None of the selected files is in a duplicate group.", messages.WARNING)

    @admin.display(description="preview")
    def preview(self, file):
        return display.thumbnail(file, "large")

    @admin.display(description="job", ordering="job_id")
    def job_link(self, file):
        return display.job_link(file.job_id)

    @admin.display(description="capture time", ordering="captured_at")
    def capture_time(self, file):
        return display.capture_time(file)

    # Named for what a green check should mean: the file's records of its capture agree.
    @admin.display(description="capture records agree", boolean=True)
    def clues_agree(self, file):
        return not file.capture_conflict

    @admin.display(description="size", ordering="size")
    def file_size(self, file):
        return filesizeformat(file.size) if file.size is not None else "—"

    @admin.display(description="dimensions")
    def dimensions(self, file):
        return display.dimensions(file)

    @admin.display(description="error")
    def error_summary(self, file):
        return format_html('<span class="console-error" title="{}">{}</span>', file.error, file.error) if file.error else ""

    @admin.display(description="evidence")
    def evidence(self, file):
        if not file.capture_evidence:
            return "No clue to the capture time was found."
        rows = format_html_join(
            "",
            '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    "console-accepted" if e.get("accepted") else "console-rejected",
                    e.get("source", ""),
                    e.get("raw", ""),
                    e.get("value") or "—",
                    "yes" if e.get("accepted") else "no",
                    e.get("note", ""),
                )
                for e in file.capture_evidence
            ),
        )
        return format_html(
            '<table class="console-evidence"><thead><tr><th>source</th><th>as found</th><th>read as</th>'
            "<th>usable</th><th>note</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="groups")
    def group_links(self, file):
        groups = DuplicateGroup.objects.filter(members__file=file).order_by("kind", "id")
        if not groups:
            return "In no duplicate group."
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:jobs_duplicategroup_change", args=[g.pk]), str(g)) for g in groups),
        )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Files", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {"title": "File", **(extra_context or {})})

    def save_model(self, request, obj, form, change):
        correction = form.cleaned_data.get("corrected_capture_time")
        if correction is None:
            return
        try:
            outcome = correct_capture_times(user=request.user, file_ids=[obj.id], correction=correction)
        except (CorrectionRefused, NotFound) as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            copies = len(outcome.updated) - 1
            also = f", and {copies} other cop{'y' if copies == 1 else 'ies'} of the same picture" if copies else ""
            self.message_user(
                request, f"Capture time of {obj} {correction.describe()}{also} (change {outcome.change.id}).", messages.SUCCESS
            )

    # --- thumbnails ------------------------------------------------------------------------------

    def get_urls(self):
        # Inside the admin, so only staff reach it: the page's previews, never the file itself.
        thumbnail = self.admin_site.admin_view(self.thumbnail_view, cacheable=True)
        return [path("<int:file_id>/thumbnail/", thumbnail, name="jobs_file_thumbnail"), *super().get_urls()]

    def thumbnail_view(self, request, file_id):
        name = File.objects.filter(pk=file_id).values_list("thumbnail", flat=True).first()
        if not name or not self.has_view_permission(request):
            raise Http404("No thumbnail")
        try:
            handle = default_storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404("No thumbnail") from None
        response = FileResponse(handle, content_type=THUMBNAIL_CONTENT_TYPE)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        return response
