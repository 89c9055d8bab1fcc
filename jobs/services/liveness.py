"""Who holds the queue's tasks, and handing out again at once the tasks of a cluster or a worker
that is gone.

django-q2's ORM broker locks a task for `retry` seconds (the task time limit plus a minute) when a
cluster takes it, and hands it out again only then: a cluster killed mid-job (a power cut, the OOM
killer, `kill -9`) left its job standing still for eleven minutes, and so did a worker that died
inside a live cluster. Instead, each `qcluster` records itself (ClusterProcess: its machine, pid
and the pid's start time) and beats every BEAT_SECONDS, and every task its pusher takes is leased
to it (TaskLease), naming the worker once one runs it. A lease whose cluster or worker is gone has
its task's lock released, and the next poll of any cluster takes the task.

Gone means, for a cluster on this machine, that its process no longer runs: known at once, so a
restarted cluster hands out its predecessor's tasks as it starts. For a cluster on another machine
sharing the database, it means no heartbeat for SILENT_SECONDS. A worker's pid is only ever checked
on its own machine. A lease is released with the hand-out it was made for (the lock the broker set
then), so a task that another, live cluster has taken since is never touched.

Nothing here knows what a task does: an import's batches, an export's, the duplicate regrouping all
come back as they would after `retry`, only sooner; the tasks themselves make a second run harmless
(claims with batch tokens, jobs.services.processing)."""

import logging
import multiprocessing
import os
import signal
import socket
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.models import OrmQ
from django_q.signals import post_execute_in_worker, pre_execute

from jobs.models import ClusterProcess, TaskLease

log = logging.getLogger(__name__)

# How often a cluster beats and looks for abandoned tasks: also how long a dead worker's batch
# waits, at most, before it is handed out again.
BEAT_SECONDS = 2.0
# A cluster on another machine is taken for dead after this long without a heartbeat. Long enough
# that a busy database or a short network cut does not take a live cluster's tasks away.
SILENT_SECONDS = 60

PROC = Path("/proc")

# The cluster of this process and the event that tells its workers it is stopping: set by
# register() in qcluster before it forks, and inherited by its sentinel, pusher, monitor and workers.
_cluster_id: int | None = None
_stopping = None


# --- the processes ------------------------------------------------------------------------------


@cache
def this_machine() -> str:
    """Where a pid means one process: the host, its boot and the pid namespace (two containers on
    one kernel are two machines)."""
    parts = [socket.gethostname()]
    for read in (lambda: (PROC / "sys/kernel/random/boot_id").read_text().strip(), lambda: os.readlink("/proc/self/ns/pid")):
        try:
            parts.append(read())
        except OSError:
            pass
    return "/".join(parts)[:200]


