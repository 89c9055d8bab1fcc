"""The job queue through a real `manage.py qcluster` on a file-backed SQLite database."""

import hashlib
import re
import shutil

import pytest

from jobs.models import File, Job
from tests.conftest import manage, wait_for

pytestmark = pytest.mark.cluster


@pytest.fixture
def folder(corpus, tmp_path):
    """Forty-odd real photos and videos, several batches' worth."""
    root = tmp_path / "photos"
    shutil.copytree(corpus / "digicam", root / "digicam")
    shutil.copytree(corpus / "elodie", root / "elodie")
    return root


def test_no_wait_job_is_processed_by_a_cluster(folder, cluster, cluster_env):
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}

    queued = manage("import_path", str(folder), "--no-wait", env=cluster_env, timeout=60)

    assert queued.returncode == 0, queued.stderr
    job_id = int(re.fullmatch(r"job (\d+)", queued.stdout.splitlines()[0]).group(1))
    job = Job.objects.get(id=job_id)
    assert job.status == Job.Status.PENDING and job.progress_total > 20  # nothing ran it yet

    running = cluster(MEDIAIMPORT_BATCH_SIZE=5)
    wait_for(lambda: Job.objects.get(id=job_id).is_finished, timeout=120, message="the job to finish")
    running.stop()

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, running.output()
    assert job.progress_current == job.progress_total
    assert not job.files.exclude(status__in=[File.Status.DONE, File.Status.FAILED]).exists()
    assert all(f.attempts == 1 for f in job.files.all())  # each file processed exactly once
    assert "has stopped" in running.output()
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()} == before


def test_import_path_follows_the_cluster_and_exits_zero(folder, cluster, cluster_env):
    cluster()
    result = manage("import_path", str(folder / "elodie"), env=cluster_env, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("job ")
    assert "completed: 8 of 8 files" in result.stdout
    assert "file" in result.stderr  # the progress bar
