"""Files/s of the per-file pipeline (jobs.pipeline.analyse, one process, one core) for every format
we import: the corpus's HEIC/HEIF photos, AVIF, WebP and videos, copied to a temporary folder
first, and files made here as cameras and scanners make them (tests/media.py): 24-MP DNGs with a
1620x1080 preview (as Canon and Sony embed), with a full-size one (as Nikon and Fujifilm do) and
with none, beside JPEGs of those previews' sizes; TIFF scans; WebP; and a video in every container.

For HEIC the same files are also run through a full HEVC decode (what the pipeline did before it
used the embedded thumbnails). For RAW the picture's part (jobs.pipeline.raw.open_raw against
images.open_photo of a JPEG of the preview's size) is timed apart from the whole analysis, whose
SHA-256 of a 35 MB file the JPEG does not pay, with our structure reader's share (size,
orientation, EXIF and the previews' places) and what LibRaw, no longer asked when a preview
serves, would add: opening the file, extracting its own preview.
A RAW from its preview meets its target when its picture costs no more than the JPEG's (within
10 %, this machine's noise), the two timed in alternate rounds; the script exits 1 otherwise."""

import csv
import shutil
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import rawpy
from PIL import Image, ImageOps

from benchmarks._common import TWELVE_MEGAPIXEL_JPEGS, require_corpus, scratch
from jobs.pipeline import formats
from jobs.pipeline.analysis import analyse, configure_decoders
from jobs.pipeline.formats import by_name
from jobs.pipeline.images import open_photo
from jobs.pipeline.perceptual import fingerprint
from jobs.pipeline.raw import open_raw, read_structure
from jobs.pipeline.thumbnails import render_thumbnail
from tests import media  # the same makers the tests use

ROUNDS = 2
PAIRED_ROUNDS = 15  # the RAW against the JPEG: a fraction of a second a round
COPIES = 4
SENSOR = (6000, 4000)
VIDEO_SIZE = (1280, 720)


