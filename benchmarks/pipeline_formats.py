"""Files/s of the per-file pipeline (jobs.pipeline.analyse, one process, one core) on the corpus's
HEIC/HEIF photos and its videos, copied to a temporary folder first.

For HEIC the same files are also run through a full HEVC decode (what the pipeline did before it
used the embedded thumbnails): Pillow's open, load, orientation, thumbnail and perceptual hash.
Videos: the poster comes from the first keyframe, never a full decode."""

import csv
import shutil
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps

from benchmarks._common import require_corpus, scratch
from jobs.pipeline.analysis import analyse, configure_decoders
from jobs.pipeline.formats import by_name
from jobs.pipeline.perceptual import fingerprint
from jobs.pipeline.thumbnails import render_thumbnail

ROUNDS = 2


def corpus_files(corpus: Path, *, video: bool) -> list[str]:
    """Corpus files outside broken/ that decode, of the wanted kind by name."""
    with open(corpus / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        row["path"] for row in rows
        if not row["path"].startswith("broken/") and row["decodes"] == "yes"
        and (media := by_name(row["path"])) is not None and media.is_video == video
        and (video or media.label == "HEIC")
    ]  # fmt: skip


def _served_by_thumbnail(path: Path) -> bool:
    """Whether pillow-heif finds an embedded thumbnail that is a true scaled copy of the image
    (same orientation, crop and colours) with a long side of 320 px or more."""
    with Image.open(path) as im:
        return im.draft("RGB", (320, 1) if im.width >= im.height else (1, 320)) is not None


def full_decode(path: Path) -> None:
    with Image.open(path) as im:
        image = ImageOps.exif_transpose(im.convert("RGB"))
    render_thumbnail(image)
    fingerprint(image)


def rate(work, files: list[Path]) -> float:
    """The best of a few rounds, in files/s; the first round also warms caches and imports."""
    best = 0.0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for path in files:
            work(path)
        best = max(best, len(files) / (time.perf_counter() - started))
    return best


def main() -> int:
    corpus = require_corpus()
    configure_decoders(max_image_pixels=200_000_000)
    zone = ZoneInfo("UTC")

    def ours(path: Path) -> None:
        analyse(path, name=path.name, zone=zone, sidecars=False)

    with scratch("formats") as tmp:
        for label, video in (("HEIC/HEIF", False), ("video", True)):
            files = []
            for n, rel in enumerate(corpus_files(corpus, video=video)):
                files.append(tmp / label.replace("/", "-") / f"{n:03d}" / Path(rel).name)
                files[-1].parent.mkdir(parents=True)
                shutil.copy2(corpus / rel, files[-1])
            megabytes = sum(p.stat().st_size for p in files) / 1024**2
            print(f"{label}: {len(files)} corpus files, {megabytes:.0f} MB, one core")
            print(f"  pipeline:          {rate(ours, files):6.1f} files/s")
            if not video:
                carrying = [p for p in files if _served_by_thumbnail(p)]
                others = [p for p in files if p not in carrying]
                print(f"  {len(carrying)} carry a usable embedded thumbnail (a scaled copy, long side >= 320 px):")
                print(f"    pipeline:        {rate(ours, carrying):6.1f} files/s")
                print(f"    full decode:     {rate(full_decode, carrying):6.1f} files/s")
                print(f"  {len(others)} do not (decoded whole; many are tiny test images):")
                print(f"    pipeline:        {rate(ours, others):6.1f} files/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
