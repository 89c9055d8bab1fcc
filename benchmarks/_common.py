"""What the benchmarks share: the corpus, a throwaway data dir, manage.py subprocesses, and the
peak memory and CPU time of a process tree, read from /proc."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MEDIAIMPORT_CORPUS", ROOT.parent / "shared" / "corpus"))

# The corpus's 12-megapixel (4032x3024) camera JPEGs: an iPhone XR burst and an iPhone 13 Pro photo.
TWELVE_MEGAPIXEL_JPEGS = [
    "digicam/Apple/iPhone XR/IMG_3580.JPG",
    "digicam/Apple/iPhone XR/IMG_3581.JPG",
    "digicam/Apple/iPhone XR/IMG_3582.JPG",
    "digicam/Apple/iPhone 13 Pro/IMG_8568.JPG",
]


def require_corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        sys.exit(f"The media corpus is not at {CORPUS}; set MEDIAIMPORT_CORPUS.")
    return CORPUS


def env_count(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@contextmanager
def scratch(prefix: str):
    """A temporary folder, removed afterwards (kept with BENCH_KEEP=1 to look inside)."""
    path = Path(tempfile.mkdtemp(prefix=f"mediaimport-{prefix}-"))
    try:
        yield path
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


def distinct_jpeg_copies(sources: list[Path], folder: Path, count: int) -> list[Path]:
    """`count` copies of the JPEGs in turn, each made byte-distinct by a few bytes after the EOI
    marker: decoders stop at EOI, so the picture is the same, but every SHA-256 differs and no
    exact-duplicate shortcut can flatter the import."""
    folder.mkdir(parents=True, exist_ok=True)
    datas = [p.read_bytes() for p in sources]
    copies = []
    for n in range(count):
        path = folder / f"IMG_{n:05d}.JPG"
        path.write_bytes(datas[n % len(datas)] + f"copy {n}".encode())
        copies.append(path)
    return copies


def project_env(data_dir: Path, **extra) -> dict[str, str]:
    """Environment for manage.py subprocesses working in their own data dir (and SQLite)."""
    env = {**os.environ, "MEDIAIMPORT_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, **kwargs
    )


def start_cluster(env: dict[str, str], log: Path, *, timeout: float = 60) -> subprocess.Popen:
    """`manage.py qcluster` in a session of its own, returned once it says it is running."""
    with open(log, "a") as out:  # the cluster writes to its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while "running." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_cluster(process)
            sys.exit(f"The cluster did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return process


def stop_cluster(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def timed_import_path(folder: Path, env: dict[str, str], cluster: subprocess.Popen, *options: str):
    """`manage.py import_path FOLDER [options]` run to its exit while `cluster` processes it: the
    seconds from the command's start to its exit, the wall-clock time it started at, its output,
    and the watch over the cluster and the command together (CPU time, peak memory). Ends the
    benchmark when the command fails."""
    return timed_manage(env, cluster, "import_path", str(folder), *options)


def timed_manage(env: dict[str, str], cluster: subprocess.Popen, *args: str):
    """`manage.py ARGS` run to its exit beside `cluster`, as timed_import_path says."""
    with ProcessTreeWatch(cluster.pid) as watch:
        started, started_at = time.perf_counter(), time.time()
        command = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        watch.watch(command.pid)
        output, errors = command.communicate()
        elapsed = time.perf_counter() - started
    if command.returncode != 0:
        sys.exit(f"{args[0]} failed ({command.returncode}):\n{output}\n{errors}")
    return elapsed, started_at, output, watch


class ProcessTreeWatch:
    """Samples, in a thread, some processes and all their descendants from /proc: `peak_memory` is
    the largest memory they used together (bytes, summed PSS: a page shared by the processes a
    cluster forks counts once, split among them), `peak_rss` the largest summed RSS (which counts
    a shared page once per process that maps it, so it errs high), `cpu_seconds` the CPU time they
    used while watched.

    The watch must cost the watched next to nothing on a machine they keep busy: the RSS and CPU
    are read every `interval` (well under a millisecond), the PSS, for which the kernel walks every
    page table (about 15 ms for a cluster), every `pss_interval`: memory moves slowly."""

    def __init__(self, *pids: int, interval: float = 0.1, pss_interval: float = 1.0):
        self.pids = set(pids)
        self.interval = interval
        self.pss_every = max(1, round(pss_interval / interval))
        self.peak_memory = 0
        self.peak_rss = 0
        self._samples = 0
        self._ticks: dict[int, int] = {}  # last CPU ticks seen, per process
        self._baseline: dict[int, int] = {}  # CPU ticks of the processes already running at the start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, pid: int) -> None:
        self.pids.add(pid)

    @property
    def cpu_seconds(self) -> float:
        ticks = sum(t - self._baseline.get(pid, 0) for pid, t in self._ticks.items())
        return ticks / os.sysconf("SC_CLK_TCK")

    def __enter__(self):
        self._sample()
        self._baseline = dict(self._ticks)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self):
        with_pss = self._samples % self.pss_every == 0
        self._samples += 1
        pss = rss = 0
        for pid in _tree(self.pids):
            try:
                rss += _rss(pid)
                self._ticks[pid] = _cpu_ticks(pid)
                if with_pss:
                    pss += _pss(pid)
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_memory = max(self.peak_memory, pss)


def _tree(roots: set[int]) -> set[int]:
    """The processes and all their descendants, from each thread's list of the children it forked."""
    tree, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in tree:
            continue
        tree.add(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in children.read_text().split())
            except OSError:
                continue
    return tree


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the command name before it may hold spaces
    return int(fields[11]) + int(fields[12])  # utime + stime


def megabytes(n: int) -> str:
    return f"{n / 1024**2:.0f} MB"