def corpus_files(corpus: Path, *, video: bool, labels: set[str] | None = None) -> list[str]:
    """Corpus files outside broken/ that decode, of the wanted kind by name."""
    with open(corpus / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        row["path"] for row in rows
        if not row["path"].startswith("broken/") and row["decodes"] == "yes"
        and (media_type := by_name(row["path"])) is not None and media_type.is_video == video
        and (labels is None or media_type.label in labels)
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


def rate(work, files: list[Path], rounds: int = ROUNDS) -> float:
    """The best of a few rounds, in files/s; the first round also warms caches and imports."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for path in files:
            work(path)
        best = max(best, len(files) / (time.perf_counter() - started))
    return best


def paired_rates(work, files: list[Path], other, other_files: list[Path]) -> tuple[tuple[float, float], ...]:
    """The best and the median rates of two works measured in alternate rounds, so that the load
    of a shared machine, which changes from one second to the next, falls on both alike."""
    rates = [[], []]
    for _ in range(PAIRED_ROUNDS):
        for n, (w, f) in enumerate(((work, files), (other, other_files))):
            rates[n].append(rate(w, f, rounds=1))
    return tuple((max(r), statistics.median(r)) for r in rates)


def copies(first: Path, count: int = COPIES) -> list[Path]:
    """`count` byte-distinct copies (bytes appended after the end, which readers never reach)."""
    data = first.read_bytes()
    made = [first]
    for n in range(1, count):
        made.append(first.with_name(f"{first.stem}-{n}{first.suffix}"))
        made[-1].write_bytes(data + f"copy {n}".encode())
    return made


def made_files(corpus: Path, folder: Path) -> dict[str, list[Path]]:
    """Every kind of file the corpus lacks, from a real 12-MP photo scaled to each size."""
    with Image.open(corpus / TWELVE_MEGAPIXEL_JPEGS[0]) as im:
        photo = ImageOps.exif_transpose(im).convert("RGB").resize(SENSOR)
    small_preview, full_preview = media.jpeg(photo.resize((1620, 1080))), media.jpeg(photo)
    made = {}

    def put(label: str, name: str, write, count: int = COPIES) -> None:
        (folder / label).mkdir(parents=True)
        path = folder / label / name
        write(path)
        made[label] = copies(path, count)

    # The camera's record, in the RAWs and in the JPEGs they are compared with alike.
    exif = ("-DateTimeOriginal=2019:07:14 15:30:00", "-OffsetTimeOriginal=+02:00", "-Make=Testcam", "-Model=Testcam R1")

    def camera_jpeg(path: Path, data: bytes) -> None:
        path.write_bytes(data)
        media.exiftool(path, *exif)

    put("DNG 24 MP, 1620x1080 preview", "a.dng", lambda p: media.dng(p, photo, preview=small_preview, tags=exif))
    put("JPEG 1620x1080", "a.jpg", lambda p: camera_jpeg(p, small_preview))
    put("DNG 24 MP, full-size preview", "b.dng", lambda p: media.dng(p, photo, preview=full_preview, tags=exif))
    put("JPEG 6000x4000", "b.jpg", lambda p: camera_jpeg(p, full_preview))
    put("DNG 24 MP, no preview (developed)", "c.dng", lambda p: media.dng(p, photo, tags=exif), count=2)
    scan = photo.resize((3600, 2400))
    put("TIFF scan 3600x2400, 8-bit LZW", "scan.tif", lambda p: scan.save(p, compression="tiff_lzw"))
    put("TIFF scan 3600x2400, 16-bit", "scan16.tif", lambda p: media.tiff_16bit(p, scan))
    put("WebP 1600x1067", "photo.webp", lambda p: photo.resize((1600, 1067)).save(p, quality=80))
    frame = photo.resize(VIDEO_SIZE)
    for name, muxer, codec, options in (
        ("clip.m4v", "ipod", "libx264", {}),
        ("clip.3gp", "3gp", "mpeg4", {}),
        ("clip.webm", "webm", "libvpx", {}),
        ("clip.mts", "mpegts", "libx264", {"mpegts_m2ts_mode": "1"}),
        ("clip.mpg", "mpeg", "mpeg2video", {}),
        ("clip.wmv", "asf", "wmv2", {}),
    ):
        size = (352, 288) if muxer == "3gp" else VIDEO_SIZE
        put(
            f"video {name.split('.')[1].upper()} {size[0]}x{size[1]}, 3 s", name,
            lambda p, m=muxer, c=codec, o=options, s=size: media.video(
                p, format=m, codec=c, image=frame.resize(s), frames=75, options=o
            ),
        )  # fmt: skip
    return made


def copy_corpus(corpus: Path, folder: Path, relatives: list[str]) -> list[Path]:
    files = []
    for n, rel in enumerate(relatives):
        files.append(folder / f"{n:03d}" / Path(rel).name)
        files[-1].parent.mkdir(parents=True)
        shutil.copy2(corpus / rel, files[-1])
    return files


def main() -> int:
    corpus = require_corpus()
    configure_decoders(max_image_pixels=200_000_000)
    zone = ZoneInfo("UTC")

    def ours(path: Path) -> None:
        analyse(path, name=path.name, zone=zone, sidecars=False)

    with scratch("formats") as tmp:
        for label, video, labels in (
            ("HEIC/HEIF", False, {"HEIC"}), ("AVIF", False, {"AVIF"}), ("WebP", False, {"WebP"}), ("video", True, None)
        ):  # fmt: skip
            files = copy_corpus(corpus, tmp / label.replace("/", "-"), corpus_files(corpus, video=video, labels=labels))
            megabytes = sum(p.stat().st_size for p in files) / 1024**2
            print(f"corpus {label}: {len(files)} files, {megabytes:.0f} MB, one core")
            print(f"  pipeline:          {rate(ours, files):6.1f} files/s")
            if label == "HEIC/HEIF":
                carrying = [p for p in files if _served_by_thumbnail(p)]
                others = [p for p in files if p not in carrying]
                print(f"  {len(carrying)} carry a usable embedded thumbnail (a scaled copy, long side >= 320 px):")
                print(f"    pipeline:        {rate(ours, carrying):6.1f} files/s")
                print(f"    full decode:     {rate(full_decode, carrying):6.1f} files/s")
                print(f"  {len(others)} do not (decoded whole; many are tiny test images):")
                print(f"    pipeline:        {rate(ours, others):6.1f} files/s")

        made = made_files(corpus, tmp / "made")
        print("made here, one core (pipeline files/s):")
        for label, files in made.items():
            megabytes = files[0].stat().st_size / 1024**2
            print(f"  {label:<36} {megabytes:7.2f} MB  {rate(ours, files):6.1f} files/s")

        print("RAW from its preview against a JPEG of the preview's size, the picture's part (files/s):")
        missed = False
        for raw_label, jpeg_label in (
            ("DNG 24 MP, 1620x1080 preview", "JPEG 1620x1080"), ("DNG 24 MP, full-size preview", "JPEG 6000x4000")
        ):  # fmt: skip
            raws, jpegs = made[raw_label], made[jpeg_label]
            (raw_rate, raw_median), (jpeg_rate, jpeg_median) = paired_rates(
                lambda p: open_raw(p, formats.DNG), raws, open_photo, jpegs
            )
            verdict = "ok" if raw_rate >= 0.9 * jpeg_rate else "MISSED"
            missed |= verdict == "MISSED"
            print(f"  {raw_label:<36} {raw_rate:6.1f}  against {jpeg_label}: {jpeg_rate:6.1f}  {verdict}")
            print(f"    median rounds: {raw_median:6.1f}  against {jpeg_median:6.1f}"
                  f" ({100 * (1000 / raw_median - 1000 / jpeg_median) / (1000 / jpeg_median):+.1f} % time per file)")
            print("    per file:")
            structure = 1000 / rate(_structure, raws)
            print(f"      our reader: size, orientation, EXIF and previews' places: {structure:6.2f} ms")
            print(f"    what LibRaw would add, not asked when a preview serves: opening the file (size, orientation)"
                  f" {1000 / rate(_libraw_open, raws):6.2f} ms, its own preview (extract_thumb)"
                  f" {1000 / rate(_libraw_preview, raws):6.2f} ms")
    return 1 if missed else 0


def _libraw_open(path: Path) -> None:
    with rawpy.RawPy() as raw:
        raw.open_file(str(path))


def _libraw_preview(path: Path) -> None:
    with rawpy.RawPy() as raw:
        raw.open_file(str(path))
        raw.extract_thumb()


def _structure(path: Path) -> None:
    with open(path, "rb") as f:
        read_structure(f, formats.DNG)


if __name__ == "__main__":
    sys.exit(main())
