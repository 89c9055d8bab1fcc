"""A cluster killed at any instant, a file that takes its worker down, a disk that fills up: every
job still ends with each file's result written exactly once, and the counts true."""

import errno
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from jobs.models import ClusterProcess, File, Job, TaskLease
from jobs.pipeline.video import probe_video
from jobs.services.control import jobs_with_queued_batches, recover_stalled_jobs, retry_failed_files
from jobs.services.imports import create_path_job
from jobs.services.processing import Results, _claim, analyse_file, process_batch, start_job
from tests.conftest import wait_for
from tests.importing import queue_path_job

FINISHED = [File.Status.DONE, File.Status.FAILED]


def thumbnails_on_disk(job: Job) -> list[str]:
    folder = Path(settings.MEDIA_ROOT) / "thumbnails" / str(job.id)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def assert_every_file_counted_once(job: Job) -> None:
    job.refresh_from_db()
    files = list(job.files.all())
    assert job.status == Job.Status.COMPLETED
    assert {f.status for f in files} <= set(FINISHED)
    assert job.progress_current == job.progress_total == len(files)
    assert job.error_count == sum(f.status == File.Status.FAILED for f in files)
    # One thumbnail per file that has one, under the file's own name: none written beside another.
    assert thumbnails_on_disk(job) == sorted(Path(f.thumbnail.name).name for f in files if f.thumbnail)
    assert job.id not in jobs_with_queued_batches()  # every batch ran and left the queue


@pytest.fixture
def big_folder(corpus, tmp_path):
    """Three copies of forty-odd real photos and videos: long enough to be killed in the middle."""
    root = tmp_path / "photos"
    for copy in ("a", "b", "c"):
        for source in ("digicam", "elodie"):
            shutil.copytree(corpus / source, root / copy / source)
    return root


# The queue would hand a killed cluster's tasks out again only after `retry`, ten minutes here:
# whatever comes back sooner came back through the leases (jobs/services/liveness.py). The time
# limit leaves a batch of 12-MP HEICs room on a loaded machine: no batch here may time out.
NO_RETRY_IN_TIME = {"MEDIAIMPORT_TASK_TIMEOUT": 300, "MEDIAIMPORT_TASK_RETRY": 600}


def handed_out_again(log: str) -> set[int]:
    """The queued tasks a cluster's log says it handed out again."""
    return {int(task) for task in re.findall(r"Queued task (\d+) was in the hands of", log)}


def held_by(cluster_id: int | None = None) -> dict[int, str]:
    """The queued tasks leased (to this cluster), with the batch token of each."""
    leases = TaskLease.objects.all() if cluster_id is None else TaskLease.objects.filter(cluster_id=cluster_id)
    tasks = OrmQ.objects.filter(id__in=leases.values("task"))
    return {row.id: row.task["args"][3] for row in tasks}


@pytest.mark.cluster
def test_a_cluster_killed_mid_job_has_its_batches_handed_out_again_as_the_next_one_starts(
    big_folder, manifest, cluster, cluster_env, capsys
):
    job = queue_path_job(big_folder, cluster_env)
    timing = {**NO_RETRY_IN_TIME, "MEDIAIMPORT_BATCH_SIZE": 2}

    first = cluster(**timing)
    wait_for(lambda: Job.objects.get(id=job.id).progress_current >= 15, timeout=60, message="some files done")
    first.kill()

    at_kill = {f.id: f for f in job.files.all()}
    done_at_kill = {i: f.processed_at for i, f in at_kill.items() if f.status in FINISHED}
    in_flight = {i for i, f in at_kill.items() if f.status == File.Status.PROCESSING}
    held = held_by()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and 0 < len(done_at_kill) < job.progress_total, "killed too late"
    assert job.progress_current == len(done_at_kill)
    assert in_flight and {f.claimed_by for i, f in at_kill.items() if i in in_flight} <= set(held.values())
    # Locked for `retry` by the dead cluster, as django-q2 left them.
    assert OrmQ.objects.filter(id__in=held, lock__gt=timezone.now() + timedelta(minutes=5)).count() == len(held)

    started = time.monotonic()
    second = cluster(**timing)
    wait_for(lambda: Job.objects.get(id=job.id).progress_current > len(done_at_kill), timeout=60, message="progress")
    resumed = time.monotonic() - started
    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=180, message="the job to finish after restart")
    # Tasks the killed cluster had finished but not yet acknowledged come back too: they must
    # find nothing to do.
    wait_for(lambda: not OrmQ.objects.exists(), timeout=60, message="the queue to empty")
    second.stop()

    log = second.output()
    # Handed out again as the second cluster started, before it ran: every task the dead one held.
    assert handed_out_again(log) == set(held)
    assert log.index("was in the hands of") < log.index("running.")
    assert_every_file_counted_once(job)
    files = {f.id: f for f in job.files.all()}
    assert {i: files[i].processed_at for i in done_at_kill} == done_at_kill  # not done again
    for file in files.values():
        # A file the killed cluster had in hand is started once more; every other file only once.
        assert file.attempts == (2 if file.id in in_flight else 1), (file.original_name, file.attempts)
    # Only the files that cannot be decoded failed (the corpus's elodie/photo.heic), none by the kill.
    failed = {f.original_name for f in files.values() if f.status == File.Status.FAILED}
    assert failed == {
        Path(path).name for path, row in manifest.items() if path.startswith(("digicam/", "elodie/")) and row["decodes"] == "no"
    }
    with capsys.disabled():
        print(f"\nafter a kill -9 of the cluster: progress again {resumed:.1f} s after the next one was started")