def process_started(pid: int) -> int | None:
    """When the process `pid` started (the kernel's clock ticks since boot), or None when no such
    process runs (a zombie waiting to be reaped counts as gone). Without /proc, 0 for any process
    that exists: pids are then trusted as they are."""
    if not PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0
    try:
        # The command name (field 2) may hold spaces and parentheses: count from the last ")".
        fields = (PROC / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def is_running(pid: int | None, started: int | None) -> bool:
    """Whether the process that started at `started` still runs as `pid`."""
    return pid is not None and started is not None and process_started(pid) == started


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, children first (Linux; none found without /proc)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.glob("[0-9]*") if PROC.is_dir() else ():
        try:
            parent = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# --- this cluster -------------------------------------------------------------------------------


def register() -> ClusterProcess:
    """Put this process on the roll of running clusters. Call it before the cluster forks: its
    processes lease their tasks in its name."""
    global _cluster_id, _stopping
    pid = os.getpid()
    me = ClusterProcess.objects.create(
        machine=this_machine(), pid=pid, process_started=process_started(pid) or 0, seen_at=timezone.now()
    )
    _cluster_id = me.id
    _stopping = multiprocessing.get_context("fork").Event()
    return me


def beat() -> None:
    """Say this cluster lives."""
    now = timezone.now()
    if ClusterProcess.objects.filter(id=_cluster_id).update(seen_at=now):
        return
    # Taken for dead by another machine (silent too long: the database was out of reach) and its
    # leases released. Back on the roll under the same id, which its workers lease under.
    log.warning("This cluster was taken for dead and its tasks handed out again; it goes on")
    pid = os.getpid()
    ClusterProcess.objects.create(
        id=_cluster_id, machine=this_machine(), pid=pid, process_started=process_started(pid) or 0, seen_at=now
    )


def stop_workers() -> None:
    """Tell this cluster's workers to end their batches at the next file (see stopping())."""
    if _stopping is not None:
        _stopping.set()


def stopping() -> bool:
    """Whether this process's cluster is stopping: a batch then puts its files left back on the
    queue and ends, instead of the stop waiting for every batch taken to finish."""
    return _stopping is not None and _stopping.is_set()


def kill_below(pid: int) -> None:
    """Kill, at once, every process below `pid`: the cluster's processes that did not stop in
    time. Whatever they held is handed out again (release_own)."""
    for child in reversed(descendants(pid)):
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def release_own() -> int:
    """At this cluster's end: the tasks it still holds go back to the queue at once, and it
    leaves the roll. Returns how many tasks."""
    released = sum(_release(lease) for lease in TaskLease.objects.filter(cluster_id=_cluster_id))
    ClusterProcess.objects.filter(id=_cluster_id).delete()
    return released


def any_cluster_running() -> bool:
    """Whether some cluster has beaten lately (for a word to whoever waits for one)."""
    return ClusterProcess.objects.filter(seen_at__gte=timezone.now() - timedelta(seconds=SILENT_SECONDS)).exists()


# --- every cluster's watch ------------------------------------------------------------------------


def release_abandoned() -> int:
    """Hand out again the tasks of clusters that are gone, and of workers on this machine that
    died while their cluster lives on. Returns how many tasks."""
    machine = this_machine()
    silent_since = timezone.now() - timedelta(seconds=SILENT_SECONDS)
    gone = [c.id for c in ClusterProcess.objects.all() if not _alive(c, machine, silent_since)]
    leases = TaskLease.objects.filter(Q(cluster_id__in=gone) | Q(cluster__machine=machine, worker_pid__isnull=False))
    released = 0
    for lease in leases.order_by("id"):
        if lease.cluster_id in gone or not is_running(lease.worker_pid, lease.worker_started):
            released += _release(lease)
    if gone:
        ClusterProcess.objects.filter(id__in=gone).delete()
    return released


def _alive(cluster: ClusterProcess, machine: str, silent_since) -> bool:
    if cluster.machine == machine:
        return is_running(cluster.pid, cluster.process_started)
    return cluster.seen_at >= silent_since


def _release(lease: TaskLease) -> bool:
    with transaction.atomic():
        # The lease and the lock go only as they were: another cluster may have taken the task
        # since (a new hand-out, a new lock), or released this lease first.
        if not TaskLease.objects.filter(id=lease.id, lock=lease.lock).delete()[0]:
            return False
        handed = OrmQ.objects.filter(id=lease.task, lock=lease.lock).update(lock=timezone.now() - timedelta(seconds=1))
    if handed:
        log.warning("Queued task %s was in the hands of a cluster or worker that is gone; handed out again", lease.task)
    return bool(handed)


# --- leasing ----------------------------------------------------------------------------------------


class LeasingBroker(ORM):
    """django-q2's ORM broker (Q_CLUSTER["broker_class"]) that leases the tasks it hands out to
    the cluster it runs in, and ends the lease when the task's result is acknowledged."""

    def timeout(self, task):
        lock = super().timeout(task)
        self._locks[task.pk] = lock  # the hand-out's own lock, for the lease
        return lock

    def dequeue(self):
        self._locks = {}
        taken = super().dequeue()
        if taken and _cluster_id is not None:
            TaskLease.objects.bulk_create(
                [TaskLease(task=pk, lock=self._locks[pk], cluster_id=_cluster_id) for pk, _ in taken],
                update_conflicts=True,
                unique_fields=["task"],
                update_fields=["lock", "cluster", "worker_pid", "worker_started"],
            )
        return taken

    def delete(self, task_id):
        super().delete(task_id)
        TaskLease.objects.filter(task=task_id).delete()


@receiver(pre_execute)
def _lease_to_worker(sender, task, **kwargs):
    pid = os.getpid()
    _set_worker(task, worker_pid=pid, worker_started=process_started(pid))


@receiver(post_execute_in_worker)
def _worker_done(sender, task, **kwargs):
    # Its result is on the way to the monitor: the worker may now end (recycled) without its
    # task being taken for abandoned.
    _set_worker(task, worker_pid=None, worker_started=None)


def _set_worker(task: dict, **worker) -> None:
    if _cluster_id is None or "ack_id" not in task:
        return  # not run by a registered cluster (sync mode, tests)
    try:
        TaskLease.objects.filter(task=task["ack_id"], cluster_id=_cluster_id).update(**worker)
    except DatabaseError:
        # Only the lease is missing: the task runs, and comes back after `retry` if its worker dies.
        log.exception("Could not record the worker of task %s", task["ack_id"])
