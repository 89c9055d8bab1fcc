"""Several laptops uploading at once to a live server while the cluster works on SQLite: every file
lands, and no one meets "database is locked"."""

import hashlib
import http.cookiejar
import io
import json
import logging
import random
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from django.conf import settings
from PIL import Image

from jobs.models import File, Job
from tests.conftest import manage, wait_for

pytestmark = pytest.mark.cluster

UPLOADERS = 4
FILES_EACH = 15


def photo(seed: int) -> bytes:
    """A small JPEG of its own: noise from a seed, so no two are alike."""
    rng = random.Random(seed)
    out = io.BytesIO()
    Image.frombytes("RGB", (320, 240), rng.randbytes(320 * 240 * 3)).save(out, "JPEG", quality=85)
    return out.getvalue()


class Browser:
    """One laptop: its own session cookie, logged in through the login form, uploading as the
    page's script does (multipart, the CSRF token in X-CSRFToken)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name)

    def log_in(self, username: str, password: str) -> None:
        self.opener.open(f"{self.base}/accounts/login/").read()
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        ).encode()
        self.opener.open(urllib.request.Request(f"{self.base}/accounts/login/", form)).read()
        assert any(c.name == "sessionid" for c in self.cookies), "login failed"

    def upload(self, name: str, data: bytes) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n".encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            f"{self.base}/api/upload",
            body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": self.cookie("csrftoken")},
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, {"error": e.read().decode(errors="replace")}


def test_four_uploaders_at_once_while_the_cluster_works_all_land_without_lock_errors(
    live_server, alice, corpus, tmp_path, cluster, cluster_env, caplog
):
    # The cluster is busy writing results of a folder import the whole time.
    folder = tmp_path / "busy"
    shutil.copytree(corpus / "digicam", folder)
    queued = manage("import_path", str(folder), "--no-wait", env=cluster_env, timeout=60)
    assert queued.returncode == 0, queued.stderr
    # The cluster must read the tasks this process's live server signs.
    running = cluster(MEDIAIMPORT_BATCH_SIZE=2, DJANGO_SECRET_KEY=settings.SECRET_KEY)

    photos = {f"laptop{u}-{n:02}.jpg": photo(u * 100 + n) for u in range(UPLOADERS) for n in range(FILES_EACH)}
    answers: dict[str, tuple[int, dict]] = {}
    start = threading.Barrier(UPLOADERS)

    def laptop(number: int):
        browser = Browser(live_server.url)
        browser.log_in("alice", "correct horse battery")
        start.wait()
        for name in sorted(photos):
            if name.startswith(f"laptop{number}-"):
                answers[name] = browser.upload(name, photos[name])

    caplog.set_level(logging.WARNING)
    threads = [threading.Thread(target=laptop, args=(u,)) for u in range(UPLOADERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    failed = {name: answer for name, answer in answers.items() if answer[0] != 201}
    assert failed == {}
    assert len(answers) == UPLOADERS * FILES_EACH
    uploads = Job.objects.filter(kind=Job.Kind.UPLOAD, owner=alice)
    wait_for(
        lambda: not Job.objects.exclude(status=Job.Status.COMPLETED).exists(), timeout=120, message="every job done"
    )
    running.stop()

    files = File.objects.filter(job__in=uploads)
    assert uploads.count() == len(photos)
    assert {f.original_name: f.sha256 for f in files} == {n: hashlib.sha256(d).hexdigest() for n, d in photos.items()}
    assert {f.status for f in files} == {File.Status.DONE}
    server_log = "\n".join(r.getMessage() for r in caplog.records)
    assert "locked" not in server_log.lower(), server_log
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], server_log
    assert "locked" not in running.output().lower()
