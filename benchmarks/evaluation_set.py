"""The labelled evaluation set for near-duplicate detection, built at run time from the corpus.

Each real photo of the corpus becomes one *picture*: the original plus the copies people's libraries
actually hold (a messenger's resized and recompressed copies, a PNG screenshot, a HEIC export, a
slightly cropped or brightened edit). Every pair inside a picture is a same-picture pair; every pair
across pictures is a different-picture pair, including the look-alike shots the corpus holds (a
burst, one colour chart photographed by many cameras). Nothing is written next to the corpus: the
originals are copied into the output folder before anything opens them.
"""

import csv
import hashlib
import io
import random
import shutil
import subprocess
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import pillow_heif
from PIL import Image, ImageEnhance, ImageOps

from benchmarks._common import CORPUS
from jobs.pipeline.near_duplicates import NearGroup, Picture
from jobs.pipeline.perceptual import detail, fingerprint, flattened, shot_identity
from jobs.pipeline.picture_identity import heif_identity, jpeg_identity, pixel_identity
from jobs.pipeline.thumbnails import render_thumbnail

pillow_heif.register_heif_opener()
# Some corpus files carry damaged EXIF, which is why they are there; Pillow reads past it and warns
# on every open, which would bury the figures.
warnings.filterwarnings("ignore", message="(Corrupt EXIF data|Metadata Warning)", category=UserWarning)


# The set holds photos the pipeline decodes, in the formats people import, that are large enough to
# be a picture rather than a placeholder (the ExifTool samples are 8x8 px).
FORMATS = {"image/jpeg", "image/heic", "image/heif", "image/png"}
MIN_LONG_SIDE = 320

# Originals of the corpus that are the same picture although their bytes differ, found by looking
# at every pair whose fingerprints are close and labelled by eye:
SAME_PICTURE = [
    # The same iPhone photo with its EXIF block moved to the end of the file.
    {"drewnoakes/heic/IMG_2927.HEIC", "drewnoakes/heic/exif-at-eof.heic"},
    # One telescope picture of Jupiter; the second copy adds an offset to its capture time.
    {"drewnoakes/jpg/Issue 600 (1).jpg", "drewnoakes/jpg/Issue 600 (2).jpg"},
    # The same portrait stored rotated (EXIF orientation 6) with orientation labels drawn on it:
    # an annotated copy, and the check that orientation is applied before fingerprinting.
    {"immich/metadata/faces/portrait.jpg", "immich/metadata/faces/portrait-orientation-6.jpg"},
]
# Look-alikes are different pictures of one subject, kept apart by their capture records and, for a
# copy that lost its record, by the grouping's margin rather than by the fingerprint alone. Every
# digicam/ photo shows the same colour chart, shot by many cameras: the iPhone XR burst IMG_3580-3582
# (same second, other sub-second) and IMG_3578/3589 seconds apart, the Canon EOS RP _MG_0635/_MG_0636
# and EOS 5D _K6A7945/_K6A7946 pairs (two exposures each, 9 and 14 s apart), the HP, Nikon, Panasonic
# and Sony pairs. canon_hdr_NO/_YES are the camera's single exposure and its HDR merge of the same
# lamp, 26 s apart and framed differently: two photos a person keeps, so two pictures.
LOOK_ALIKE_FOLDER = "digicam/"
LOOK_ALIKE_PAIR = {"exif-samples/jpg/hdr/canon_hdr_NO.jpg", "exif-samples/jpg/hdr/canon_hdr_YES.jpg"}


@dataclass(frozen=True)
class Original:
    path: str  # relative to the corpus
    sha256: str
    picture: str  # the label shared by every copy of the same picture


@dataclass(frozen=True)
class Sample:
    path: Path  # the file in the output folder
    original: str  # the corpus path it was made from
    picture: str
    variant: str
    sha256: str


def subject(sample: Sample) -> str:
    """What a sample shows, as far as look-alikes go: the chart, the lamp, or its own picture."""
    if sample.original.startswith(LOOK_ALIKE_FOLDER):
        return "colour chart"
    if sample.original in LOOK_ALIKE_PAIR:
        return "lamp"
    return sample.picture


