"""Which leased tasks are handed out again: those of a cluster or worker that is gone, never those
of a live one, and never a hand-out that another cluster has taken since. (The same with real,
killed processes: tests/test_crash_safety.py.)"""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from jobs.models import ClusterProcess, TaskLease
from jobs.services import liveness

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_pid():
    """A pid that ran a moment ago and runs no more."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def cluster_row(*, machine=None, pid=None, started=None, seen_ago=0) -> ClusterProcess:
    pid = pid or os.getpid()
    return ClusterProcess.objects.create(
        machine=machine or liveness.this_machine(),
        pid=pid,
        process_started=liveness.process_started(pid) if started is None else started,
        seen_at=timezone.now() - timedelta(seconds=seen_ago),
    )


def leased(cluster: ClusterProcess, *, worker_pid=None) -> TaskLease:
    """A task on the queue, taken by `cluster` (locked for ten minutes, as `retry` would)."""
    lock = timezone.now() + timedelta(minutes=10)
    task = OrmQ.objects.create(key="mediaimport", payload="task", lock=lock)
    worker = {} if worker_pid is None else {"worker_pid": worker_pid, "worker_started": liveness.process_started(worker_pid)}
    return TaskLease.objects.create(task=task.id, lock=lock, cluster=cluster, **worker)


def handed_out(lease: TaskLease) -> bool:
    return OrmQ.objects.get(id=lease.task).lock < timezone.now()


def test_a_live_clusters_tasks_stay_with_it_on_this_machine_and_on_another():
    here = leased(cluster_row(), worker_pid=os.getpid())
    waiting = leased(cluster_row())
    elsewhere = leased(cluster_row(machine="other-host/boot/pid:[1]", pid=1, seen_ago=30))

    assert liveness.release_abandoned() == 0

    assert not any(handed_out(lease) for lease in (here, waiting, elsewhere))
    assert TaskLease.objects.count() == 3 and ClusterProcess.objects.count() == 3


def test_a_cluster_whose_process_is_gone_has_its_tasks_handed_out_at_once(dead_pid):
    dead = cluster_row(pid=dead_pid, started=12345)
    lease = leased(dead)

    assert liveness.release_abandoned() == 1

    assert handed_out(lease)
    assert not TaskLease.objects.exists() and not ClusterProcess.objects.exists()


def test_a_reused_pid_is_not_taken_for_the_cluster_that_had_it():
    # This test process runs under the pid, but it is not the process that registered it.
    lease = leased(cluster_row(started=(liveness.process_started(os.getpid()) or 0) - 1))

    assert liveness.release_abandoned() == 1
    assert handed_out(lease)


def test_a_cluster_on_another_machine_is_gone_only_once_it_has_been_silent_long():
    silent = leased(cluster_row(machine="other-host/boot/pid:[1]", pid=1, seen_ago=liveness.SILENT_SECONDS + 5))

    assert liveness.release_abandoned() == 1
    assert handed_out(silent)


def test_a_dead_workers_task_is_handed_out_while_its_cluster_lives_on(dead_pid):
    live = cluster_row()
    orphan = leased(live, worker_pid=dead_pid)
    busy = leased(live, worker_pid=os.getpid())

    assert liveness.release_abandoned() == 1

    assert handed_out(orphan) and not handed_out(busy)
    assert list(TaskLease.objects.values_list("task", flat=True)) == [busy.task]
    assert ClusterProcess.objects.filter(id=live.id).exists()


def test_a_task_another_cluster_has_taken_since_is_left_to_it(dead_pid):
    lease = leased(cluster_row(pid=dead_pid, started=12345))
    # After `retry`, the queue handed the task to a live cluster: a new lock, not the lease's.
    taken_again = timezone.now() + timedelta(minutes=11)
    OrmQ.objects.filter(id=lease.task).update(lock=taken_again)

    assert liveness.release_abandoned() == 0
    assert OrmQ.objects.get(id=lease.task).lock == taken_again


def test_the_pid_namespace_and_boot_are_part_of_the_machine():
    machine = liveness.this_machine()
    assert machine.startswith(f"{os.uname().nodename}/")
    assert liveness.process_started(os.getpid()) == liveness.process_started(os.getpid()) is not None
