import logging
import time
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from jobs.batching import batched
from jobs.models import Job
from jobs.services import liveness
from jobs.services.duplicates import refresh_duplicate_groups
from jobs.services.imports import ImportRefused, create_path_job
from jobs.services.processing import finish_job_if_done, process_batch, work_for

# Following a job is one indexed read per poll; a short poll keeps the command from adding most
# of a poll's length to the end of every import.
POLL_SECONDS = 0.1
# A job no worker has taken after this long, with no cluster on the roll, gets a word on why.
NO_WORKER_SECONDS = 5


class Command(BaseCommand):
    help = (
        "Import every photo and video below a folder on this server. Prints 'job <id>', then follows "
        "the job with a progress bar until it ends; exits 0 when it completed, 1 when it failed, "
        "2 when it was cancelled."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The folder to import; its files stay where they are.")
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--sync", action="store_true", help="Process the files in this process, without a cluster.")
        how.add_argument("--no-wait", action="store_true", help="Only queue the job and print its id.")
        parser.add_argument("--user", help="Username that owns the job and sees it on the web page.")
        parser.add_argument(
            "--skip-known",
            action="store_true",
            help="Files the owner's earlier jobs hold already (same SHA-256) are recorded as already imported "
            "and take those files' results instead of being decoded again.",
        )

    def handle(self, *args, path, sync, no_wait, user, skip_known, verbosity, **options):
        # django-q2 logs a line for every batch it queues; the progress bar says more, in one line.
        logging.getLogger("django-q").setLevel(logging.WARNING if verbosity < 2 else logging.INFO)
        self._check_database()
        owner = self._owner(user)
        try:
            job = create_path_job(
                path=Path(path).expanduser().absolute(), owner=owner, enqueue=not sync, skip_known=skip_known
            )
        except ImportRefused as e:
            raise CommandError(str(e)) from None
        self.run_job(job, sync=sync, no_wait=no_wait, verbosity=verbosity)

    def run_job(self, job, *, sync, no_wait, verbosity, unit="file"):
        """Print the job's id, then process or follow it with a progress bar until it ends; the
        exit status says how it ended. `manage.py export` follows its jobs the same way."""
        self.stdout.write(f"job {job.id}")
        self.stdout.flush()
        if no_wait:
            self.stdout.write(self._taken(job))
            return
        show = verbosity > 0
        with tqdm(total=job.progress_total, unit=unit, disable=not show, dynamic_ncols=True) as bar:
            if sync:
                self._process_here(job, bar)
            else:
                self._follow(job, bar)
        job.refresh_from_db()
        self.stdout.write(
            f"{job.status}: {job.progress_current} of {job.progress_total} {unit}s, {job.error_count} with errors"
            + (f", {job.already_imported_count} already in the library" if job.kind != Job.Kind.EXPORT else "")
        )
        self.stdout.write(self._taken(job))
        if job.status == Job.Status.FAILED:
            raise CommandError(f"Job {job.id} failed: {job.failure}", returncode=1)
        if job.status == Job.Status.CANCELLED:
            raise CommandError(f"Job {job.id} was cancelled", returncode=2)

    @staticmethod
    def _taken(job) -> str:
        """'imported 374, skipped 4 (.psd 3, .txt 1)': what the folder held beside its photos and
        videos is never left out in silence."""
        left_out = f" ({job.skipped_summary})" if job.skipped else ""
        return f"imported {job.progress_total}, skipped {job.skipped_count}{left_out}"

    def _owner(self, username):
        if not username:
            return None
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}") from None

    @staticmethod
    def _check_database():
        """A clear word instead of 'no such table: jobs_job' when this command does not find the
        database that `make run` set up (another MEDIAIMPORT_DATA_DIR or DATABASE_URL)."""
        db = connections["default"]
        where = db.settings_dict["NAME"]
        if db.vendor == "sqlite":
            # Checked before connecting: SQLite would create an empty file there.
            present = Path(where).is_file() and Job._meta.db_table in db.introspection.table_names()
        else:
            where = f"{db.settings_dict['HOST'] or 'localhost'}/{where}"
            present = Job._meta.db_table in db.introspection.table_names()
        if not present:
            raise CommandError(
                f"No database at {where}: run `make run` once (it creates it), or set MEDIAIMPORT_DATA_DIR "
                "(or DATABASE_URL) to the one `make run` uses."
            )

    def _process_here(self, job, bar):
        # Read whole, not through a cursor kept open across the batches: queueing the regrouping
        # task when the job completes closes the database connection (django-q2 does, outside a
        # transaction). 100,000 ids are a few megabytes.
        work = work_for(job.kind)
        ids = list(work.model.objects.filter(job=job).order_by("id").values_list("id", flat=True))
        token = uuid.uuid4().hex[:12]
        for batch in batched(ids, work.units_per_batch):
            process_batch(job_id=job.id, first_id=batch[0], last_id=batch[-1], token=token)
            self._show(job, bar)
        finish_job_if_done(job.id)
        if job.kind != Job.Kind.EXPORT:
            # With no cluster running, the library's duplicate groups are brought up to date here.
            refresh_duplicate_groups(job=job)

    def _follow(self, job, bar):
        hint_at = time.monotonic() + NO_WORKER_SECONDS
        try:
            while True:
                self._show(job, bar)
                if job.is_finished:
                    return
                if hint_at and time.monotonic() > hint_at:
                    hint_at = None
                    if job.status == Job.Status.PENDING and not liveness.any_cluster_running():
                        bar.write(
                            "No cluster is running to process this job: start `make run` (or `manage.py qcluster`) "
                            "with the same MEDIAIMPORT_DATA_DIR, or stop this with Ctrl-C and import with --sync, "
                            "which processes the files in this command.",
                            file=self.stderr,
                        )
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            bar.close()
            raise CommandError(
                f"Stopped following; job {job.id} goes on in the cluster.", returncode=130
            ) from None

    @staticmethod
    def _show(job, bar):
        job.refresh_from_db(fields=["status", "progress_current", "progress_total", "error_count"])
        bar.total = job.progress_total
        bar.n = job.progress_current
        bar.set_postfix(status=job.status, errors=job.error_count, refresh=False)
        bar.refresh()
