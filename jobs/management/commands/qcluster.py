"""manage.py qcluster: django-q2's cluster, on the roll of running clusters (jobs.services.liveness).

Before it forks its processes it hands out again the tasks a killed cluster left behind, queues
again the jobs left without any task, and warms up the pipeline; while it runs it beats and hands
out the tasks of clusters and workers that died; Ctrl-C (or SIGTERM) ends its batches at the next
file, puts what they had left back on the queue, and stops within STOP_SECONDS."""

import logging
import os
import signal
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django_q.cluster import Cluster
from django_q.management.commands import qcluster

from jobs.services import liveness
from jobs.services.control import recover_stalled_jobs
from jobs.services.processing import warm_up_pipeline

log = logging.getLogger(__name__)

# How long a stop waits for the workers to finish the file in hand before it kills them (the file
# is then taken up again by the next cluster). A second Ctrl-C kills them at once.
STOP_SECONDS = 6
SAME_STOP_SECONDS = 1


class Command(qcluster.Command):
    help = "Starts the cluster that processes import jobs, after handing out again any work a stopped or killed cluster left."

    def handle(self, *args, cluster_name=None, run_once=False, **options):
        settings.SECRET_KEY  # noqa: B018  (as django-q2's command: the tasks are signed with it)
        if cluster_name:
            os.environ["Q_CLUSTER_NAME"] = cluster_name
        self.cluster = None
        self.stop_asked = None
        self.deadline = None
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, self.stop)
        liveness.register()
        try:
            # A cluster killed a moment ago (kill -9, power cut) is gone now: its tasks are handed
            # out again before this one starts, instead of after Q_CLUSTER["retry"].
            liveness.release_abandoned()
            # A running or pending job with no task on the queue at all lost it with a cluster
            # that died (or a web process that died before queueing).
            recover_stalled_jobs(quiet_seconds=0)
            warm_up_pipeline()
            # The sentinel and its workers are forked from here: none may share this connection.
            connections.close_all()
            self.cluster = Cluster()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stop_signal, self.stop)  # in place of the handlers Cluster() set
            self.cluster.start()
            if run_once:
                self.cluster.stop()
            self.keep_watch()
        except KeyboardInterrupt:
            pass  # stopped while starting: nothing runs yet, nothing to say
        finally:
            if self.cluster and self.cluster.sentinel:
                self.cluster.sentinel.join()
            if self.deadline:
                self.deadline.cancel()
            liveness.release_own()

    def keep_watch(self):
        """Beat and hand out abandoned tasks every BEAT_SECONDS until the cluster has stopped;
        stop it once asked. (Here, not in the signal handler: the handler may have interrupted
        a transaction, whose write lock SQLite's other writers would wait for.)"""
        next_beat = 0
        while self.cluster.sentinel.is_alive():
            if self.stop_asked is not None:
                self.cluster.stop()  # returns once the sentinel has stopped its processes
                break
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + liveness.BEAT_SECONDS
                try:
                    liveness.beat()
                    liveness.release_abandoned()
                except DatabaseError as e:  # the database out of reach for a moment: beat again
                    log.warning("Could not beat: %s", e)
                    connections.close_all()
            time.sleep(0.1)

    def stop(self, signum, frame):
        now = time.monotonic()
        if self.stop_asked is not None:
            # Asked again, by a person: no more waiting. (Ctrl-C under `make run` brings SIGINT
            # from the terminal and SIGTERM from the recipe together: one stop.)
            if now - self.stop_asked > SAME_STOP_SECONDS:
                liveness.kill_below(os.getpid())
            return
        self.stop_asked = now
        if self.cluster is None or self.cluster.sentinel is None:
            raise KeyboardInterrupt  # still starting: nothing to stop but this process
        liveness.stop_workers()
        self.deadline = threading.Timer(STOP_SECONDS, liveness.kill_below, [os.getpid()])
        self.deadline.daemon = True
        self.deadline.start()
