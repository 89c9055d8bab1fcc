from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(_schedule_recovery, sender=self)


def _schedule_recovery(**kwargs):
    """The cluster looks for stalled jobs when it starts and every minute after."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="Recover stalled jobs",
        defaults={"func": "jobs.tasks.recover_stalled_jobs", "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
