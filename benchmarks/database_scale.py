"""The database at scale, on SQLite in a fresh data dir.

1. A job of 100,000 Files with realistic values (1% exact copies, capture times, evidence, a
   confidence mix): the files API page and the duplicates call, through Django's test Client as
   the job's owner, each the median of several calls (target: under 100 ms).
2. Scanning and recording a folder of 100,000 (tiny) files, as `import_path` does, queue
   included: the time and the peak memory the Python heap reached (tracemalloc), which must not
   grow with the folder.

BENCH_DB_FILES and BENCH_SCAN_FILES change the sizes (default 100,000 each)."""

import logging
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from benchmarks._common import env_count, scratch

CALLS = 7
TARGET_MS = 100


def setup_django(data_dir) -> None:
    os.environ.update(
        MEDIAIMPORT_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="mediaimport.settings", DJANGO_ALLOWED_HOSTS="testserver"
    )
    os.environ.pop("DATABASE_URL", None)
    (data_dir / "static").mkdir(parents=True)
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("django-q").setLevel(logging.WARNING)  # a line per queued batch otherwise
    call_command("migrate", verbosity=0)


def make_job(count: int):
    from django.contrib.auth import get_user_model

    from jobs.models import Confidence, File, Job

    owner = get_user_model().objects.create_user("alice", password="correct horse battery")
    job = Job.objects.create(
        kind=Job.Kind.PATH, owner=owner, source_path="/photos", status=Job.Status.COMPLETED,
        progress_total=count, progress_current=count,
    )  # fmt: skip
    rng = random.Random(1)
    confidences = rng.choices(Confidence.values, weights=[60, 20, 10, 10], k=count)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    batch, previous_sha = [], ""
    for n in range(count):
        # Every hundredth file is a byte copy of the one before it.
        sha = previous_sha if n % 100 == 99 else f"{rng.getrandbits(256):064x}"
        taken = start + timedelta(seconds=rng.randrange(10 * 365 * 86400))
        batch.append(File(
            job=job, original_name=f"IMG_{n:06d}.JPG", path=f"/photos/{n // 1000:03d}/IMG_{n:06d}.JPG",
            folder=f"{n // 1000:03d}", status=File.Status.DONE, attempts=1, processed_at=taken,
            size=rng.randrange(1_000_000, 5_000_000), sha256=sha, mime_type="image/jpeg", width=4032, height=3024,
            camera="iPhone XR", captured_at=taken, capture_offset=120, confidence=confidences[n],
            capture_source="exif:DateTimeOriginal",
            capture_evidence=[
                {"source": "exif:DateTimeOriginal", "raw": taken.strftime("%Y:%m:%d %H:%M:%S"), "value": taken.isoformat()},
                {"source": "filesystem", "raw": "", "value": (taken + timedelta(days=3)).isoformat()},
            ],
            perceptual_hash=f"{rng.getrandbits(64):016x}", thumbnail=f"thumbnails/{job.id}/{n}.webp",
        ))  # fmt: skip
        previous_sha = sha
        if len(batch) == 5000:
            File.objects.bulk_create(batch)
            batch = []
    File.objects.bulk_create(batch)
    return owner, job


def time_calls(client, url: str) -> tuple[float, int, int]:
    """Median milliseconds of CALLS calls (after a warm-up), the queries of one, its bytes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # the first request of a process also loads what Django loads lazily
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries)  # now: the log it reads is emptied by the next request
    assert response.status_code == 200, (url, response.status_code, response.content[:200])
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), query_count, len(response.content)


def api_calls(count: int) -> bool:
    from django.test import Client

    started = time.perf_counter()
    owner, job = make_job(count)
    print(f"{count:,} Files in one job, created in {time.perf_counter() - started:.1f} s (bulk_create)")
    client = Client()
    client.force_login(owner)
    base = f"/api/jobs/{job.id}"
    calls = [
        f"{base}/files",
        f"{base}/files?page={count // 50}",
        f"{base}/files?per_page=200&page={count // 400}",
        f"{base}/files?confidence=low&page=20",
        f"{base}/files?group_by=confidence",
        f"{base}/duplicates",
        f"{base}/duplicates?kind=all",
    ]
    fast = True
    print(f"  {'call':<48} {'median':>9} {'queries':>8} {'bytes':>10}")
    for url in calls:
        ms, queries, size = time_calls(client, url)
        fast &= ms < TARGET_MS
        flag = "" if ms < TARGET_MS else f"  over {TARGET_MS} ms"
        print(f"  GET {url.removeprefix(base) or '/':<44} {ms:7.1f} ms {queries:8} {size:10,}{flag}")
    return fast


def scan_and_record(count: int, root) -> None:
    from jobs.services.imports import create_path_job

    for n in range(count):
        folder = root / f"{n // 1000:03d}"
        if n % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"IMG_{n:06d}.JPG").write_bytes(b"\xff\xd8\xff")
    tracemalloc.start()
    started = time.perf_counter()
    job = create_path_job(path=root, enqueue=True)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    from django_q.models import OrmQ

    print(f"Scanning and recording a folder of {count:,} files (import_path's work, queue included):")
    print(f"  {job.progress_total:,} Files and {OrmQ.objects.count():,} queued batches in {elapsed:.1f} s"
          f" (under tracemalloc, which slows Python down)")  # fmt: skip
    print(f"  peak Python heap: {peak / 1024**2:.1f} MB")


def main() -> int:
    with scratch("database") as tmp:
        setup_django(tmp / "data")
        fast = api_calls(env_count("BENCH_DB_FILES", 100_000))
        print()
        scan_and_record(env_count("BENCH_SCAN_FILES", 100_000), tmp / "folder")
    return 0 if fast else 1


if __name__ == "__main__":
    sys.exit(main())
