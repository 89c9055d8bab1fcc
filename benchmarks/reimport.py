"""Re-importing a known folder with --skip-known costs little more than reading it for the hash.

500 byte-distinct 12-MP camera JPEGs (BENCH_FILES) are imported with `manage.py import_path` and a
running cluster (default settings, SQLite in a fresh data dir), then the same folder again with
`--skip-known`: every file is hashed, found in the library and takes the earlier file's results
and a copy of its thumbnail instead of being decoded. Each import is timed from the command's
start to its exit. The target: the second import takes at most 0.2 x the first's time. Runs in
rounds (BENCH_ROUNDS, default 2, each in a fresh data dir) and takes the median ratio.
"""

import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import (
    ROOT, TWELVE_MEGAPIXEL_JPEGS, distinct_jpeg_copies, env_count, manage, project_env, require_corpus, scratch,
    start_cluster, stop_cluster,
)  # fmt: skip

TARGET_RATIO = 0.2


def timed_import(folder: Path, env: dict[str, str], *options: str) -> tuple[float, str]:
    """Seconds from the command's start to its exit, and its last line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_path", str(folder), *options],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"import_path failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout.strip().splitlines()[-1]


def main() -> int:
    corpus = require_corpus()
    count = env_count("BENCH_FILES", 500)
    rounds = env_count("BENCH_ROUNDS", 2)
    ratios = []
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
                first, first_summary = timed_import(folder, env)
                again, again_summary = timed_import(folder, env, "--skip-known")
            finally:
                stop_cluster(cluster)
            ratios.append(again / first)
            print(f"  round {n + 1}: first import {first:6.1f} s ({count / first:5.1f} files/s): {first_summary}")
            print(f"           --skip-known {again:6.1f} s ({count / again:5.1f} files/s): {again_summary}")
            print(f"           ratio {ratios[-1]:.3f}")
    ratio = statistics.median(ratios)
    print(f"  ratio: {ratio:.3f}  second import with --skip-known / first import, median (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
