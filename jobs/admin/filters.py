"""List filters that stay cheap on a large library: none of them lists a big table's rows."""

from django.contrib import admin
from django.db.models import Exists, OuterRef

from jobs.models import DuplicateKind, DuplicateMember, Job

RECENT_JOBS = 10


class JobFilter(admin.SimpleListFilter):
    """The files (or groups) of one job. Offers the latest jobs; any other is reached from its
    job's page, which links here with ?job=<id>."""

    title = "job"
    parameter_name = "job"

    def lookups(self, request, model_admin):
        choices = [(str(pk), f"Job {pk}") for pk in Job.objects.values_list("id", flat=True)[:RECENT_JOBS]]
        chosen = self.value()
        if chosen and chosen not in dict(choices):
            choices.insert(0, (chosen, f"Job {chosen}"))
        return choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            return queryset.none()
        return self.filter_job(queryset, int(self.value()))

    def filter_job(self, queryset, job_id: int):
        return queryset.filter(job_id=job_id)


class GroupJobFilter(JobFilter):
    """Groups holding at least one file of the job; the group may span other jobs too."""

    def filter_job(self, queryset, job_id: int):
        return queryset.filter(Exists(DuplicateMember.objects.filter(group=OuterRef("pk"), file__job_id=job_id)))


class FileTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"
    PREFIXES = {"photo": "image/", "video": "video/"}

    def lookups(self, request, model_admin):
        return [("photo", "Photos"), ("video", "Videos"), ("unknown", "Not recognised")]

    def queryset(self, request, queryset):
        if self.value() in self.PREFIXES:
            return queryset.filter(mime_type__startswith=self.PREFIXES[self.value()])
        if self.value() == "unknown":
            return queryset.filter(mime_type="")
        return queryset


class HasErrorFilter(admin.SimpleListFilter):
    title = "has error"
    parameter_name = "has_error"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(error="")
        if self.value() == "no":
            return queryset.filter(error="")
        return queryset


class InDuplicateGroupFilter(admin.SimpleListFilter):
    title = "in a duplicate group"
    parameter_name = "duplicates"

    def lookups(self, request, model_admin):
        return [("any", "Yes"), *((kind, f"{label} duplicates") for kind, label in DuplicateKind.choices), ("no", "No")]

    def queryset(self, request, queryset):
        # A plain IN (subquery) is read once; SQLite, without table statistics, would run a
        # correlated EXISTS over every group for every file.
        members = DuplicateMember.objects.values("file_id")
        if self.value() in DuplicateKind.values:
            return queryset.filter(id__in=members.filter(group__kind=self.value()))
        if self.value() == "any":
            return queryset.filter(id__in=members)
        if self.value() == "no":
            return queryset.exclude(id__in=members)
        return queryset


class DecisionFilter(admin.SimpleListFilter):
    title = "decision"
    parameter_name = "decision"

    def lookups(self, request, model_admin):
        return [("undecided", "Undecided"), ("keep", "Copy to keep chosen"), ("not_duplicates", "Not duplicates")]

    def queryset(self, request, queryset):
        if self.value() == "undecided":
            return queryset.filter(keep=None, not_duplicates=False)
        if self.value() == "keep":
            return queryset.exclude(keep=None)
        if self.value() == "not_duplicates":
            return queryset.filter(not_duplicates=True)
        return queryset
