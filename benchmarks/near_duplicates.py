"""Near-duplicate detection: quality on the labelled evaluation set, and grouping speed at scale.

    python benchmarks/near_duplicates.py [corpus_dir] [--speed-only]

1. Builds the evaluation set (benchmarks/evaluation_set.py) from the corpus into a temporary
   folder, fingerprints every sample as the pipeline does, groups them, and prints the precision and
   recall over same-picture pairs, per variant, and for neighbouring thresholds.
2. Groups 10,000 to 100,000 synthetic fingerprints and prints the time and peak memory.
Exits 0 once the figures are printed; skips part 1 with a message when the corpus is absent.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import evaluation_set  # noqa: E402
from jobs.pipeline.near_duplicates import (  # noqa: E402
    INDEX_RADIUS,
    INDEXED_WORD,
    MARGIN,
    MAX_DISTANCE,
    MAX_SPREAD,
    Picture,
    fingerprint_words,
    group_near_duplicates,
    index_candidates,
    near_pairs,
)
from jobs.pipeline.perceptual import distance, fingerprint  # noqa: E402

WORKERS = min(2, os.cpu_count() or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, help="the media corpus (default: MEDIAIMPORT_CORPUS)")
    parser.add_argument("--sizes", default="10000,30000,100000", help="library sizes to time, comma-separated")
    parser.add_argument("--speed-only", action="store_true", help="skip the evaluation (part 1), time the grouping")
    args = parser.parse_args()
    corpus = args.corpus or evaluation_set.corpus_dir()
    real_fingerprints = []
    if corpus is None or not (corpus / "MANIFEST.tsv").is_file():
        print("Evaluation skipped: no corpus (pass its folder or set MEDIAIMPORT_CORPUS).")
    elif args.speed_only:
        real_fingerprints = original_fingerprints(corpus)
    else:
        real_fingerprints = evaluate(corpus)
    print()
    time_grouping([int(size) for size in args.sizes.split(",")], real_fingerprints)


# Part 1: quality.


def evaluate(corpus: Path) -> list[str]:
    """Prints the figures; returns the fingerprints of the distinct pictures' originals."""
    photos = evaluation_set.originals(corpus)
    with tempfile.TemporaryDirectory(prefix="near-duplicates-") as folder:
        started = time.perf_counter()
        samples = evaluation_set.build(corpus, Path(folder), photos, workers=WORKERS)
        built = time.perf_counter() - started
        library, details = evaluation_set.library(samples, workers=WORKERS)
    print(
        f"Evaluation set: {len(photos)} corpus photos, {len({s.picture for s in samples})} distinct pictures, "
        f"{len(samples)} files (each photo and {len(evaluation_set.VARIANT_NAMES)} variants), built in {built:.0f} s"
    )
    missing = sorted({s.original for s, p in zip(samples, library) if not p.fingerprint})
    if missing:
        print(f"No fingerprint (too small or featureless), some or all files of: {', '.join(missing)}")
    _print_variant_distances(samples, library)
    _print_hash_choice(samples, library)

    print(
        f"\nThresholds: MAX_DISTANCE={MAX_DISTANCE}, INDEX_RADIUS={INDEX_RADIUS}, MAX_SPREAD={MAX_SPREAD}, "
        f"MARGIN={MARGIN}"
    )
    groups = group_near_duplicates(library, look=details.get)
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
        score = evaluation_set.score(samples, group_near_duplicates(pictures, **{"look": details.get, **options}))
        print(f"  {name:<34} {score.precision:.4f} / {score.recall:.4f}")
    originals = {s.picture: p.fingerprint for s, p in zip(samples, library) if s.variant == "original"}
    return [fingerprint for fingerprint in originals.values() if fingerprint]


def original_fingerprints(corpus: Path) -> list[str]:
    """The fingerprints of the distinct pictures' originals, as evaluate() returns them, without
    making the variants: what part 2 builds its corpus-shaped hashes from."""
    photos = list({photo.picture: photo for photo in evaluation_set.originals(corpus)}.values())
    with tempfile.TemporaryDirectory(prefix="near-duplicates-") as folder:
        copies = []
        for number, photo in enumerate(photos):
            copies.append(Path(folder) / f"{number:04d}{Path(photo.path).suffix}")
            shutil.copyfile(corpus / photo.path, copies[-1])
        with ProcessPoolExecutor(max_workers=WORKERS) as pool:
            return [found for found in pool.map(_fingerprint, copies) if found]


def _fingerprint(path: Path) -> str | None:
    return fingerprint(evaluation_set.reduced_decode(path)[0])


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


