"""Export throughput of 12-megapixel camera JPEGs, against the plain tools doing the least of the
same job on the same files in the same run.

- With metadata written: 500 distinct shots whose capture times were corrected (an hour later
  than their EXIF says, so every copy has its DateTimeOriginal, CreateDate and OffsetTimeOriginal
  written, checked and dated) against exiftool's own one-process copy and rename into a dated
  tree: `exiftool -o DEST/ -d %Y/%Y%m%d_%H%M%S%%-c.%%e '-FileName<DateTimeOriginal' -r SRC`.
- Without metadata writes (`--no-write-metadata`): against `cp -r SRC DEST`.

Each export is timed two ways, with the cluster already running (one worker per core, each with
its own exiftool) and the files already imported:
- `server`: as the page and the API start one, on a web server that is already up: from
  `POST /api/exports` to `GET /api/jobs/<id>` saying it completed (polled every POLL seconds).
  The target is judged on this one (docs/performance.md says why).
- `command`: `manage.py export` from its start to its exit, Python's and Django's start included.

Beside each time, the CPU seconds the cluster and the server (or the command) used for it: on a
shared machine the wall clock follows the other processes' load, the CPU time much less.

Every timed run, reference or ours, starts after `sync`, so that none pays the writeback of what
the run before it wrote. The machine may be shared, so each round's exports run between two runs
of their reference and are compared with the better of them; with BENCH_ROUNDS > 1 the median
ratio counts. BENCH_FILES sets how many files (default 500)."""

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks._common import (
    ROOT, TWELVE_MEGAPIXEL_JPEGS, ProcessTreeWatch, distinct_jpeg_copies, env_count, manage, project_env,
    require_corpus, scratch, start_cluster, stop_cluster, timed_manage,
)  # fmt: skip

TARGET_RATIO = 0.8
POLL = 0.05
PATHS = ("server", "command")
# Every capture time an hour later than the files say, as a correction by hand would make it.
SHIFT_TIMES = (
    "from datetime import timedelta; from django.db.models import F; from jobs.models import File; "
    "File.objects.update(captured_at=F('captured_at') + timedelta(hours=1), capture_source='manual', confidence='high')"
)


def distinct_pictures(files: list[Path]) -> None:
    """Make every copy's picture data its own: the last entry of the first quantisation table
    (the finest detail, invisible) counts the copy. Copies that differ only after the EOI are
    one picture to the library (jobs/pipeline/picture_identity.py), and an export keeps one."""
    for n, path in enumerate(files):
        data = bytearray(path.read_bytes())
        at = _first_quantisation_table(data)
        data[at + 64] = 1 + (data[at + 64] + n) % 255  # 8-bit values, 1-255
        path.write_bytes(data)


def _first_quantisation_table(data: bytes) -> int:
    """Where the first DQT segment's first table starts (its precision byte), outside the
    APPn segments (an EXIF thumbnail has its own)."""
    at = 2
    while data[at] == 0xFF:
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        if marker == 0xDB:
            return at + 4
        at += 2 + length
    sys.exit("No quantisation table before the picture data")


def distinct_shots(files: list[Path]) -> None:
    """Give every copy a capture time of its own (a second apart), in one exiftool process. Copies
    of one picture with one capture record are near duplicates, and an export keeps one of them;
    with records that differ they are different shots of a burst, and each is exported."""
    distinct_pictures(files)
    start = datetime(2020, 5, 1, 12, 0, 0)
    lines = []
    for n, path in enumerate(files):
        taken = (start + timedelta(seconds=n)).strftime("%Y:%m:%d %H:%M:%S")
        lines += [f"-DateTimeOriginal={taken}", f"-CreateDate={taken}", "-overwrite_original", str(path), "-execute"]
    argfile = files[0].parent.parent / "shots.args"
    argfile.write_text("\n".join(lines) + "\n")
    subprocess.run(["exiftool", "-q", "-@", str(argfile)], check=True, stdout=subprocess.DEVNULL)


def timed(command: list[str], **kwargs) -> float:
    os.sync()
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def exiftool_reference(source: Path, destination: Path) -> float:
    # A FileName with folders in it is taken from the working folder, whatever -o says: run
    # there, or the tree lands wherever the benchmark was started.
    destination.mkdir()
    return timed(
        ["exiftool", "-q", "-o", f"{destination}/", "-d", "%Y/%Y%m%d_%H%M%S%%-c.%%e", "-FileName<DateTimeOriginal", "-r", str(source)],
        cwd=destination,
    )


def copy_reference(source: Path, destination: Path) -> float:
    return timed(["cp", "-r", str(source), str(destination)])


def command_export(destination: Path, env: dict, cluster: subprocess.Popen, expected: int, *options: str) -> tuple[float, float]:
    """Seconds from `manage.py export`'s start to its exit, once every file is known written, and
    the CPU seconds of the command and the cluster meanwhile."""
    os.sync()
    elapsed, _, _, watch = timed_manage(env, cluster, "export", str(destination), *options)
    check_written(destination, expected)
    return elapsed, watch.cpu_seconds