@pytest.mark.cluster
def test_a_worker_killed_inside_a_live_cluster_has_its_batch_taken_up_by_that_cluster(
    big_folder, cluster, cluster_env, capsys
):
    job = queue_path_job(big_folder, cluster_env)
    running = cluster(**NO_RETRY_IN_TIME, MEDIAIMPORT_BATCH_SIZE=10)
    lease = wait_for(
        lambda: TaskLease.objects.filter(worker_pid__isnull=False).first(), timeout=60, message="a worker at a batch"
    )
    token = held_by()[lease.task]
    wait_for(lambda: job.files.filter(claimed_by=token).exists(), timeout=30, message="the batch at its files")

    os.kill(lease.worker_pid, signal.SIGKILL)
    killed = time.monotonic()
    # Taken up: the batch runs in another worker (or has already finished there).
    wait_for(
        lambda: not OrmQ.objects.filter(id=lease.task).exists()
        or TaskLease.objects.filter(task=lease.task, worker_pid__isnull=False).exclude(worker_pid=lease.worker_pid).exists(),
        timeout=60,
        message="the dead worker's batch to run again",
    )
    taken_up = time.monotonic() - killed
    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=180, message="the job to finish")
    running.stop()

    log = running.output()
    assert "reincarnated worker" in log and handed_out_again(log) == {lease.task}
    assert_every_file_counted_once(job)
    # The file the worker died on is started once more under the same token; no other file is.
    assert {f.attempts for f in job.files.exclude(claimed_by=token)} == {1}
    assert max(f.attempts for f in job.files.filter(claimed_by=token)) == 2
    with capsys.disabled():
        print(f"\nafter a kill -9 of one worker: its batch running again {taken_up:.1f} s later")


@pytest.mark.cluster
def test_of_two_clusters_sharing_the_queue_the_live_one_takes_up_only_the_dead_ones_batches(
    big_folder, cluster, cluster_env
):
    """Two clusters as on two machines sharing one database (make test-postgres runs it on
    PostgreSQL): one is killed; the other hands out again what the dead one held, and nothing of
    its own."""
    job = queue_path_job(big_folder, cluster_env)
    timing = {**NO_RETRY_IN_TIME, "MEDIAIMPORT_WORKERS": 1, "MEDIAIMPORT_BATCH_SIZE": 3}
    doomed, survivor = cluster(**timing), cluster(**timing)

    def both_at_work():
        working = set(TaskLease.objects.filter(worker_pid__isnull=False).values_list("cluster__pid", flat=True))
        return working >= {doomed.process.pid, survivor.process.pid}

    wait_for(both_at_work, timeout=90, message="both clusters at a batch")
    doomed_id = ClusterProcess.objects.get(pid=doomed.process.pid).id
    doomed.kill()
    held = held_by(doomed_id)
    survivors = held_by(ClusterProcess.objects.get(pid=survivor.process.pid).id)
    in_flight = {f.id for f in job.files.filter(status=File.Status.PROCESSING, claimed_by__in=held.values())}

    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=240, message="the job to finish")
    survivor.stop()

    released = handed_out_again(survivor.output())
    assert released == set(held) and not released & set(survivors)
    assert_every_file_counted_once(job)
    for file in job.files.all():
        assert file.attempts == (2 if file.id in in_flight else 1), (file.original_name, file.attempts)


@pytest.mark.cluster
def test_a_file_that_takes_its_worker_down_ends_as_an_error_and_the_job_completes(copy_media, cluster, cluster_env):
    folder = copy_media("elodie/plain.jpg", "elodie/no-exif.jpg", "elodie/with-location.jpg", "elodie/photo.png")
    copy_media("elodie/plain.jpg", rename="stuck.jpg")
    job = queue_path_job(folder, cluster_env)
    # The read of stuck.jpg never returns, as on a network share that went away: a named pipe
    # put in its place after the scan gives exactly that, every time. (Scans skip named pipes.)
    stuck = folder / "stuck.jpg"
    stuck.unlink()
    os.mkfifo(stuck)

    # Each attempt ends at the task's time limit: django-q2 stops the task and replaces its worker.
    running = cluster(MEDIAIMPORT_TASK_TIMEOUT=3, MEDIAIMPORT_TASK_RETRY=4, MEDIAIMPORT_BATCH_SIZE=1)
    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=60, message="the job to finish")
    running.stop()

    assert_every_file_counted_once(job)
    poison = job.files.get(original_name="stuck.jpg")
    limit = 3  # MEDIAIMPORT_MAX_FILE_ATTEMPTS
    assert poison.status == File.Status.FAILED
    assert poison.attempts == limit + 1
    assert poison.error.startswith(f"Processing this file crashed the worker {limit} times")
    others = job.files.exclude(id=poison.id)
    assert [f.status for f in others] == [File.Status.DONE] * 4
    assert "reincarnated worker" in running.output()


