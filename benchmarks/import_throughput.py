"""Import throughput of 12-megapixel camera JPEGs through `manage.py import_path` and the default
cluster, against a lean reference pipeline run on the same files and all cores in the same run.

The lean reference is what an importer must do at the least, with nothing around it: streamed
SHA-256, EXIF read, one draft (reduced) JPEG decode, EXIF orientation, a 320-px WebP thumbnail
with our encoder settings and a perceptual hash, in a multiprocessing Pool of one process per
core. Our import is timed from the command's start to its exit, with a cluster already running
(default settings: one worker per core) on SQLite in a fresh data dir; the peak memory is the
summed RSS of the cluster's process tree and the command, sampled from /proc.

BENCH_FILES sets how many files (default 200)."""

import hashlib
import io
import os
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import imagehash
from PIL import Image, ImageOps

from benchmarks._common import (
    ROOT, TWELVE_MEGAPIXEL_JPEGS, PeakMemory, distinct_jpeg_copies, env_count, megabytes, manage,
    project_env, require_corpus, scratch, start_cluster, stop_cluster,
)  # fmt: skip

TARGET_RATIO = 0.7
MEMORY_LIMIT = 600 * 1024**2


def lean_pipeline(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    with Image.open(path) as im:
        im.getexif()
        im.draft("RGB", (320, 320))
        image = ImageOps.exif_transpose(im)
    preview = image.copy()
    preview.thumbnail((320, 320), Image.Resampling.LANCZOS, reducing_gap=2.0)
    preview.save(io.BytesIO(), "WEBP", quality=80, method=2)
    return str(imagehash.phash(image.convert("L")))


def lean_rate(files: list[Path]) -> float:
    with Pool(os.cpu_count()) as pool:
        pool.map(lean_pipeline, files[: os.cpu_count()])  # warm the workers' imports
        started = time.perf_counter()
        pool.map(lean_pipeline, files, chunksize=1)
        return len(files) / (time.perf_counter() - started)


def import_rate(files: list[Path], folder: Path, data_dir: Path) -> tuple[float, int, str]:
    """Files/s through import_path with a running cluster, the peak memory, and the final line."""
    env = project_env(data_dir)
    manage("migrate", "--noinput", "-v0", env=env)
    cluster = start_cluster(env, data_dir / "cluster.log")
    try:
        with PeakMemory(cluster.pid) as memory:
            started = time.perf_counter()
            command = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "import_path", str(folder)],
                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            memory.watch(command.pid)
            output, _ = command.communicate()
            elapsed = time.perf_counter() - started
        if command.returncode != 0:
            sys.exit(f"import_path failed ({command.returncode}):\n{output}")
    finally:
        stop_cluster(cluster)
    return len(files) / elapsed, memory.peak, output.strip().splitlines()[-1]


def main() -> int:
    corpus = require_corpus()
    count = env_count("BENCH_FILES", 200)
    with scratch("throughput") as tmp:
        folder = tmp / "photos"
        files = distinct_jpeg_copies([corpus / p for p in TWELVE_MEGAPIXEL_JPEGS], folder, count)
        print(f"{count} byte-distinct copies of {len(TWELVE_MEGAPIXEL_JPEGS)} 12-MP JPEGs, {os.cpu_count()} cores")
        # The reference runs before and after our import and keeps its better figure, so that
        # other load on the machine cannot make our ratio look better than it is.
        reference = lean_rate(files)
        ours, peak, summary = import_rate(files, folder, tmp / "data")
        reference = max(reference, lean_rate(files))
    ratio = ours / reference
    print(f"  import:            {summary}")
    print(f"  lean reference:    {reference:6.1f} files/s ({reference / os.cpu_count():.1f} per core)")
    print(f"  import_path:       {ours:6.1f} files/s (command start to exit, cluster running)")
    print(f"  ratio:             {ratio:6.2f}  (target >= {TARGET_RATIO})")
    print(f"  peak memory:       {megabytes(peak):>6}  (cluster tree + command, summed RSS; target < {megabytes(MEMORY_LIMIT)})")
    return 0 if ratio >= TARGET_RATIO and peak < MEMORY_LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
