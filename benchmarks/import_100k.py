"""Import a folder of 100,000 small photos through the real code path and report wall time, files
per second and peak memory. Memory must stay flat whatever the folder's size: the scan holds one
folder listing per level, records are created in chunks, and batches are read by id range.

    python benchmarks/import_100k.py                 # 100,000 files, import_path --sync
    python benchmarks/import_100k.py --files 5000    # a quicker look
    python benchmarks/import_100k.py --cluster       # import_path following a 2-worker qcluster

Everything (data dir, database, photos) lives in a temporary folder that is removed afterwards.
Exits 1 when the peak resident memory of any one process passes --max-rss-mb."""

import argparse
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FILES_PER_FOLDER = 1000


def write_photos(folder: Path, count: int) -> int:
    """`count` distinct 16x16 JPEGs, FILES_PER_FOLDER to a folder; each carries its number in a
    JPEG comment, so no two share a SHA-256. Returns the bytes written."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 120, 40)).save(out, "JPEG", quality=80)
    base = out.getvalue()
    written = 0
    for n in range(count):
        sub = folder / f"{n // FILES_PER_FOLDER:04}"
        if n % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True)
        comment = f"photo {n}".encode()
        data = base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]
        (sub / f"IMG_{n:06}.jpg").write_bytes(data)
        written += len(data)
    return written


class MemoryWatch:
    """Samples the resident memory of a process and all its descendants from /proc: the peak of
    their sum, and the peak of any one of them (VmHWM, the kernel's own high-water mark)."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.peak_total_kb = 0
        self.peak_one_kb = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()

    def run(self):
        while not self.stopped.wait(self.interval):
            tree = self.tree()
            total = 0
            for pid in tree:
                status = _status(pid)
                total += status.get("VmRSS", 0)
                self.peak_one_kb = max(self.peak_one_kb, status.get("VmHWM", 0))
            self.peak_total_kb = max(self.peak_total_kb, total)

    def tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in lines) if v.strip().endswith("kB")}


def manage(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--cluster", action="store_true", help="process with a qcluster instead of --sync")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-rss-mb", type=int, default=400, help="the bound on any one process's peak memory")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "MEDIAIMPORT_DATA_DIR": str(work / "data"),
        "MEDIAIMPORT_WORKERS": str(options.workers),
        "MEDIAIMPORT_LOG_LEVEL": "WARNING",
    }
    cluster = None
    try:
        started = time.monotonic()
        size = write_photos(work / "photos", options.files)
        print(f"wrote {options.files:,} photos ({size / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s", flush=True)
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], cwd=ROOT, env=env, check=True)

        if options.cluster:
            cluster = manage("qcluster", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        how = [] if options.cluster else ["--sync"]
        started = time.monotonic()
        importer = manage("import_path", str(work / "photos"), *how, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        with MemoryWatch(importer.pid) as importer_memory, MemoryWatch(cluster.pid if cluster else importer.pid) as cluster_memory:
            first = importer.stdout.readline()
            recorded = time.monotonic() - started
            rest = importer.stdout.read()
            importer.wait()
        elapsed = time.monotonic() - started
        if importer.returncode != 0 or not first.startswith("job "):
            print(f"import_path failed (exit {importer.returncode}): {first}{rest}", file=sys.stderr)
            return 2
        summary = re.search(r"(\w+): (\d+) of (\d+) files, (\d+) with errors", rest)

        print(f"mode                 {'qcluster, %d workers' % options.workers if cluster else 'import_path --sync'}")
        print(f"files                {options.files:,}")
        print(f"outcome              {summary.group(0) if summary else rest.strip()}")
        print(f"scan and record      {recorded:8.1f} s")
        print(f"wall time            {elapsed:8.1f} s")
        print(f"throughput           {options.files / elapsed:8.1f} files/s")
        print(f"peak RSS import_path {importer_memory.peak_one_kb / 1024:8.1f} MB")
        if cluster:
            print(f"peak RSS one worker  {cluster_memory.peak_one_kb / 1024:8.1f} MB")
            print(f"peak RSS cluster     {cluster_memory.peak_total_kb / 1024:8.1f} MB (all its processes together)")
        print(f"database             {(work / 'data' / 'db.sqlite3').stat().st_size / 1e6:8.1f} MB")
        peak = max(importer_memory.peak_one_kb, cluster_memory.peak_one_kb) / 1024
        within = peak <= options.max_rss_mb
        print(f"memory bound         {'within' if within else 'OVER'} {options.max_rss_mb} MB per process")
        return 0 if within and summary and int(summary.group(2)) == options.files else 1
    finally:
        if cluster is not None:
            os.killpg(cluster.pid, signal.SIGINT)
            cluster.wait(60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