@pytest.mark.cluster
def test_a_job_left_running_without_a_task_is_picked_up_when_the_cluster_starts(copy_media, cluster, cluster_env):
    folder = copy_media("elodie/plain.jpg", "elodie/no-exif.jpg", "elodie/with-location.jpg")
    job = queue_path_job(folder, cluster_env)
    # A cluster died after taking the job: the job says running, one file was in the hands of a
    # batch that is gone, and the queue lost the tasks (as a database restored from a backup would).
    OrmQ.objects.all().delete()
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING)
    lost = job.files.first()
    File.objects.filter(id=lost.id).update(
        status=File.Status.PROCESSING, attempts=1, claimed_by="gone", claimed_at=timezone.now() - timedelta(hours=1)
    )
    # Only start-up may do it: the every-minute recovery is off, and would wait a quiet minute.
    Schedule.objects.all().delete()

    running = cluster()
    wait_for(lambda: Job.objects.get(id=job.id).is_finished, timeout=45, message="the job to finish")
    running.stop()

    assert_every_file_counted_once(job)
    assert [f.status for f in job.files.all()] == [File.Status.DONE] * 3
    assert f"Job {job.id} had no queued work" in running.output()


@pytest.mark.django_db
def test_a_batch_that_lost_its_file_to_another_does_not_write_or_count_it_again(copy_media):
    folder = copy_media("elodie/plain.jpg")
    job = create_path_job(path=folder, enqueue=False)
    file = job.files.get()
    # Batch "slow" has the file in hand, its result not yet written, when its claim goes stale
    # and batch "fresh" takes the file over and finishes it.
    start_job(job.id)
    slow = Results(job.id, "slow")
    assert _claim(file, "slow")
    slow.add(file, analysis=analyse_file(file))
    File.objects.filter(id=file.id).update(claimed_at=timezone.now() - timedelta(hours=1))
    process_batch(job_id=job.id, first_id=file.id, last_id=file.id, token="fresh")
    finished = File.objects.get(id=file.id)

    slow.flush()

    assert File.objects.get(id=file.id).processed_at == finished.processed_at
    assert_every_file_counted_once(job)
    assert finished.attempts == 2


def test_a_video_probe_leaves_the_tasks_own_time_limit_running(copy_media):
    """django-q2 limits a task with the process's one alarm clock, which the probe borrows."""
    video = copy_media("elodie/video.mov", single=True)
    rang = []
    previous = signal.signal(signal.SIGALRM, lambda *_: rang.append(True))
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        probe_video(video)
        left = signal.getitimer(signal.ITIMER_REAL)[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 90 < left <= 100
    assert not rang


# --- disk full ----------------------------------------------------------------------------------


@pytest.fixture
def full_disk(data_dir):
    """The storage's folder on a tiny file system of its own, filled to the last byte."""
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(data_dir)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"a disk-full test needs to mount a tmpfs (run as root): {mounted.stderr.decode().strip()}")
    filler = data_dir / "filler"
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError as e:
        assert e.errno == errno.ENOSPC
    yield filler
    subprocess.run(["umount", "-l", str(data_dir)], check=True)


@pytest.mark.django_db
def test_a_full_disk_fails_files_with_a_clear_error_and_a_retry_finishes_them(copy_media, full_disk):
    folder = copy_media("elodie/plain.jpg", "elodie/no-exif.jpg", "elodie/video.mov")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    call_command("import_path", str(folder), "--sync", verbosity=0, stdout=open(os.devnull, "w"))

    job = Job.objects.get()
    files = list(job.files.all())
    assert job.status == Job.Status.COMPLETED and job.error_count == 3
    for file in files:
        assert file.status == File.Status.FAILED
        assert file.error.startswith("Disk full: the thumbnail could not be stored.")
        assert not file.thumbnail
        assert len(file.sha256) == 64  # what could be learned is kept
    assert thumbnails_on_disk(job) == []  # no half-written picture left behind
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

    full_disk.unlink()
    assert retry_failed_files(job=job) == 3
    ids = [f.id for f in files]
    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token=uuid.uuid4().hex[:12])

    assert_every_file_counted_once(job)
    assert job.error_count == 0
    assert len(thumbnails_on_disk(job)) == 3


@pytest.mark.django_db
def test_recovery_leaves_a_quiet_job_alone_while_its_batches_wait_on_the_queue(
    copy_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = create_path_job(path=copy_media("elodie/plain.jpg", "elodie/no-exif.jpg"))
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(hours=1))  # long quiet
    queued = OrmQ.objects.count()

    assert jobs_with_queued_batches() == {job.id}
    assert recover_stalled_jobs() == [] and OrmQ.objects.count() == queued  # nothing queued twice