def _print_hash_choice(samples, library) -> None:
    """How well each hash, and each sum of hashes, keeps copies close and different pictures apart."""
    kept = [i for i, picture in enumerate(library) if picture.fingerprint]
    words = fingerprint_words([library[i].fingerprint for i in kept])
    picture = np.array([samples[i].picture for i in kept])
    subject = np.array([evaluation_set.subject(samples[i]) for i in kept])
    first, second = np.triu_indices(len(kept), 1)
    same = picture[first] == picture[second]
    unrelated = subject[first] != subject[second]
    per_hash = np.bitwise_count(words[first] ^ words[second]).astype(np.int32)
    print("Bits apart, for each hash and sum of hashes: same picture (95th percentile, 99th, largest),")
    print("and the closest different pictures (unrelated subjects; look-alikes, whose records tell them apart)")
    for hashes in ((0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)):
        apart = per_hash[:, hashes].sum(axis=1)
        copies = np.percentile(apart[same], [95, 99]).astype(int).tolist() + [int(apart[same].max())]
        name = " + ".join(HASH_NAMES[h] for h in hashes)
        print(
            f"  {name:<22} {copies[0]:>4} {copies[1]:>4} {copies[2]:>4}   "
            f"{int(apart[unrelated].min()):>4} {int(apart[~same & ~unrelated].min()):>4}"
        )


HASH_NAMES = ("phash", "dhash", "ahash")


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
    for margin in (0, 2, 8):
        yield f"MARGIN={margin}", library, {"margin": margin}
    yield "capture records ignored", [replace(picture, shot=None) for picture in library], {}
    yield "picture identities ignored", [replace(picture, picture=None) for picture in library], {}
    yield "no closer look", library, {"look": None}


# Part 2: speed.


def random_hashes(rng: random.Random) -> list[int]:
    return [rng.getrandbits(64) for _ in range(3)]


def recombined_hashes(fingerprints: list[str]) -> Callable[[random.Random], list[int]]:
    """Hashes whose every 16-bit chunk comes from a real photo's fingerprint (a different photo for
    each chunk) with a few bits flipped. Real photos' chunks are uneven, which the index feels:
    lookups return more candidates than for random bits. Drawing from a few hundred photos makes
    them more uneven still, so this is a harsher load than a real library's."""
    chunks = [[(word >> shift) & 0xFFFF for word in _words(f) for shift in (0, 16, 32, 48)] for f in fingerprints]

    def make(rng: random.Random) -> list[int]:
        words = []
        for word in range(3):
            value = sum(rng.choice(chunks)[4 * word + part] << (16 * part) for part in range(4))
            words.append(_flip(rng, value, 3))
        return words

    return make


def synthetic_library(size: int, hashes: Callable[[random.Random], list[int]], seed: int = 8) -> list[Picture]:
    """A library shaped like a family's: most photos unrelated, some bursts of look-alike shots,
    and a fifth of the files copies of another (resized, re-sent, edited; a few byte for byte)."""
    rng = random.Random(seed)
    pictures: list[Picture] = []

    def add(words: list[int], shot: str | None, sha256: str | None = None) -> None:
        number = len(pictures)
        pictures.append(Picture(number, _hex(words), sha256 or f"{number:064x}", shot))

    while len(pictures) < size:
        roll = rng.random()
        base = hashes(rng)
        if roll < 0.02:  # a burst of five shots within one second
            for frame in range(1, 6):
                add([_flip(rng, word, 3) for word in base], f"Phone|burst {len(pictures)}|{frame}")
        else:
            add(base, f"Camera|{len(pictures)}|")
            original = pictures[-1]
            if roll < 0.2:  # and one or two copies of it
                for _ in range(rng.randint(1, 2)):
                    if rng.random() < 0.2:
                        add(base, original.shot, original.sha256)
                    else:
                        add([_flip(rng, word, 6) for word in base], None)
    return pictures[:size]


def _flip(rng: random.Random, word: int, most: int) -> int:
    """`word` with up to `most` random bits flipped."""
    for _ in range(rng.randint(0, most)):
        word ^= 1 << rng.randrange(64)
    return word


def _words(fingerprint: str) -> list[int]:
    return [int(fingerprint[i : i + 16], 16) for i in range(0, len(fingerprint), 16)]


def _hex(words: list[int]) -> str:
    return "".join(f"{word:016x}" for word in words)


def time_grouping(sizes: list[int], real_fingerprints: list[str]) -> None:
    sources = [("random bits", random_hashes)]
    if real_fingerprints:
        label = f"chunks of the {len(real_fingerprints)} corpus photos' hashes"
        sources.append((label, recombined_hashes(real_fingerprints)))
    print("Grouping synthetic libraries: best of 3 runs; peak memory of one run, by tracemalloc")
    for label, hashes in sources:
        print(f"Hashes from {label}:")
        print(f"  {'pictures':>9} {'candidates':>11} {'near pairs':>10} {'groups':>7} {'seconds':>8} {'peak MiB':>9}")
        for size in sizes:
            library = synthetic_library(size, hashes)
            words = fingerprint_words([picture.fingerprint for picture in library])
            candidates = sum(len(batch) for _, _, batch in index_candidates(words[:, INDEXED_WORD], INDEX_RADIUS))
            pairs = len(near_pairs(words)[0])
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                groups = group_near_duplicates(library)
                timings.append(time.perf_counter() - started)
            tracemalloc.start()
            group_near_duplicates(library)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(
                f"  {size:>9,} {candidates:>11,} {pairs:>10,} {len(groups):>7,} {min(timings):>8.2f} {peak:>9.1f}"
            )


if __name__ == "__main__":
    main()
