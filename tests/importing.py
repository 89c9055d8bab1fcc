"""Importing a folder the way an operator does, for tests of what follows an import."""

import io
import re
from pathlib import Path
from unittest.mock import patch

from django.core.management import call_command
from django.test import TestCase
from django_q.conf import Conf

from jobs.models import Job
from tests.conftest import manage


def import_folder(folder: Path, *options: str) -> Job:
    """`import_path --sync [options]`, with the queue run in this process, so that the duplicate
    regrouping queued when the job completes runs too, as a cluster would run it."""
    out = io.StringIO()
    with patch.object(Conf, "SYNC", True), TestCase.captureOnCommitCallbacks(execute=True):
        call_command("import_path", str(folder), "--sync", *options, stdout=out, verbosity=0)
    return Job.objects.get(id=int(out.getvalue().split()[1]))


def queue_path_job(folder: Path, env: dict[str, str]) -> Job:
    """`import_path --no-wait`: the job and its batches are on the queue, nothing has run."""
    queued = manage("import_path", str(folder), "--no-wait", env=env, timeout=60)
    assert queued.returncode == 0, queued.stderr
    return Job.objects.get(id=int(re.fullmatch(r"job (\d+)", queued.stdout.splitlines()[0]).group(1)))
