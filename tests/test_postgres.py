"""Scale-out on PostgreSQL: several `qcluster` processes, as on several machines, share one job
through the database broker. Run by `make test-postgres`, which starts a throwaway server."""

import re
import time

import pytest
from django.db import connection
from django.db.models import Max, Min

from jobs.models import File, Job
from tests.conftest import manage, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

PHOTOS = 80
TWELVE_MEGAPIXEL_JPEGS = ["digicam/Apple/iPhone XR/IMG_3580.JPG", "digicam/Apple/iPhone 13 Pro/IMG_8568.JPG"]


@pytest.fixture(autouse=True)
def postgres(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: `make test-postgres` runs this against a throwaway server")


@pytest.fixture
def photos(corpus, tmp_path):
    """Byte-distinct copies of 12-MP camera photos (a few bytes after the JPEG end marker)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    originals = [(corpus / name).read_bytes() for name in TWELVE_MEGAPIXEL_JPEGS]
    for n in range(PHOTOS):
        (folder / f"IMG_{n:04d}.JPG").write_bytes(originals[n % len(originals)] + f"copy {n}".encode())
    return folder


def import_with_clusters(count, folder, cluster, cluster_env) -> tuple[Job, float, list[str]]:
    """Start `count` clusters of one worker each, import the folder and wait for the command to
    exit; the job, the seconds it took, and each cluster's log."""
    env = {**cluster_env, "MEDIAIMPORT_WORKERS": "1", "MEDIAIMPORT_BATCH_SIZE": "4"}
    clusters = [cluster(**env) for _ in range(count)]
    for c in clusters:
        wait_for(lambda: "running." in c.output(), timeout=60, message="the cluster to start")
    started = time.monotonic()
    result = manage("import_path", str(folder), env=env, timeout=300)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    for c in clusters:
        c.stop()
    job = Job.objects.get(id=int(re.match(r"job (\d+)", result.stdout).group(1)))
    return job, seconds, [c.output() for c in clusters]


def assert_every_file_done_once(job):
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    assert job.progress_current == job.progress_total == PHOTOS
    assert job.error_count == 0
    assert job.files.filter(status=File.Status.DONE).count() == PHOTOS
    assert set(job.files.values_list("attempts", flat=True)) == {1}
    assert job.files.values("sha256").distinct().count() == PHOTOS


def test_two_clusters_share_one_job_and_do_every_file_once(photos, cluster, cluster_env, capsys):
    alone, alone_seconds, _ = import_with_clusters(1, photos, cluster, cluster_env)
    shared, shared_seconds, logs = import_with_clusters(2, photos, cluster, cluster_env)

    assert_every_file_done_once(alone)
    assert_every_file_done_once(shared)
    # Both clusters took batches of the shared job.
    for log in logs:
        assert re.search(rf"processing job {shared.id} files", log)
    alone_processing, shared_processing = processing_seconds(alone), processing_seconds(shared)
    with capsys.disabled():
        print(
            f"\n{PHOTOS} 12-MP photos on PostgreSQL, one cluster / two clusters:"
            f" import_path {alone_seconds:.1f} s / {shared_seconds:.1f} s ({alone_seconds / shared_seconds:.2f}x),"
            f" processing {alone_processing:.1f} s / {shared_processing:.1f} s ({alone_processing / shared_processing:.2f}x)"
        )


def processing_seconds(job) -> float:
    """From the first file claimed to the last result: the clusters' share of the import."""
    span = job.files.aggregate(first=Min("claimed_at"), last=Max("processed_at"))
    return (span["last"] - span["first"]).total_seconds()
