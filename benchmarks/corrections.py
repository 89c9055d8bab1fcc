"""A capture-time change over 10,000 files, and its undo, on SQLite in a fresh data dir.

The files are a realistic job (each with its own time, evidence and SHA-256, a copy of every
hundredth picture in another job of the owner, which follows the correction). Timed: the shift
through the service (as the API runs it) and the undo of that change. Target: each under 2 s.
BENCH_CORRECTION_FILES changes the size (default 10,000)."""

import sys
import time
from datetime import UTC, datetime, timedelta

from benchmarks._common import env_count, scratch
from benchmarks.database_scale import setup_django

TARGET_S = 2.0


def make_job(owner, count: int):
    from jobs.models import File, Job

    start = datetime(2009, 7, 14, 10, tzinfo=UTC)
    jobs = [Job.objects.create(owner=owner, kind=Job.Kind.PATH, status=Job.Status.COMPLETED) for _ in range(2)]
    rows = []
    for n in range(count):
        at = start + timedelta(seconds=37 * n)
        evidence = [
            {"source": "exif:DateTimeOriginal", "raw": f"{at:%Y:%m:%d %H:%M:%S}", "value": at.isoformat(), "accepted": True, "note": "offset unknown: read in UTC"},
            {"source": "filesystem", "raw": "2021-03-01T12:00:00+00:00", "value": "2021-03-01T12:00:00+00:00", "accepted": True, "note": ""},
        ]  # fmt: skip
        fields = dict(
            status=File.Status.DONE, sha256=f"{n:064x}", size=3_000_000, mime_type="image/jpeg", captured_at=at,
            capture_offset=0, confidence="low", capture_source="exif:DateTimeOriginal", capture_precision="second",
            capture_evidence=evidence, camera="SONY DSC-W55",
        )  # fmt: skip
        rows.append(File(job=jobs[0], original_name=f"DSC{n:05d}.JPG", path=f"/photos/DSC{n:05d}.JPG", **fields))
        if n % 100 == 0:
            rows.append(File(job=jobs[1], original_name=f"copy-{n}.JPG", path=f"/copies/DSC{n:05d}.JPG", **fields))
    File.objects.bulk_create(rows, batch_size=2000)
    return list(File.objects.filter(job=jobs[0]).values_list("id", flat=True))


def main() -> int:
    count = env_count("BENCH_CORRECTION_FILES", 10_000)
    with scratch("corrections") as data_dir:
        setup_django(data_dir)
        from django.contrib.auth import get_user_model

        from jobs.services.corrections import correct_capture_times, parse_correction, undo_change

        owner = get_user_model().objects.create_user("bench")
        ids = make_job(owner, count)
        started, cpu = time.perf_counter(), time.process_time()
        outcome = correct_capture_times(user=owner, file_ids=ids, correction=parse_correction({"shift_seconds": 3600}))
        changed, changed_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        restored, kept = undo_change(user=owner, change_id=outcome.change.id)
        undone, undone_cpu = time.perf_counter() - started, time.process_time() - cpu
    # CPU time too: on a busy machine the wall-clock time says more about the neighbours.
    print(f"shift of {count:,} files ({len(outcome.updated):,} with their copies): {changed:.2f} s, "
          f"{changed_cpu:.2f} s of CPU (target < {TARGET_S:g} s)")
    print(f"undo of that change ({len(restored):,} restored, {len(kept)} kept): {undone:.2f} s, "
          f"{undone_cpu:.2f} s of CPU (target < {TARGET_S:g} s)")
    return 0 if changed < TARGET_S and undone < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
