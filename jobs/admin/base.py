from django.contrib import admin


class ConsoleAdmin(admin.ModelAdmin):
    """The console's look, and its one rule on rows: jobs, files and duplicate groups come from
    imports and regrouping, never from a form here, and nothing a user imported is deleted from
    here (a deleted group would only be found again)."""

    class Media:
        css = {"all": ["admin-extra/console.css"]}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
