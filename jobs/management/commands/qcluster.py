"""manage.py qcluster: django-q2's cluster, which first queues again the jobs that a stopped or
killed cluster left behind, and warms up the pipeline for the workers it forks."""

from django_q.management.commands import qcluster

from jobs.services.control import recover_stalled_jobs
from jobs.services.processing import warm_up_pipeline


class Command(qcluster.Command):
    help = "Starts the cluster that processes import jobs, after queueing again any job left without work."

    def handle(self, *args, **options):
        # A running or pending job with no task on the queue lost it with a cluster that died, so
        # there is no worker to wait for. (Claims keep each file done once should the job be a
        # `import_path --sync` still at work.) Tasks still on the queue, taken by the dead
        # cluster, come back by themselves after Q_CLUSTER["retry"].
        recover_stalled_jobs(quiet_seconds=0)
        warm_up_pipeline()
        super().handle(*args, **options)
