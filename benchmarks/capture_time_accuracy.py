"""Capture-time accuracy against exiftool, on the real-media corpus.

    python benchmarks/capture_time_accuracy.py [corpus_dir]

For every file for which exiftool (MANIFEST.tsv) read a DateTimeOriginal or a QuickTime date, our
chosen time must equal exiftool's: DateTimeOriginal as a wall-clock time (plus sub-seconds and
OffsetTimeOriginal where present), QuickTime CreationDate with its offset, QuickTime CreateDate as
UTC. Clues are built as the pipeline builds them (one Pillow open, or PyAV plus container_tags) on
a temporary copy. Prints each disagreement and the agreement rate; always exits 0."""

import csv
import re
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import pillow_heif  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks._common import CORPUS  # noqa: E402
from jobs.pipeline.salvage import salvaged_metadata  # noqa: E402
from jobs.pipeline.timestamps import Clues, container_tags, image_iptc, read_capture_time  # noqa: E402

ZONE = ZoneInfo("UTC")
_EXIFTOOL_TIME = re.compile(
    r"(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?(?: DST)?", re.ASCII
)


def expected_time(row: dict) -> tuple[str, datetime | str]:
    """(kind, value): kind "wall" (compare the wall clock), "local" (instant and offset), "instant",
    or "not a time" with exiftool's raw text when exiftool's DateTimeOriginal is no date at all."""
    if raw := row["DateTimeOriginal"]:
        match = _EXIFTOOL_TIME.fullmatch(raw)
        if match and int(match[1]):
            year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
            fraction = match[7] or row["SubSecTimeOriginal"]
            micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
            value = datetime(year, month, day, hour, minute, second, micro)
            offset = match[8] or row["OffsetTimeOriginal"]
            if offset == "Z":
                return "instant", value.replace(tzinfo=timezone.utc)
            if offset:
                sign = -1 if offset[0] == "-" else 1
                delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
                return "local", value.replace(tzinfo=timezone(sign * delta))
            return "wall", value
        if not (row["QuickTimeCreationDate"] or row["QuickTimeCreateDate"]):
            return "not a time", raw
    if raw := row["QuickTimeCreationDate"]:
        return "local", datetime.strptime(raw, "%Y:%m:%d %H:%M:%S%z")
    raw = row["QuickTimeCreateDate"]
    return "instant", datetime.strptime(raw, "%Y:%m:%d %H:%M:%S").replace(tzinfo=timezone.utc)


def clues_for(path: Path, *, name: str, folders: tuple[str, ...], video: bool) -> Clues:
    """As jobs/pipeline builds them: one Pillow open for a picture; PyAV's container then
    video-stream tags over container_tags() for a video. A file that does not open gives none."""
    modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    common = {"name": name, "folders": folders, "path": path, "file_modified": modified}
    if video:
        tags = container_tags(path)
        try:
            with av.open(str(path), metadata_errors="replace") as container:
                found = {k.lower(): v for k, v in container.metadata.items()}
                stream = next((s for s in container.streams if s.type == "video"), None)
                if stream is not None:
                    found |= {k.lower(): v for k, v in stream.metadata.items() if k.lower() not in found}
                tags |= found
        except (av.FFmpegError, EOFError, OSError, ValueError, IndexError):
            pass
        return Clues(video_tags=tags, **common)
    try:
        with Image.open(path) as im:
            return Clues(exif=im.getexif(), xmp=im.info.get("xmp"), iptc=image_iptc(im), **common)
    except (OSError, SyntaxError, ValueError, EOFError):
        # As the pipeline does for a picture it cannot open: what metadata survived.
        return Clues(**salvaged_metadata(path), **common)


def agrees(kind: str, expected, capture) -> bool:
    if kind == "not a time":
        return not any(e.source == "exif:DateTimeOriginal" and e.accepted for e in capture.evidence)
    ours = capture.value
    if ours is None:
        return False
    if not expected.microsecond:
        ours = ours.replace(microsecond=0)  # exiftool gave whole seconds
    if kind == "wall":
        return ours.replace(tzinfo=None) == expected
    if kind == "local":
        return ours == expected and ours.utcoffset() == expected.utcoffset()
    return ours == expected


def main(corpus: Path) -> int:
    manifest = corpus / "MANIFEST.tsv"
    if not manifest.is_file():
        print(f"No corpus at {corpus} (MANIFEST.tsv missing); nothing to measure.")
        return 0
    pillow_heif.register_heif_opener()
    with open(manifest, encoding="utf-8", newline="") as f:
        rows = [
            row
            for row in csv.DictReader(f, delimiter="\t")
            if row["DateTimeOriginal"] or row["QuickTimeCreationDate"] or row["QuickTimeCreateDate"]
        ]
    agreed, rejected_too, spent, disagreements = 0, 0, 0.0, []
    with tempfile.TemporaryDirectory(prefix="capture-time-") as temp:
        for row in rows:
            relative = Path(row["path"])
            copy = Path(temp) / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(corpus / relative, copy)
            video = row["mime"].startswith("video/")
            clues = clues_for(copy, name=relative.name, folders=relative.parent.parts, video=video)
            started = time.perf_counter()
            capture = read_capture_time(clues, zone=ZONE)
            spent += time.perf_counter() - started
            kind, expected = expected_time(row)
            if agrees(kind, expected, capture):
                agreed += 1
                rejected_too += kind == "not a time"
            else:
                disagreements.append((row["path"], kind, expected, capture))
    for path, kind, expected, capture in disagreements:
        shown = capture.value.isoformat() if capture.value else "none"
        expected = expected if isinstance(expected, str) else expected.isoformat()
        print(f"DISAGREE {path}\n  exiftool ({kind}): {expected}")
        print(f"  ours: {shown} [{capture.source or '-'}, {capture.confidence}]")
    total = len(rows)
    print(
        f"{agreed}/{total} files agree with exiftool ({100 * agreed / total:.1f} %); "
        f"{rejected_too} of them have a DateTimeOriginal that is no date, which we reject too; "
        f"{len(disagreements)} disagree."
    )
    print(f"read_capture_time: {1000 * spent / total:.2f} ms per file (zone {ZONE}).")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS))