def originals(corpus: Path, only: Iterable[str] | None = None) -> list[Original]:
    """The corpus photos of the set, one per distinct sha256 (byte-identical copies are exact
    duplicates, found by the exact grouping, not this one). `only` restricts it to those paths."""
    label = {path: min(group) for group in SAME_PICTURE for path in group}
    wanted = set(only) if only is not None else None
    found, seen = [], set()
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as manifest:
        for row in csv.DictReader(manifest, delimiter="\t"):
            path = row["path"]
            if wanted is not None and path not in wanted:
                continue
            if path.startswith("broken/") or row["decodes"] != "yes" or row["mime"] not in FORMATS:
                continue
            if max(int(row["ImageWidth"] or 0), int(row["ImageHeight"] or 0)) < MIN_LONG_SIDE:
                continue
            if row["sha256"] in seen:
                continue
            seen.add(row["sha256"])
            found.append(Original(path=path, sha256=row["sha256"], picture=label.get(path, path)))
    return found


@dataclass(frozen=True)
class Variant:
    name: str
    edit: Callable[[Image.Image, random.Random], Image.Image]
    format: str
    suffix: str
    # A messenger or a screenshot drops the capture record; an export or an edit keeps it.
    keeps_metadata: bool
    options: dict = field(default_factory=dict)  # for Image.save


def _scale(factor: float) -> Callable[[Image.Image, random.Random], Image.Image]:
    def scale(image: Image.Image, _: random.Random) -> Image.Image:
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        return image.resize(size, Image.Resampling.LANCZOS)

    return scale


def _crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """Cut 3-5 % off the width and off the height, shared unevenly between opposite edges, as a
    person straightening or trimming a photo does."""
    width, height = image.size
    cut_x, cut_y = round(width * rng.uniform(0.03, 0.05)), round(height * rng.uniform(0.03, 0.05))
    left, top = round(cut_x * rng.random()), round(cut_y * rng.random())
    return image.crop((left, top, width - (cut_x - left), height - (cut_y - top)))


def _brighten(image: Image.Image, _: random.Random) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(1.2)


def _same(image: Image.Image, _: random.Random) -> Image.Image:
    return image


# x265's ultrafast preset: real HEVC coding, in a seventh of the default's seconds per photo.
ULTRAFAST = {"preset": "ultrafast"}

VARIANTS = [
    Variant("half", _scale(1 / 2), "JPEG", ".jpg", keeps_metadata=False, options={"quality": 85}),
    Variant("quarter", _scale(1 / 4), "JPEG", ".jpg", keeps_metadata=False, options={"quality": 85}),
    Variant("quality20", _same, "JPEG", ".jpg", keeps_metadata=False, options={"quality": 20}),
    # compress_level 1: the pixels are what matter, and level 6 takes seconds per 12-MP photo.
    Variant("png", _same, "PNG", ".png", keeps_metadata=False, options={"compress_level": 1}),
    Variant("heic", _same, "HEIF", ".heic", keeps_metadata=True, options={"quality": 60, "enc_params": ULTRAFAST}),
    Variant("crop", _crop, "JPEG", ".jpg", keeps_metadata=True, options={"quality": 90}),
    Variant("bright", _brighten, "JPEG", ".jpg", keeps_metadata=True, options={"quality": 90}),
]


# Copies that differ from the original in metadata alone, made with exiftool as people make them:
# a time-zone fix (its capture record then differs from the original's), stripped EXIF (no record),
# GPS added (the record kept). Their picture data is the original's, byte for byte.
METADATA_VARIANTS = {
    "dates": ["-AllDates+=1"],
    "stripped": ["-all="],
    "gps": ["-GPSLatitude=48.137", "-GPSLatitudeRef=N", "-GPSLongitude=11.575", "-GPSLongitudeRef=E"],
}
VARIANT_NAMES = [variant.name for variant in VARIANTS] + list(METADATA_VARIANTS)
# The variants that keep the original's capture record (or one that differs only by a time-zone fix).
KEEP_A_RECORD = [variant.name for variant in VARIANTS if variant.keeps_metadata] + ["dates", "gps"]


