"""Near-duplicate detection: quality on the labelled evaluation set, and grouping speed at scale.

    python benchmarks/near_duplicates.py [corpus_dir]

1. Builds the evaluation set (benchmarks/evaluation_set.py) from the corpus into a temporary
   folder, fingerprints every sample as the pipeline does, groups them, and prints the precision and
   recall over same-picture pairs, per variant, and for neighbouring thresholds.
2. Groups 10,000 to 100,000 synthetic fingerprints and prints the time and peak memory.
Exits 0 once the figures are printed; skips part 1 with a message when the corpus is absent.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import evaluation_set  # noqa: E402
from jobs.pipeline.near_duplicates import (  # noqa: E402
    INDEX_RADIUS,
    MAX_DISTANCE,
    MAX_SPREAD,
    Picture,
    fingerprint_words,
    group_near_duplicates,
    near_pairs,
)
from jobs.pipeline.perceptual import distance  # noqa: E402

WORKERS = min(2, os.cpu_count() or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, help="the media corpus (default: MEDIAIMPORT_CORPUS)")
    parser.add_argument("--sizes", default="10000,30000,100000", help="library sizes to time, comma-separated")
    args = parser.parse_args()
    corpus = args.corpus or evaluation_set.corpus_dir()
    if corpus is None or not (corpus / "MANIFEST.tsv").is_file():
        print("Evaluation skipped: no corpus (pass its folder or set MEDIAIMPORT_CORPUS).")
    else:
        evaluate(corpus)
    print()
    time_grouping([int(size) for size in args.sizes.split(",")])


# Part 1: quality.


def evaluate(corpus: Path) -> None:
    photos = evaluation_set.originals(corpus)
    with tempfile.TemporaryDirectory(prefix="near-duplicates-") as folder:
        started = time.perf_counter()
        samples = evaluation_set.build(corpus, Path(folder), photos, workers=WORKERS)
        built = time.perf_counter() - started
        library = evaluation_set.library(samples, workers=WORKERS)
    print(
        f"Evaluation set: {len(photos)} corpus photos, {len({s.picture for s in samples})} distinct pictures, "
        f"{len(samples)} files (each photo and {len(evaluation_set.VARIANTS)} variants), built in {built:.0f} s"
    )
    missing = sorted({s.original for s, p in zip(samples, library) if not p.fingerprint})
    if missing:
        print(f"No fingerprint (too small or featureless), some or all files of: {', '.join(missing)}")
    _print_variant_distances(samples, library)

    print(f"\nThresholds: MAX_DISTANCE={MAX_DISTANCE}, INDEX_RADIUS={INDEX_RADIUS}, MAX_SPREAD={MAX_SPREAD}")
    groups = group_near_duplicates(library)
    score = evaluation_set.score(samples, groups)
    print(
        f"Same-picture pairs: precision {score.precision:.4f}, recall {score.recall:.4f} "
        f"({score.found} of {score.positives} found, {sum(score.wrong.values())} pairs of different pictures)"
    )
    for (a, b), count in score.wrong.most_common(10):
        print(f"  {count} wrong pairs between copies of {a} and {b}")
    _print_variants_found(samples, groups)

    print("\nNeighbouring thresholds: precision / recall")
    for name, pictures, options in _sweep(library):
        score = evaluation_set.score(samples, group_near_duplicates(pictures, **options))
        print(f"  {name:<34} {score.precision:.4f} / {score.recall:.4f}")


def _print_variant_distances(samples, library) -> None:
    originals = {s.original: p.fingerprint for s, p in zip(samples, library) if s.variant == "original"}
    per_variant = defaultdict(list)
    for sample, picture in zip(samples, library):
        original = originals[sample.original]
        if sample.variant != "original" and picture.fingerprint and original:
            per_variant[sample.variant].append(distance(picture.fingerprint, original))
    print("Fingerprint distance to the original, in bits of 192: median, 95th percentile, largest")
    for variant, distances in per_variant.items():
        distances.sort()
        print(
            f"  {variant:<10} {median(distances):>4.0f} {distances[int(0.95 * (len(distances) - 1))]:>4}"
            f" {distances[-1]:>4}"
        )


def _print_variants_found(samples, groups) -> None:
    """How many copies of each kind ended in the group of their original."""
    found = Counter()
    for group in groups:
        members = [samples[i] for i in group.ids]
        with_original = {m.picture for m in members if m.variant == "original"}
        found.update(m.variant for m in members if m.variant != "original" and m.picture in with_original)
    total = Counter(s.variant for s in samples if s.variant != "original")
    print("Copies grouped with their original: " + ", ".join(f"{v} {found[v]}/{n}" for v, n in total.items()))


def _sweep(library):
    for max_distance in (20, 24, 28, 36, 40):
        options = {"max_distance": max_distance, "max_spread": max(MAX_SPREAD, max_distance)}
        yield f"MAX_DISTANCE={max_distance}", library, options
    for index_radius in (3, 7, 9):
        yield f"INDEX_RADIUS={index_radius}", library, {"index_radius": index_radius}
    for max_spread in (MAX_DISTANCE, 192):
        yield f"MAX_SPREAD={max_spread}", library, {"max_spread": max_spread}
    yield "capture records ignored", [replace(picture, shot=None) for picture in library], {}


# Part 2: speed.


def synthetic_library(size: int, seed: int = 8) -> list[Picture]:
    """A library shaped like a family's: most photos unrelated, some bursts of look-alike shots,
    and a fifth of the files copies of another (resized, re-sent, edited; a few byte for byte).
    The hashes are random bits, which spreads them over the index evenly; docs/duplicates.md
    discusses what real, less even, hashes cost."""
    rng = random.Random(seed)
    pictures: list[Picture] = []

    def add(fingerprint_: str, shot: str | None, sha256: str | None = None) -> None:
        number = len(pictures)
        pictures.append(Picture(number, fingerprint_, sha256 or f"{number:064x}", shot))

    while len(pictures) < size:
        roll = rng.random()
        base = [rng.getrandbits(64) for _ in range(3)]
        if roll < 0.02:  # a burst of five shots a second apart
            for shot in range(5):
                add(_near(rng, base, 3), f"Phone|2024:05:{len(pictures) % 28 + 1:02d} 10:00:{shot:02d}|")
        else:
            add(_hex(base), f"Camera|{len(pictures)}|")
            if roll < 0.2:  # and one or two copies of it
                for _ in range(rng.randint(1, 2)):
                    if rng.random() < 0.2:
                        add(pictures[-1].fingerprint, pictures[-1].shot, pictures[-1].sha256)
                    else:
                        add(_near(rng, base, 6), None)
    return pictures[:size]


def _near(rng: random.Random, words: list[int], bits: int) -> str:
    """A fingerprint up to `bits` bits away from `words` in each hash."""
    flipped = []
    for word in words:
        for _ in range(rng.randint(0, bits)):
            word ^= 1 << rng.randrange(64)
        flipped.append(word)
    return _hex(flipped)


def _hex(words: list[int]) -> str:
    return "".join(f"{word:016x}" for word in words)


def time_grouping(sizes: list[int]) -> None:
    print("Grouping synthetic libraries (best of 3 runs; peak memory of the grouping, by tracemalloc):")
    print(f"  {'pictures':>9} {'near pairs':>10} {'groups':>7} {'seconds':>8} {'peak MiB':>9}")
    for size in sizes:
        library = synthetic_library(size)
        pairs = len(near_pairs(fingerprint_words([p.fingerprint for p in library]))[0])
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            groups = group_near_duplicates(library)
            timings.append(time.perf_counter() - started)
        tracemalloc.start()
        group_near_duplicates(library)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"  {size:>9,} {pairs:>10,} {len(groups):>7,} {min(timings):>8.2f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
