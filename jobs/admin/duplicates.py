from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join

from jobs.admin import display
from jobs.admin.base import ConsoleAdmin
from jobs.admin.filters import DecisionFilter, GroupJobFilter
from jobs.models import DuplicateGroup, DuplicateMember, File, group_name
from jobs.services.duplicates import DecisionRefused, check_decision, decide, mark_not_duplicates

# Thumbnails shown per group on the list page.
LIST_THUMBNAILS = 4


class DecisionForm(forms.ModelForm):
    """The copy to keep is one of the group's own files; "not duplicates" excludes a copy."""

    # Declared here, not generated, so the admin does not wrap it in its related-object links.
    keep = forms.ModelChoiceField(
        queryset=File.objects.none(), required=False, widget=forms.RadioSelect, blank=True, empty_label="No choice yet"
    )

    class Meta:
        model = DuplicateGroup
        fields = ["keep", "not_duplicates"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = File.objects.filter(duplicate_memberships__group=self.instance).order_by("id")

    def clean(self):
        data = super().clean()
        try:
            check_decision(group=self.instance, keep=data.get("keep"), not_duplicates=data.get("not_duplicates", False))
        except DecisionRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return data


@admin.register(DuplicateGroup)
class DuplicateGroupAdmin(ConsoleAdmin):
    list_display = ["name", "kind", "member_count", "total_size", "thumbnails", "decision"]
    actions = ["not_duplicates"]
    list_filter = ["kind", DecisionFilter, GroupJobFilter]
    list_select_related = ["keep"]
    search_fields = ["=key", "files__original_name"]  # see get_search_results
    search_help_text = "A SHA-256 key, or part of a member's file name."
    ordering = ["-id"]
    show_full_result_count = False
    form = DecisionForm
    fieldsets = [(None, {"fields": ["kind", "key", "member_count", "total_size", "decided"]})]
    readonly_fields = ["kind", "key", "member_count", "total_size", "decided"]

    def get_queryset(self, request):
        shown = DuplicateMember.objects.select_related("file").order_by("file_id")[:LIST_THUMBNAILS]
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("members"), total_size=Sum("members__file__size"))
            .prefetch_related(Prefetch("members", queryset=shown, to_attr="shown_members"))
        )

    def get_search_results(self, request, queryset, search_term):
        # Matched through a subquery: joining the members, as the admin would, would count each
        # group's files and sizes once per matching member.
        term = search_term.strip()
        if not term:
            return queryset, False
        named = DuplicateMember.objects.filter(group=OuterRef("pk"), file__original_name__icontains=term)
        return queryset.filter(Q(key=term) | Exists(named)), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The form holds the decision; the fieldsets show only what regrouping computed.
        kwargs["fields"] = ["keep", "not_duplicates"]
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="group")
    def name(self, group):
        """Named by its first file and that file's folder, as the page names it."""
        if not group.shown_members:
            return str(group)
        first = group.shown_members[0].file
        return group_name(first.original_name, first.folder)

    @admin.action(description="Mark the selected groups as not duplicates", permissions=["change"])
    def not_duplicates(self, request, queryset):
        decided = mark_not_duplicates(groups=queryset, by=request.user)
        self.message_user(request, f"{len(decided)} duplicate groups marked as not duplicates.", messages.SUCCESS)

    @admin.display(description="files", ordering="member_count")
    def member_count(self, group):
        return group.member_count

    @admin.display(description="total size", ordering="total_size")
    def total_size(self, group):
        return filesizeformat(group.total_size or 0)

    @admin.display(description="")
    def thumbnails(self, group):
        shown = format_html_join("", "{}", ((display.thumbnail(m.file),) for m in group.shown_members))
        more = group.member_count - len(group.shown_members)
        return format_html('<span class="console-strip">{}{}</span>', shown, f" +{more}" if more > 0 else "")

    @admin.display(description="decision")
    def decision(self, group):
        if group.not_duplicates:
            return "Not duplicates"
        if group.keep_id:
            return f"Keep {group.keep}"
        return "—"

    @admin.display(description="decided")
    def decided(self, group):
        if group.decided_at is None:
            return "Not yet"
        return f"{self.decision(group)}, by {group.decided_by or 'a deleted user'} on {group.decided_at:%Y-%m-%d %H:%M}"

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Duplicate groups across the library", **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {"title": "Duplicate group", **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Each member is shown side by side with its own 'keep' choice."""
        form = context["adminform"].form
        if obj is not None and "keep" in form.fields:
            members = {m.file_id: m for m in obj.members.select_related("file")}
            choices = {str(choice.data["value"]): choice for choice in form["keep"]}
            context["no_choice"] = choices.pop("")
            context["member_cards"] = [self.card(members[int(value)], choice) for value, choice in choices.items()]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def card(member: DuplicateMember, choice) -> dict:
        file = member.file
        return {
            "file": file,
            "identical": member.identical,
            "choice": choice,
            "preview": display.thumbnail(file, "large"),
            "dimensions": display.dimensions(file),
            "capture_time": display.capture_time(file),
        }

    def save_model(self, request, obj, form, change):
        decide(group=obj, keep=form.cleaned_data["keep"], not_duplicates=form.cleaned_data["not_duplicates"], by=request.user)
