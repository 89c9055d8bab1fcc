"""Job control through the API while a real `manage.py qcluster` works on the job: a pause holds, a
resume finishes with every file processed exactly once, a cancel keeps what was done."""

import os
import time

import pytest

from jobs.models import File, Job
from tests.conftest import Api, wait_for

pytestmark = pytest.mark.cluster

PHOTO = "digicam/Apple/iPhone XR/IMG_3580.JPG"
COPIES = 200
# How long a stopped job is watched for progress it should not make.
HOLD_SECONDS = 2


@pytest.fixture
def folder(corpus, tmp_path, settings):
    """An import root with a folder of COPIES photos under different names: one copy of a corpus
    JPEG, hard-linked so that the folder costs no disk."""
    root = tmp_path / "root"
    photos = root / "photos"
    photos.mkdir(parents=True)
    first = photos / "IMG_0000.JPG"
    first.write_bytes((corpus / PHOTO).read_bytes())
    for i in range(1, COPIES):
        os.link(first, photos / f"IMG_{i:04}.JPG")
    settings.MEDIAIMPORT_IMPORT_ROOTS = [root]
    settings.MEDIAIMPORT_BATCH_SIZE = 5
    return photos


def import_folder(api: Api, folder) -> Job:
    response = api.post("/api/import-path", {"path": str(folder)})
    assert response.status_code == 201, response.content
    assert response.json()["file_count"] == COPIES
    return Job.objects.get(id=response.json()["job_id"])


def settled(job: Job) -> dict:
    """The job's progress once no file is being processed any more (the workers reached a file
    boundary)."""
    wait_for(lambda: not job.files.filter(status=File.Status.PROCESSING).exists(), timeout=30, message="workers to stop")
    job.refresh_from_db()
    return {
        "progress": job.progress_current,
        "done": job.files.filter(status=File.Status.DONE).count(),
        "pending": job.files.filter(status=File.Status.PENDING).count(),
    }


def control(api: Api, job: Job, action: str):
    return api.post(f"/api/jobs/{job.id}/control", {"action": action})


def test_pause_holds_resume_finishes_cancel_keeps_what_was_done(alice, folder, cluster):
    api = Api(alice)
    cluster(MEDIAIMPORT_WORKERS=1)
    job = import_folder(api, folder)
    wait_for(lambda: Job.objects.get(id=job.id).progress_current > 0, timeout=60, message="the job to start")

    paused = control(api, job, "pause")

    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert paused.json()["allowed_actions"] == ["resume", "cancel"]
    before = settled(job)
    assert 0 < before["done"] == before["progress"] < COPIES
    time.sleep(HOLD_SECONDS)
    assert settled(job) == before  # a paused job makes no progress
    assert control(api, job, "pause").status_code == 400

    resumed = control(api, job, "resume")

    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=90, message="the resumed job to finish")
    job.refresh_from_db()
    answer = api.get(f"/api/jobs/{job.id}").json()
    assert answer["status"] == "completed" and answer["progress_percent"] == 100
    assert answer["progress_current"] == answer["progress_total"] == COPIES and answer["error_count"] == 0
    assert job.files.filter(status=File.Status.DONE).count() == COPIES
    assert set(job.files.values_list("attempts", flat=True)) == {1}  # no file processed twice
    assert control(api, job, "resume").status_code == 400

    # A second job, cancelled half-way, keeps the files it had done and does no more.
    second = import_folder(api, folder)
    wait_for(lambda: Job.objects.get(id=second.id).progress_current > 0, timeout=60, message="the second job to start")

    cancelled = control(api, second, "cancel")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["completed_at"] is not None
    kept = settled(second)
    assert 0 < kept["done"] == kept["progress"] and kept["pending"] == COPIES - kept["done"]
    time.sleep(HOLD_SECONDS)
    assert settled(second) == kept
    assert not second.files.filter(status=File.Status.DONE, sha256="").exists()
    assert set(second.files.filter(status=File.Status.DONE).values_list("attempts", flat=True)) == {1}
    refused = control(api, second, "resume")
    assert refused.status_code == 400 and refused.json()["allowed_actions"] == []