class Server:
    """The web server as `make run` starts it, and a staff user's session on it."""

    def __init__(self, env: dict, log: Path, cluster: subprocess.Popen):
        self.cluster = cluster
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        with open(log, "a") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "mediaimport.wsgi", "-c", "mediaimport/gunicorn.conf.py",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "4"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        password = secrets.token_urlsafe()
        manage("shell", "-c", f"from django.contrib.auth.models import User; User.objects.create_superuser('bench', '', {password!r})", env=env)
        self.csrf = secrets.token_hex(16)
        self.cookies = f"csrftoken={self.csrf}"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, headers = self.request("POST", "/accounts/login/", f"username=bench&password={password}&csrfmiddlewaretoken={self.csrf}",
                                                  content_type="application/x-www-form-urlencoded")  # fmt: skip
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"The web server did not start:\n{log.read_text()}")
                time.sleep(0.2)
        session = next((c.split(";")[0] for k, c in headers if k.lower() == "set-cookie" and c.startswith("sessionid=")), None)
        if status != 302 or session is None:
            sys.exit(f"Could not log in ({status})")
        self.cookies += f"; {session}"
        # The imported jobs, named: without job ids an export takes the user's own jobs only.
        _, body, _ = self.request("GET", "/api/jobs")
        self.job_ids = [j["id"] for j in json.loads(body)["jobs"] if j["job_type"] != "export"]

    def request(self, method: str, path: str, body: str = "", content_type: str = "application/json"):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Cookie": self.cookies, "X-CSRFToken": self.csrf, "Content-Type": content_type}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response.getheaders()
        finally:
            connection.close()

    def export(self, destination: Path, expected: int, **options) -> tuple[float, float]:
        """Seconds from the API request to the API saying the export completed, and the CPU
        seconds of the server and the cluster meanwhile."""
        os.sync()
        with ProcessTreeWatch(self.cluster.pid, self.process.pid) as watch:
            started = time.perf_counter()
            status, body, _ = self.request("POST", "/api/exports", json.dumps({"destination": str(destination), "job_ids": self.job_ids, **options}))
            if status != 201:
                sys.exit(f"POST /api/exports answered {status}: {body[:500]}")
            job_id = json.loads(body)["job_id"]
            while True:
                status, body, _ = self.request("GET", f"/api/jobs/{job_id}")
                job = json.loads(body)
                if job["status"] not in ("pending", "running"):
                    break
                time.sleep(POLL)
            elapsed = time.perf_counter() - started
        if job["status"] != "completed":
            sys.exit(f"export {job_id} ended {job['status']}: {job['failure']}")
        check_written(destination, expected)
        return elapsed, watch.cpu_seconds

    def stop(self):
        stop_cluster(self.process)


def check_written(destination: Path, expected: int) -> None:
    written = sum(1 for p in destination.rglob("*") if p.is_file())
    if written != expected:
        sys.exit(f"export wrote {written} files, not {expected}: the benchmark would measure less than it says")


def measure(name: str, count: int, rounds: int, reference, ours: dict) -> dict[str, float]:
    """For each way of ours (name -> run(n) -> seconds, CPU seconds), the ratio of our rate to the
    better reference run beside it, median over the rounds."""
    ratios = {way: [] for way in ours}
    before = reference(0)
    for n in range(rounds):
        seconds = {way: run(n) for way, run in ours.items()}
        after = reference(n + 1)
        best = min(before, after)
        print(f"  {name}, round {n + 1}: reference {count / best:6.1f} files/s (runs beside it {count / before:.1f} and {count / after:.1f}); load {os.getloadavg()[0]:.1f}")  # fmt: skip
        for way, (s, cpu) in seconds.items():
            ratios[way].append(best / s)
            print(f"    {way:8} {s:5.2f} s ({cpu:5.2f} s CPU), {count / s:6.1f} files/s; ratio {ratios[way][-1]:.2f}")
        before = after
    return {way: statistics.median(r) for way, r in ratios.items()}


def main() -> int:
    corpus = require_corpus()
    count = env_count("BENCH_FILES", 500)
    rounds = env_count("BENCH_ROUNDS", 1)
    with scratch("export") as tmp:
        source = tmp / "photos"
        distinct_shots(distinct_jpeg_copies([corpus / p for p in TWELVE_MEGAPIXEL_JPEGS], source, count))
        env = project_env(tmp / "data", MEDIAIMPORT_EXPORT_ROOTS=tmp)
        manage("migrate", "--noinput", "-v0", env=env)
        cluster = start_cluster(env, tmp / "cluster.log")
        server = None
        try:
            manage("import_path", str(source), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            manage("shell", "-c", SHIFT_TIMES, env=env)
            server = Server(env, tmp / "server.log", cluster)
            print(f"{count} distinct shots (copies of {len(TWELVE_MEGAPIXEL_JPEGS)} 12-MP JPEGs), imported; {rounds} round(s)")
            written = measure(
                "capture time written",
                count,
                rounds,
                lambda n: exiftool_reference(source, tmp / f"exiftool{n}"),
                {
                    "server": lambda n: server.export(tmp / f"api{n}", count),
                    "command": lambda n: command_export(tmp / f"export{n}", env, cluster, count),
                },
            )
            plain = measure(
                "no metadata written",
                count,
                rounds,
                lambda n: copy_reference(source, tmp / f"cp{n}"),
                {
                    "server": lambda n: server.export(tmp / f"api-plain{n}", count, write_metadata=False),
                    "command": lambda n: command_export(tmp / f"plain{n}", env, cluster, count, "--no-write-metadata"),
                },
            )
        finally:
            if server is not None:
                server.stop()
            stop_cluster(cluster)
    for way in PATHS:
        print(f"  {way}: ratio, capture time written vs exiftool's copy-and-rename: {written[way]:5.2f} (target >= {TARGET_RATIO})")
        print(f"  {way}: ratio, no metadata written vs cp -r:                       {plain[way]:5.2f} (target >= {TARGET_RATIO})")
    # The target is judged as an export is run: on a server that is up (docs/performance.md).
    return 0 if written["server"] >= TARGET_RATIO and plain["server"] >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
