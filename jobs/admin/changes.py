from django.contrib import admin, messages
from django.db.models import Count

from jobs.admin import display
from jobs.admin.base import ConsoleAdmin
from jobs.models import CaptureTimeChange
from jobs.services.corrections import CorrectionRefused, undo_change


@admin.register(CaptureTimeChange)
class CaptureTimeChangeAdmin(ConsoleAdmin):
    """The record of capture-time corrections, as LogEntry is of admin changes: read, and undone
    through the same service as the page's Undo."""

    list_display = ["id", "at_time", "by", "action", "description", "file_count", "undone"]
    list_filter = ["action", ("by", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["by"]
    search_fields = ["=id", "by__username"]
    show_full_result_count = False
    actions = ["undo"]
    readonly_fields = ["by", "at", "action", "parameters", "undone_at", "undone_by"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(files=Count("entries"))

    @admin.display(description="when", ordering="at")
    def at_time(self, change):
        return display.moment(change.at)

    @admin.display(description="what")
    def description(self, change):
        return change.parameters.get("description", "")

    @admin.display(description="files", ordering="files")
    def file_count(self, change):
        return change.files

    @admin.display(description="undone", boolean=True)
    def undone(self, change):
        return change.undone_at is not None

    @admin.action(description="Undo the selected changes")
    def undo(self, request, queryset):
        for change in queryset.order_by("-id"):  # the latest first, as a person would walk back
            try:
                restored, kept = undo_change(user=request.user, change_id=change.id)
            except CorrectionRefused as refused:
                self.message_user(request, str(refused), messages.WARNING)
                continue
            kept_words = f"; {len(kept)} kept (changed again since)" if kept else ""
            files = f"{len(restored)} file{'' if len(restored) == 1 else 's'}"
            self.message_user(request, f"{change}: {files} restored{kept_words}.", messages.SUCCESS)
