"""Fixtures shared by the whole suite: the real-media corpus, users, and a real cluster."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MEDIAIMPORT_CORPUS", ROOT.parent / "shared" / "corpus"))


# --- the corpus -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-media corpus, read only. Copy files out of it before touching them."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"the media corpus is not at {CORPUS} (set MEDIAIMPORT_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def manifest(corpus) -> dict[str, dict[str, str]]:
    """exiftool's reading of every corpus file, by path relative to the corpus."""
    with open(corpus / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        return {row["path"]: row for row in csv.DictReader(f, delimiter="\t")}


@pytest.fixture
def copy_media(corpus, tmp_path):
    """copy_media("elodie/plain.jpg", ..., into="sub") copies corpus files into a temp folder
    and returns the folder (or the single copied file's path with `single=True`)."""
    media = tmp_path / "media"

    def copy(*relative: str, into: str = "", rename: str | None = None, single: bool = False):
        target = media / into
        target.mkdir(parents=True, exist_ok=True)
        copied = []
        for rel in relative:
            destination = target / (rename or Path(rel).name)
            shutil.copy2(corpus / rel, destination)
            copied.append(destination)
        return copied[0] if single else media

    return copy


# --- the world of a test ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Uploads and thumbnails of each test go to a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "data"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def make_user(db):
    def make(username="alice", *, staff=False, password="correct horse battery"):
        return get_user_model().objects.create_user(
            username=username, password=password, is_staff=staff, is_superuser=staff
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def staff(make_user):
    return make_user("sam", staff=True)


# --- the JSON API ---------------------------------------------------------------------------


class Api:
    """Django's test client used as the page's script uses the API: CSRF checks enforced, the token
    taken from the csrftoken cookie and sent in X-CSRFToken."""

    def __init__(self, user=None):
        self.client = Client(enforce_csrf_checks=True)
        self.client.get(reverse("login"))  # as in a browser, the login page sets the cookie
        self.token = self.client.cookies[settings.CSRF_COOKIE_NAME].value
        if user is not None:
            self.client.force_login(user)

    def headers(self, csrf: bool) -> dict:
        return {"X-CSRFToken": self.token} if csrf else {}

    def get(self, url: str, **params):
        return self.client.get(url, params)

    def post(self, url: str, body=None, *, csrf: bool = True):
        return self.client.post(url, body or {}, content_type="application/json", headers=self.headers(csrf))

    def upload(self, files, *, csrf: bool = True, **fields):
        """files: UploadedFile objects; fields: last_modified=[...], relative_path=[...]."""
        return self.client.post("/api/upload", {"files": files, **fields}, headers=self.headers(csrf))

    def raw(self, url: str, body: bytes, content_type: str, *, csrf: bool = True):
        return self.client.post(url, body, content_type=content_type, headers=self.headers(csrf))


@pytest.fixture
def api():
    """api(user) → an Api client logged in as `user` (anonymous without one)."""
    return Api


# --- a real cluster ---------------------------------------------------------------------------


def inherited_environ(*leave_out: str) -> dict[str, str]:
    """This process's environment for a subprocess, less what only this test process needs (the
    browser fixture's DJANGO_ALLOW_ASYNC_UNSAFE, which no real server may run with)."""
    dropped = {"DJANGO_ALLOW_ASYNC_UNSAFE", *leave_out}
    return {k: v for k, v in os.environ.items() if k not in dropped}


def subprocess_env(data_dir: Path, **extra) -> dict[str, str]:
    """Environment for manage.py subprocesses that share this test's database and data dir."""
    env = {
        **inherited_environ(),
        "MEDIAIMPORT_DATA_DIR": str(data_dir),
        "DATABASE_URL": _database_url(connection.settings_dict),
        # The same key as this process, or the cluster refuses the tasks this process signs.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "MEDIAIMPORT_WORKERS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _database_url(db: dict) -> str:
    """A URL for the database this test runs on (the test database, not the configured one)."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    if db["PORT"]:
        host += f":{db['PORT']}"
    return f"postgres://{user}@{host}/{quote(db['NAME'], safe='')}"


def manage(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True, **kwargs
    )


class Cluster:
    """A `manage.py qcluster` subprocess in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log_path = log
        self.process = None

    def start(self):
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self, timeout: float = 30):
        """Ask the cluster to stop as Ctrl-C would, and wait for it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def kill(self):
        """Kill the whole cluster at once, as a power cut or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def cluster_env(data_dir, transactional_db):
    """Environment for subprocesses that see this test's committed data (transactional_db)."""
    return subprocess_env(data_dir, MEDIAIMPORT_TASK_TIMEOUT=30, MEDIAIMPORT_TASK_RETRY=35)


@pytest.fixture
def cluster(cluster_env, tmp_path):
    """Start a real cluster with `cluster.start()`; it is stopped after the test."""
    clusters = []

    def start(**extra_env):
        c = Cluster({**cluster_env, **{k: str(v) for k, v in extra_env.items()}}, tmp_path / f"cluster{len(clusters)}.log")
        clusters.append(c)
        return c.start()

    yield start
    for c in clusters:
        c.stop()


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    """Poll until predicate() is truthy; fail the test with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


# --- a real browser -------------------------------------------------------------------------

CHROMIUM = Path(os.environ.get("MEDIAIMPORT_CHROMIUM", "/usr/bin/chromium"))
# Headless Debian Chromium on a machine without network: no sandbox (containers), no GPU, and none
# of the background connections (updates, sync, QUIC probes) that this machine's network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = ROOT / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (`make test` installs it; Playwright cannot
    download its own browsers here)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"chromium is not at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, which Django's async-safety check
    # takes for async code; the ORM calls of these tests are plain synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (no cookies) on the live server."""
    # The viewer sits in a zone of its own, so that a page showing times in the browser's zone
    # instead of the photo's own would be caught.
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, timezone_id="America/New_York"
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save the page as test-output/screenshots/<name>.png, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, user, password: str = "correct horse battery", url: str = "/"):
    """Log in through the login form, as a person would, and land on `url`."""
    page.goto(url)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{url}")
    page.locator("body[data-ready]").wait_for(state="attached")  # the page's script is wired up
