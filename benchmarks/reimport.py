"""Re-importing a known folder with --skip-known costs little more than reading it for the hash.

500 byte-distinct 12-MP camera JPEGs (BENCH_FILES) are imported with `manage.py import_path` and a
running cluster (default settings, SQLite in a fresh data dir), then the same folder again with
`--skip-known`: every file is hashed, found in the library and takes the earlier file's results
and a copy of its thumbnail instead of being decoded. Each import is timed from the command's
start to its exit, and the CPU time of the cluster and the command together is counted (which
other load on a shared machine does not change). The target: the second import takes at most 0.2 x
the first's time. Runs in rounds (BENCH_ROUNDS, default 3, each in a fresh data dir) and takes the
median ratio.
"""

import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import (
    TWELVE_MEGAPIXEL_JPEGS, distinct_jpeg_copies, env_count, manage, project_env, require_corpus, scratch,
    start_cluster, stop_cluster, timed_import_path,
)  # fmt: skip

TARGET_RATIO = 0.2


def timed_import(folder: Path, env: dict[str, str], cluster: subprocess.Popen, *options: str) -> dict:
    """Seconds from the command's start to its exit, the CPU seconds of the cluster and the command
    together (which other load on the machine does not change), and the command's last line."""
    elapsed, _, output, watch = timed_import_path(folder, env, cluster, *options)
    return {"seconds": elapsed, "cpu": watch.cpu_seconds, "summary": output.strip().splitlines()[-1]}


def wait_for_empty_queue(database: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    with sqlite3.connect(database) as db:
        while db.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0]:
            if time.monotonic() > deadline:
                sys.exit("The cluster's queue did not empty")
            time.sleep(0.2)


def main() -> int:
    corpus = require_corpus()
    count = env_count("BENCH_FILES", 500)
    rounds = env_count("BENCH_ROUNDS", 3)
    ratios, cpu_ratios = [], []
    with scratch("reimport") as tmp:
        folder = tmp / "photos"
        distinct_jpeg_copies([corpus / p for p in TWELVE_MEGAPIXEL_JPEGS], folder, count)
        print(f"{count} byte-distinct copies of {len(TWELVE_MEGAPIXEL_JPEGS)} 12-MP JPEGs, {rounds} rounds")
        for n in range(rounds):
            data_dir = tmp / f"data{n}"
            env = project_env(data_dir)
            manage("migrate", "--noinput", "-v0", env=env)
            cluster = start_cluster(env, data_dir / "cluster.log")
            try:
                first = timed_import(folder, env, cluster)
                # The first import's regrouping, queued as it completed, is its own work, not the second's.
                wait_for_empty_queue(data_dir / "db.sqlite3")
                again = timed_import(folder, env, cluster, "--skip-known")
            finally:
                stop_cluster(cluster)
            ratios.append(again["seconds"] / first["seconds"])
            cpu_ratios.append(again["cpu"] / first["cpu"])
            for name, run in (("first import", first), ("--skip-known", again)):
                print(f"  round {n + 1}: {name:<13} {run['seconds']:6.1f} s ({count / run['seconds']:5.1f} files/s,"
                      f" {run['cpu'] * 1000 / count:5.1f} ms CPU per file): {run['summary']}")  # fmt: skip
            print(f"           ratio {ratios[-1]:.3f} (CPU {cpu_ratios[-1]:.3f})")
    ratio = statistics.median(ratios)
    print(f"  ratio: {ratio:.3f}  second import with --skip-known / first import, median (target <= {TARGET_RATIO})")
    print(f"  CPU ratio: {statistics.median(cpu_ratios):.3f}  the same in CPU time; does not depend on other load")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
