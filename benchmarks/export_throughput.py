"""Export throughput of 12-megapixel camera JPEGs through `manage.py export` and the default
cluster, against the plain tools doing the least of the same job on the same files in the same run.

- With metadata written: 500 byte-distinct JPEGs whose capture times were corrected (an hour
  later than their EXIF says, so every copy has its DateTimeOriginal, CreateDate and
  OffsetTimeOriginal written, checked and dated) against exiftool's own one-process copy and rename
  into a dated tree: `exiftool -o DEST/ -d %Y/%Y%m%d_%H%M%S%%-c.%%e '-FileName<DateTimeOriginal' -r SRC`.
- Without metadata writes (`--no-write-metadata`): against `cp -r SRC DEST`.

Ours is timed from the command's start to its exit, with a cluster already running (one worker per
core, each with its own exiftool) and the files already imported. The machine may be shared, so
each export runs between two runs of its reference and is compared with the better of them; with
BENCH_ROUNDS > 1 the median ratio counts. BENCH_FILES sets how many files (default 500)."""

import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks._common import (
    ROOT, TWELVE_MEGAPIXEL_JPEGS, distinct_jpeg_copies, env_count, manage, project_env, require_corpus, scratch,
    start_cluster, stop_cluster,
)  # fmt: skip

TARGET_RATIO = 0.8
# Every capture time an hour later than the files say, as a correction by hand would make it.
SHIFT_TIMES = (
    "from datetime import timedelta; from django.db.models import F; from jobs.models import File; "
    "File.objects.update(captured_at=F('captured_at') + timedelta(hours=1), capture_source='manual', confidence='high')"
)


def distinct_shots(files: list[Path]) -> None:
    """Give every copy a capture time of its own (a second apart), in one exiftool process. Copies
    of one picture with one capture record are near duplicates, and an export keeps one of them;
    with records that differ they are different shots of a burst, and each is exported."""
    start = datetime(2020, 5, 1, 12, 0, 0)
    lines = []
    for n, path in enumerate(files):
        taken = (start + timedelta(seconds=n)).strftime("%Y:%m:%d %H:%M:%S")
        lines += [f"-DateTimeOriginal={taken}", f"-CreateDate={taken}", "-overwrite_original", str(path), "-execute"]
    argfile = files[0].parent.parent / "shots.args"
    argfile.write_text("\n".join(lines) + "\n")
    subprocess.run(["exiftool", "-q", "-@", str(argfile)], check=True, stdout=subprocess.DEVNULL)


def timed(command: list[str], **kwargs) -> float:
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


def export(destination: Path, env: dict, expected: int, *options: str) -> tuple[float, str]:
    """Seconds from the command's start to its exit, and its last line, once every file is
    known to be written."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "export", str(destination), *options],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"export failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    written = sum(1 for p in destination.rglob("*") if p.is_file())
    if written != expected:
        sys.exit(f"export wrote {written} files, not {expected}: the benchmark would measure less than it says")
    return elapsed, done.stdout.strip().splitlines()[-1]


def measure(name: str, count: int, rounds: int, reference, ours) -> float:
    """Ratio of our rate to the better reference run beside it, median over the rounds."""
    ratios = []
    before = reference(0)
    for n in range(rounds):
        seconds, summary = ours(n)
        after = reference(n + 1)
        best = min(before, after)
        ratios.append(best / seconds)
        print(f"  {name}, round {n + 1}: {summary}")
        print(f"    reference {count / best:6.1f} files/s (runs beside it {count / before:.1f} and {count / after:.1f});"
              f" ours {count / seconds:6.1f} files/s; ratio {ratios[-1]:.2f}")  # fmt: skip
        before = after
    return statistics.median(ratios)


def main() -> int:
    corpus = require_corpus()
    count = env_count("BENCH_FILES", 500)
    rounds = env_count("BENCH_ROUNDS", 1)
    with scratch("export") as tmp:
        source = tmp / "photos"
        distinct_shots(distinct_jpeg_copies([corpus / p for p in TWELVE_MEGAPIXEL_JPEGS], source, count))
        env = project_env(tmp / "data")
        manage("migrate", "--noinput", "-v0", env=env)
        cluster = start_cluster(env, tmp / "cluster.log")
        try:
            manage("import_path", str(source), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            manage("shell", "-c", SHIFT_TIMES, env=env)
            print(f"{count} distinct shots (copies of {len(TWELVE_MEGAPIXEL_JPEGS)} 12-MP JPEGs), imported; {rounds} round(s)")
            written = measure(
                "capture time written",
                count,
                rounds,
                lambda n: exiftool_reference(source, tmp / f"exiftool{n}"),
                lambda n: export(tmp / f"export{n}", env, count),
            )
            plain = measure(
                "no metadata written",
                count,
                rounds,
                lambda n: copy_reference(source, tmp / f"cp{n}"),
                lambda n: export(tmp / f"plain{n}", env, count, "--no-write-metadata"),
            )
        finally:
            stop_cluster(cluster)
    print(f"  ratio, capture time written vs exiftool's copy-and-rename: {written:5.2f} (target >= {TARGET_RATIO})")
    print(f"  ratio, no metadata written vs cp -r:                       {plain:5.2f} (target >= {TARGET_RATIO})")
    return 0 if written >= TARGET_RATIO and plain >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
