import logging
from collections import Counter
from pathlib import Path

from django.core.management.base import CommandError

from jobs.export_plan import DEFAULT_TEMPLATE
from jobs.management.commands import import_path
from jobs.models import ExportEntry, Job
from jobs.services.export import ExportRefused, create_export_job, undo_export


class Command(import_path.Command):
    help = (
        "Export the library's done files into a dated collection below DEST (docs/export.md). Prints "
        "'job <id>', then follows the export with a progress bar; exits 0 when it completed, 1 when it "
        "failed, 2 when it was cancelled. --undo ID removes what export ID created and is unchanged since."
    )

    # Django's system checks import every URL pattern, view and admin of the project: a tenth of a
    # second of each export's start, for what `manage.py check` and the server's start report anyway.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("destination", nargs="?", metavar="DEST", help="The folder to export into.")
        parser.add_argument(
            "--job", dest="job_ids", type=int, action="append", metavar="ID",
            help="Export this job's files (repeat for more); without it, every job's.",
        )  # fmt: skip
        parser.add_argument("--template", default=DEFAULT_TEMPLATE, help=f"Where files go (default {DEFAULT_TEMPLATE}).")
        parser.add_argument("--dry-run", action="store_true", help="Plan only: record the manifest, write nothing.")
        parser.add_argument("--link", action="store_true", help="Hard-link files that need nothing written.")
        parser.add_argument(
            "--no-write-metadata", dest="write_metadata", action="store_false",
            help="Do not write the capture time into the copies.",
        )  # fmt: skip
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--sync", action="store_true", help="Export in this process, without a cluster.")
        how.add_argument("--no-wait", action="store_true", help="Only queue the export and print its id.")
        parser.add_argument("--undo", type=int, metavar="ID", help="Undo export ID instead of exporting.")

    def handle(self, *args, destination, job_ids, template, dry_run, link, write_metadata, sync, no_wait, undo, verbosity, **options):
        logging.getLogger("django-q").setLevel(logging.WARNING if verbosity < 2 else logging.INFO)
        if undo is not None:
            return self._undo(undo)
        if not destination:
            raise CommandError("Name the folder to export into (DEST), or --undo ID.")
        if job_ids and (missing := set(job_ids) - set(Job.objects.filter(id__in=job_ids).values_list("id", flat=True))):
            raise CommandError(f"No job {', '.join(map(str, sorted(missing)))}.")
        try:
            job = create_export_job(
                destination=Path(destination).expanduser().absolute(),
                job_ids=job_ids,
                template=template,
                dry_run=dry_run,
                link=link,
                write_metadata=write_metadata,
                enqueue=not sync,
            )
        except ExportRefused as e:
            raise CommandError(str(e)) from None
        self.run_job(job, sync=sync and not dry_run, no_wait=no_wait, verbosity=verbosity)

    @staticmethod
    def _taken(job) -> str:
        """'copied 480; already there 5; duplicate, left out 15': what became of each file, in the
        manifest's own words."""
        counts = sorted(Counter(job.export_entries.values_list("action", flat=True)).items())
        return "; ".join(f"{ExportEntry.Action(action).label.lower()} {n}" for action, n in counts)

    def _undo(self, job_id: int) -> None:
        job = Job.objects.filter(id=job_id, kind=Job.Kind.EXPORT).first()
        if job is None:
            raise CommandError(f"No export {job_id}.")
        try:
            report = undo_export(job=job)
        except ExportRefused as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"removed {len(report.removed)} files")
        for kept in report.kept:
            self.stdout.write(f"kept {kept['destination']}: {kept['reason']}")
