"""`make run` as a person uses it: started in a terminal, stopped with Ctrl-C in the middle of an
import. Everything stops within ten seconds, quietly, and the import is left ready to go on."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.models import OrmQ

from jobs.models import ClusterProcess, File, Job, TaskLease
from tests.conftest import ROOT, Api, wait_for
from tests.importing import queue_path_job

pytestmark = pytest.mark.cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_in_group(group: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) == group:
                found.append(open(f"/proc/{entry}/cmdline").read().replace("\0", " "))
        except (ProcessLookupError, FileNotFoundError):
            continue
    return found


def slow_upload(port: int, user) -> None:
    """An upload of a few megabytes at 20 KB/s, as from a phone far from the router."""
    api = Api(user)
    session = api.client.cookies[settings.SESSION_COOKIE_NAME].value
    boundary = "slow"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={api.token}\r\n"
            f"X-CSRFToken: {api.token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: 5000000\r\n\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="files"; filename="big.jpg"\r\n\r\n'.encode()
        )
        try:
            while True:
                conn.sendall(b"\xff" * 2000)
                time.sleep(0.1)
        except OSError:
            return  # the server went away


def test_ctrl_c_stops_the_server_and_the_cluster_mid_import_within_ten_seconds_quietly(
    corpus, tmp_path, cluster_env, alice, capsys
):
    folder = tmp_path / "photos"
    # 264 camera photos: more than two workers finish in the seconds the server takes to come up
    # and the stop to be pressed, on a quiet machine too.
    for copy in "abcdefgh":
        shutil.copytree(corpus / "digicam", folder / copy)
    # Batches of ten camera photos: each worker has one in hand and more wait in its cluster's
    # prefetch, which a stop used to work through before it ended.
    env = {**cluster_env, "MEDIAIMPORT_BATCH_SIZE": "10"}
    job = queue_path_job(folder, env)
    port = free_port()
    # The recipe as it is, on this test's database and data folder, without the set-up steps
    # (the test database is already migrated; .venv is this interpreter's).
    run = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "setup", "run", f"VENV={sys.prefix}", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal gives a foreground job
    )
    try:
        wait_for(lambda: Job.objects.get(id=job.id).progress_current >= 2, timeout=90, message="the import under way")
        # A browser's idle keep-alive connection, and an upload going up slowly, as the server
        # is stopped.
        idle = wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1), timeout=30, message="the server")
        uploading = threading.Thread(target=slow_upload, args=(port, alice), daemon=True)
        uploading.start()
        time.sleep(1)

        pressed = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = run.communicate(timeout=30)
        stopped = time.monotonic() - pressed
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    idle.close()

    assert processes_in_group(run.pid) == []
    assert stopped < 10, output
    assert "Traceback" not in output and "SIGKILL" not in output and "Error" not in output, output
    assert "Q Cluster" in output and "has stopped" in output
    # The import is ready to go on: nothing is held by the stopped cluster, every unfinished file
    # is on the queue for whichever cluster starts next.
    assert list(Job.objects.all()) == [job]  # the upload cut off by the stop stored nothing
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.progress_current < job.progress_total, "stopped too late"
    assert not TaskLease.objects.exists() and not ClusterProcess.objects.exists()
    assert not OrmQ.objects.filter(lock__gt=timezone.now()).exists()
    queued = [row.task["args"] for row in OrmQ.objects.all()]
    for file in job.files.exclude(status__in=[File.Status.DONE, File.Status.FAILED]):
        assert any(first <= file.id <= last for _, first, last, _ in queued), file.original_name
    with capsys.disabled():
        print(f"\nmake run stopped {stopped:.1f} s after Ctrl-C, mid-import")