def build(corpus: Path, out: Path, photos: list[Original], *, workers: int = 2) -> list[Sample]:
    """Copy each original into `out` and write its variants there; returns every sample."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(corpus, out, number, photo) for number, photo in enumerate(photos)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [sample for samples in pool.map(_build_one, jobs) for sample in samples]


def _build_one(job: tuple[Path, Path, int, Original]) -> list[Sample]:
    corpus, out, number, photo = job
    folder = out / f"{number:04d}"
    folder.mkdir(exist_ok=True)
    copy = folder / ("original" + Path(photo.path).suffix)
    shutil.copyfile(corpus / photo.path, copy)
    samples = [Sample(copy, photo.path, photo.picture, "original", photo.sha256)]
    with Image.open(copy) as image:
        # Bake the orientation into the pixels as every editor does; the kept EXIF then says 1.
        oriented = ImageOps.exif_transpose(image)
        exif = oriented.getexif()
        oriented = flattened(oriented)
    rng = random.Random(photo.sha256)
    for variant in VARIANTS:
        target = folder / (variant.name + variant.suffix)
        exif_option = {"exif": exif} if variant.keeps_metadata else {}
        variant.edit(oriented, rng).save(target, variant.format, **variant.options, **exif_option)
        samples.append(Sample(target, photo.path, photo.picture, variant.name, _sha256(target)))
    for name, arguments in METADATA_VARIANTS.items():
        target = folder / (name + copy.suffix)
        shutil.copyfile(copy, target)
        written = subprocess.run(
            ["exiftool", "-q", "-q", "-m", "-overwrite_original", *arguments, str(target)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # exiftool refuses to write a few damaged files (an unreadable InteropIFD) and breaks one
        # (Issue 308.jpg, whose JPEG markers are damaged, loses its start): no such copy.
        if written.returncode == 0 and _opens(target):
            samples.append(Sample(target, photo.path, photo.picture, name, _sha256(target)))
        else:
            target.unlink()
    return samples


def _opens(path: Path) -> bool:
    try:
        with Image.open(path, formats=["JPEG", "PNG", "GIF", "HEIF"]):
            return True
    except OSError:
        return False


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def reduced_decode(path: Path) -> tuple[Image.Image, Image.Exif]:
    """What the import pipeline hands to the fingerprint: one decode, reduced by the JPEG decoder
    to no less than 320 px on the long side, EXIF orientation applied."""
    with Image.open(path, formats=["JPEG", "PNG", "GIF", "HEIF"]) as image:
        exif = image.getexif()
        image.draft("RGB", (320, 320))
        return ImageOps.exif_transpose(image), exif


def library(samples: list[Sample], *, workers: int = 2) -> tuple[list[Picture], dict[int, bytes]]:
    """The samples as the grouping sees them, the picture with id i is samples[i], and their
    details for the grouping's closer look (`look=details.get`)."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        readings = list(pool.map(_read, [sample.path for sample in samples], chunksize=8))
    pictures = [
        Picture(id=number, fingerprint=fingerprint_ or "", sha256=sample.sha256, shot=shot, picture=picture)
        for number, (sample, (fingerprint_, shot, picture, _)) in enumerate(zip(samples, readings))
    ]
    return pictures, {number: reading[3] for number, reading in enumerate(readings)}


def _read(path: Path) -> tuple[str | None, str | None, str | None, bytes]:
    image, exif = reduced_decode(path)
    return fingerprint(image), shot_identity(exif), picture_identity(path, image), thumbnail_detail(image)


def thumbnail_detail(image: Image.Image) -> bytes:
    """The detail the library reads for its closer look: that of the file's thumbnail as the
    pipeline renders it (jobs.services.duplicates)."""
    with Image.open(io.BytesIO(render_thumbnail(image))) as thumbnail:
        return detail(thumbnail)


def picture_identity(path: Path, decoded: Image.Image) -> str | None:
    """The picture identity the pipeline records (jobs.pipeline.picture_identity)."""
    with open(path, "rb") as f:
        header = f.read(16)
    if header.startswith(b"\xff\xd8"):
        return jpeg_identity(path.read_bytes())
    if header[4:8] == b"ftyp":
        return heif_identity(path)
    return pixel_identity(decoded)


@dataclass
class Score:
    positives: int  # same-picture pairs in the set
    found: int  # same-picture pairs put in one group
    wrong: Counter  # pairs of different pictures put in one group, by the two originals

    @property
    def precision(self) -> float:
        grouped = self.found + sum(self.wrong.values())
        return self.found / grouped if grouped else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0


def score(samples: list[Sample], groups: list[NearGroup]) -> Score:
    """Precision and recall over pairs: a group of n files claims n(n-1)/2 same-picture pairs."""
    per_picture = Counter(sample.picture for sample in samples)
    result = Score(positives=sum(n * (n - 1) // 2 for n in per_picture.values()), found=0, wrong=Counter())
    for group in groups:
        for a, b in combinations([samples[i] for i in group.ids], 2):
            if a.picture == b.picture:
                result.found += 1
            else:
                result.wrong[tuple(sorted((a.original, b.original)))] += 1
    return result


def corpus_dir() -> Path | None:
    """The corpus folder, from MEDIAIMPORT_CORPUS or its usual place; None when it is absent."""
    return CORPUS if (CORPUS / "MANIFEST.tsv").is_file() else None
