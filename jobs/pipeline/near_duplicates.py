"""Near-duplicate groups: files that hold the same picture although their bytes differ.

Pure: it takes what the library knows of each picture (id, fingerprint, sha256, capture record,
picture identity, companion) and returns the groups; loading and storing them is the caller's business.

1. Files with the same picture data (the same `picture` identity: a copy that differs only in
   metadata) or, without one, the same sha256 are one *content*. A group needs two different
   sha256s at least: a set of byte-identical copies alone is an exact group, not a near one. A
   content's capture records are all the records its files carry: the same picture data is one
   shot, whatever a time-zone fix or a stripped EXIF made its metadata say. A content without a
   fingerprint (a black frame: nothing for the hashes to read) is near no other, but its files
   with other metadata are still one group.
2. Two contents are *near* when their dhashes differ by at most INDEX_RADIUS bits and their whole
   fingerprints by at most MAX_DISTANCE. An index over the dhash finds these pairs without
   comparing every pair (multi-index hashing, below).
3. A content without a capture record that is about as near (within MARGIN bits) to two
   different shots could be a copy of either: two frames of a burst are as close by their
   fingerprints as a copy to its original. A closer look at the pictures in grey (their details,
   when the caller can `look` them up) tells which shot it is nearest to, and the copy counts as
   that shot; else it joins no group rather than maybe the wrong one.
4. Near pairs are merged into groups in increasing distance, and a merge is refused when it would
   put two different shots into one group (contents none of whose records match), the two
   halves of a pair (a Live Photo's picture and video, a RAW and its JPEG), or two contents more
   than MAX_SPREAD bits apart. So a copy joins the one shot it is closest to, and no chain of
   copies links pictures not alike.

docs/duplicates.md tells how these thresholds were measured and what they achieve.
"""

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations
from operator import attrgetter

import numpy as np

from jobs.pipeline.perceptual import FINGERPRINT_LENGTH, HASH_BITS, detail_difference, different_shots

# On the evaluation set, 99 % of same-picture pairs are within 26 bits (of 192) and unrelated
# photos never closer than 46.
MAX_DISTANCE = 32
# Copies move their dhash by 11 bits or fewer in 99 % of pairs (by 16 at most: a crop), and 11 is
# the most the index below finds with lookups of one and two bits.
INDEX_RADIUS = 11
# All members of a group are within this many bits of each other, so that copies cannot chain
# unlike pictures together: 40 costs no recall on the evaluation set, 32 would cost 0.5 %.
MAX_SPREAD = 40
# Burst frames of a still subject are 0-4 bits apart, as close as a re-encoded copy to its original.
MARGIN = 4

# The index looks up the gradient hash (dhash, the fingerprint's second hash). The mean hash
# would be the worst: its bits follow the light (bright sky, dark ground), so unrelated photos share
# long runs of them and every lookup would return a crowd.
INDEXED_WORD = 1


@dataclass(frozen=True)
class Picture:
    id: int
    fingerprint: str
    sha256: str
    shot: str | None = None
    picture: str | None = None  # the picture data's identity (jobs.pipeline.picture_identity)
    companion: int | None = None  # the other half of one shot in two files, never its duplicate


@dataclass(frozen=True)
class Member:
    id: int
    byte_identical: bool  # another member of the group has the same bytes


@dataclass(frozen=True)
class NearGroup:
    # The sha256 of the member with the lowest id: the file imported first keeps its place in the
    # group when later imports add copies, so decisions kept under this key survive regrouping.
    key: str
    members: tuple[Member, ...]  # sorted by id

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(member.id for member in self.members)


Shots = tuple[str, ...]  # the capture records of one content: empty when its files carry none
Look = Callable[[int], bytes | None]  # a file's detail (perceptual.detail), None when it has none


# Slots and tuples: a library of 100,000 pictures makes 100,000 of these, most with one file, one
# record and no companion.
@dataclass(slots=True)
class _Content:
    ids: list[int]
    sha256: str  # of the first file listed
    fingerprint: str  # its first file's with one; "" when none of its files has one
    shots: Shots = ()
    companions: tuple[int, ...] = ()
    other_bytes: dict[int, str] | None = None  # id -> sha256 of files whose bytes differ from `sha256`

    def sha256_of(self, id_: int) -> str:
        return self.other_bytes.get(id_, self.sha256) if self.other_bytes else self.sha256


def group_near_duplicates(
    pictures: Iterable[Picture],
    *,
    max_distance: int = MAX_DISTANCE,
    index_radius: int = INDEX_RADIUS,
    max_spread: int = MAX_SPREAD,
    margin: int = MARGIN,
    look: Look | None = None,
) -> list[NearGroup]:
    """The near-duplicate groups among `pictures`, ordered by their lowest member id. A picture
    without a fingerprint (too small or featureless to compare: a black frame) is compared with
    none, yet its copies with the same picture data and other metadata are still its group."""
    with _no_cycle_collection():
        return _group(pictures, max_distance, index_radius, max_spread, margin, look)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The grouping makes a few objects for every picture (a library of 100,000 makes 300,000),
    none of them in a reference cycle: Python's cycle collector, run again and again as they are
    made, would go over the whole heap each time, and took 60 % of the time to build them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _group(
    pictures: Iterable[Picture], max_distance: int, index_radius: int, max_spread: int, margin: int, look: Look | None
) -> list[NearGroup]:
    contents = _contents(pictures)
    compared = [content for content in contents if content.fingerprint]
    words = fingerprint_words([content.fingerprint for content in compared])
    first, second, distances = near_pairs(words, max_distance=max_distance, index_radius=index_radius)
    pairs = list(zip(first.tolist(), second.tolist(), distances.tolist()))
    undecided, taken = _copies(compared, pairs, margin, look)
    pairs = [pair for pair in pairs if pair[0] not in undecided and pair[1] not in undecided]
    grouped = _merge(compared, words, pairs, max_spread, taken)
    groups = [_near_group([compared[i] for i in group]) for group in grouped]
    unseen = [_near_group([content]) for content in contents if not content.fingerprint and _differ_in_bytes(content)]
    return sorted(groups + unseen, key=lambda group: group.members[0].id) if unseen else groups


def _contents(pictures: Iterable[Picture]) -> list[_Content]:
    # In id order, so that a content is listed at its lowest id (ties are then broken in import
    # order, whatever order the caller lists the pictures in) and takes its first file's fingerprint.
    # Without a fingerprint, a picture counts only through its picture data's identity.
    pictures = sorted((picture for picture in pictures if picture.fingerprint or picture.picture), key=attrgetter("id"))
    # A file hashed before picture identities were recorded is known by its bytes' twin's.
    identity_of = {picture.sha256: picture.picture for picture in pictures if picture.picture}
    by_identity: dict[str, _Content] = {}
    for picture in pictures:
        sha256 = picture.sha256
        identity = identity_of.get(sha256) or sha256
        content = by_identity.get(identity)
        # A blank record (as a database stores "none") is no record.
        if content is None:
            shots = (picture.shot,) if picture.shot else ()
            companions = () if picture.companion is None else (picture.companion,)
            by_identity[identity] = _Content([picture.id], sha256, picture.fingerprint, shots, companions)
            continue
        content.ids.append(picture.id)
        if not content.fingerprint:
            content.fingerprint = picture.fingerprint
        if sha256 != content.sha256:
            content.other_bytes = {**(content.other_bytes or {}), picture.id: sha256}
        if picture.shot and picture.shot not in content.shots:
            content.shots += (picture.shot,)
        if picture.companion is not None:
            content.companions += (picture.companion,)
    return list(by_identity.values())


def fingerprint_words(fingerprints: list[str]) -> np.ndarray:
    """Fingerprints as an (n, 3) array of unsigned 64-bit words, one per hash."""
    for fingerprint in fingerprints:
        if len(fingerprint) != FINGERPRINT_LENGTH:
            raise ValueError(f"Not a fingerprint of {FINGERPRINT_LENGTH} hex digits: {fingerprint!r}")
    raw = bytes.fromhex("".join(fingerprints))
    return np.frombuffer(raw, dtype=">u8").reshape(-1, FINGERPRINT_LENGTH * 4 // HASH_BITS).astype(np.uint64)


def near_pairs(
    words: np.ndarray, *, max_distance: int = MAX_DISTANCE, index_radius: int = INDEX_RADIUS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every near pair (i < j, distance), sorted by distance then i then j."""
    found = list(close_keys(words[:, INDEXED_WORD], index_radius))
    first = np.concatenate([first for first, _ in found]) if found else np.empty(0, np.int64)
    second = np.concatenate([second for _, second in found]) if found else np.empty(0, np.int64)
    # A pair close in several chunks is found once for each.
    _, unique = np.unique(first * len(words) + second, return_index=True)
    first, second = first[unique], second[unique]
    distances = np.bitwise_count(words[first] ^ words[second]).sum(axis=1, dtype=np.int32)
    near = distances <= max_distance
    first, second, distances = first[near], second[near], distances[near]
    order = np.lexsort((second, first, distances))
    return first[order], second[order], distances[order]


# Multi-index hashing (Norouzi, Punjani & Fleet, 2012): cut the 64-bit hash into 4 chunks of 16 bits.
# Two hashes at most 11 bits apart have a chunk where they differ by at most two bits (else they
# would differ by 3 x 4 = 12). So a table of each chunk's 16-bit values, looked up at every hash's
# chunk value and at the 136 values one or two bits away, finds every such pair, and pairs further
# apart only when a chunk happens to be that close: 4 x 137 / 65,536 = 0.84 % of all pairs for
# random bits, a few times more for real photos' hashes. The work still grows with n^2, but with
# n^2 / 240 candidate pairs rather than n^2 / 2, each checked by numpy in a few nanoseconds.
CHUNKS = 4
CHUNK_BITS = HASH_BITS // CHUNKS
# Candidate pairs are expanded and checked this many at a time, which bounds memory whatever the
# library holds (even thousands of pictures of one scene); larger batches were no faster.
BATCH = 1 << 16


@dataclass(frozen=True)
class Candidates:
    """A batch of candidate pairs from the index: query `queries[q]` (whose key is
    `query_keys[q]`) against the keys at `positions[counts[:q].sum():counts[:q + 1].sum()]` of the
    chunk's sorted order."""

    flip: int
    queries: np.ndarray
    query_keys: np.ndarray
    counts: np.ndarray
    positions: np.ndarray  # into `order`, int32

    def __len__(self) -> int:
        return len(self.positions)


def close_keys(keys: np.ndarray, radius: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs (i < j) of keys at most `radius` bits apart, in batches; a pair may come more than once.

    Only the pairs found close leave a batch as ids: a candidate is checked where it sits in the
    chunk's sorted order, against its query's key, without being expanded into a pair first (at
    100,000 pictures there are a thousand candidates for every close pair)."""
    for order, sorted_keys, batch in index_candidates(keys, radius):
        query_keys = np.repeat(batch.query_keys, batch.counts)
        hits = np.flatnonzero(np.bitwise_count(sorted_keys[batch.positions] ^ query_keys) <= radius)
        first = batch.queries[np.searchsorted(np.cumsum(batch.counts), hits, side="right")]
        second = order[batch.positions[hits]]
        if batch.flip:
            yield np.minimum(first, second), np.maximum(first, second)
        else:
            kept = first < second
            yield first[kept], second[kept]


def index_candidates(keys: np.ndarray, radius: int) -> Iterator[tuple[np.ndarray, np.ndarray, Candidates]]:
    """Candidate pairs of keys at most `radius` bits apart, in batches, with the chunk's sorted
    order of the keys (ids, and the keys in it): every such pair comes at least once, along with
    pairs that merely have a chunk that close."""
    chunk_radius = radius // CHUNKS
    if chunk_radius > 2:
        raise ValueError(f"The index finds pairs at most {3 * CHUNKS - 1} bits apart, not {radius}")
    flips = [
        sum(1 << bit for bit in bits) for n in range(chunk_radius + 1) for bits in combinations(range(CHUNK_BITS), n)
    ]
    for chunk_number in range(CHUNKS):
        chunk = ((keys >> np.uint64(chunk_number * CHUNK_BITS)) & np.uint64((1 << CHUNK_BITS) - 1)).astype(np.int32)
        order = np.argsort(chunk, kind="stable")
        sorted_keys, sorted_chunk = keys[order], chunk[order]
        # Chunk value v sits at starts[v]:starts[v] + sizes[v] in `order`.
        bounds = np.searchsorted(sorted_chunk, np.arange((1 << CHUNK_BITS) + 1)).astype(np.int32)
        starts, sizes = bounds[:-1], np.diff(bounds)
        # A pair whose chunks differ by a flip is looked up once, from the side where the flip's
        # lowest bit is 0 (its queries are the same for all flips of that lowest bit); an exact
        # match from both sides, and kept from the lower index. Queries come in the chunk's order,
        # so that those that look up one value come together and find its keys in the cache.
        sides = {None: (order, sorted_chunk, sorted_keys)}
        for bit in range(CHUNK_BITS):
            side = sorted_chunk & (1 << bit) == 0
            sides[bit] = (order[side], sorted_chunk[side], sorted_keys[side])
        for flip in flips:
            queries, values, query_keys = sides[(flip & -flip).bit_length() - 1 if flip else None]
            wanted = values ^ flip
            for batch in _batches(flip, queries, query_keys, starts[wanted], sizes[wanted]):
                yield order, sorted_keys, batch


def _batches(
    flip: int, queries: np.ndarray, query_keys: np.ndarray, low: np.ndarray, counts: np.ndarray
) -> Iterator[Candidates]:
    """The candidates (query, k) for every k in low:low + count of each query, BATCH at a time.
    Queries with no candidate are kept: numpy's repeat skips them more cheaply than a filter would."""
    ends = np.cumsum(counts, dtype=np.int64)
    start = 0
    while start < len(queries):
        stop = max(start + 1, int(np.searchsorted(ends, ends[start] - counts[start] + BATCH, side="right")))
        batch_counts = counts[start:stop]
        total = int(ends[stop - 1] - ends[start] + counts[start])
        # Each query's run of positions, low to high, one after the other.
        offsets = np.cumsum(batch_counts, dtype=np.int32) - batch_counts - low[start:stop]
        positions = np.arange(total, dtype=np.int32) - np.repeat(offsets, batch_counts)
        yield Candidates(flip, queries[start:stop], query_keys[start:stop], batch_counts, positions)
        start = stop


def _copies(contents: list[_Content], pairs, margin: int, look: Look | None) -> tuple[set[int], dict[int, Shots]]:
    """Contents without a capture record that are about as close to two different shots, by the
    fingerprint, could be a copy of either. A closer look (their details: `look` gives a file's)
    tells which shot's picture the copy is nearest to; the copy then counts as that shot. Without
    one, or when the closer look finds two shots as near, they are undecided: they join no group
    rather than maybe the wrong one. Returns the undecided and the shots the others take."""
    closest: dict[int, list[tuple[int, int]]] = {}
    for first, second, distance in pairs:
        for copy, other in ((first, second), (second, first)):
            if not contents[copy].shots and contents[other].shots:
                closest.setdefault(copy, []).append((distance, other))
    undecided, taken = set(), {}
    details = _Details(contents, look)
    for copy, near in closest.items():
        best = min(distance for distance, _ in near)
        candidates = {other for distance, other in near if distance <= best + margin}
        if not any(_different(contents[a].shots, contents[b].shots) for a, b in combinations(candidates, 2)):
            continue
        nearest = details.nearest(copy, candidates)
        if nearest is None:
            undecided.add(copy)
        else:
            taken[copy] = contents[nearest].shots
    return undecided, taken


class _Details:
    """The closer look: each content's detail, read once, through its first file."""

    def __init__(self, contents: list[_Content], look: Look | None):
        self.contents, self.look, self.read = contents, look, {}

    def of(self, content: int) -> bytes | None:
        if content not in self.read:
            self.read[content] = self.look(self.contents[content].ids[0])
        return self.read[content]

    def nearest(self, copy: int, candidates: set[int]) -> int | None:
        """The candidate whose picture is nearest to the copy's, when it is nearer than every
        candidate of another shot; None when that cannot be told."""
        if self.look is None or self.of(copy) is None or any(self.of(c) is None for c in candidates):
            return None
        apart = {c: detail_difference(self.of(copy), self.of(c)) for c in sorted(candidates)}
        nearest = min(apart, key=apart.get)
        others = [c for c in apart if _different(self.contents[c].shots, self.contents[nearest].shots)]
        return nearest if all(apart[nearest] < apart[c] for c in others) else None


def _different(a: Shots, b: Shots) -> bool:
    """Whether two contents are different shots: both have records, and none of one's matches
    one of the other's."""
    return bool(a and b) and all(different_shots(x, y) for x in a for y in b)


class _Group:
    __slots__ = ("members", "shots", "companions")

    def __init__(self, index: int, shots: Shots, companions: frozenset[int]):
        self.members = [index]
        self.shots = {shots} if shots else set()
        self.companions = companions  # the contents holding the other halves of its files' pairs

    def takes(self, other: "_Group") -> None:
        self.members += other.members
        self.shots |= other.shots
        if other.companions:
            self.companions = self.companions | other.companions


def _merge(
    contents: list[_Content], words: np.ndarray, pairs, max_spread: int, taken: dict[int, Shots]
) -> list[list[int]]:
    """Groups of content indexes (each sorted), built from near pairs in increasing distance
    under the capture-record and spread constraints (a copy counts as the shot it was `taken`
    for): two contents or more, or one whose files differ in their bytes (the same picture data
    with other metadata)."""
    companions = _companion_contents(contents)
    group_of: dict[int, _Group] = {}  # only for contents in a near pair: most are in none

    def group(content: int) -> _Group:
        found = group_of.get(content)
        if found is None:
            shots = taken.get(content, contents[content].shots)
            found = group_of[content] = _Group(content, shots, companions.get(content, _NONE))
        return found

    for first, second, _ in pairs:
        a, b = group(first), group(second)
        if a is b:
            continue
        if a.shots and b.shots and any(_different(x, y) for x in a.shots for y in b.shots):
            continue
        if (a.companions and not a.companions.isdisjoint(b.members)) or (
            b.companions and not b.companions.isdisjoint(a.members)
        ):
            continue
        if len(a.members) < len(b.members):
            a, b = b, a
        if len(a.members) > 1 and _spread(words, a.members, b.members) > max_spread:
            continue
        for content in b.members:
            group_of[content] = a
        a.takes(b)
    merged = [sorted(group.members) for group in {id(group): group for group in group_of.values()}.values()]
    merged = [members for members in merged if len(members) > 1 or _differ_in_bytes(contents[members[0]])]
    alone = [[i] for i, content in enumerate(contents) if i not in group_of and _differ_in_bytes(content)]
    return sorted(merged + alone)


_NONE: frozenset[int] = frozenset()


def _companion_contents(contents: list[_Content]) -> dict[int, frozenset[int]]:
    """For each content with a file in a pair, the contents holding the other halves (those with
    a fingerprint: a half without one is in no group anyway)."""
    paired = [(index, content) for index, content in enumerate(contents) if content.companions]
    if not paired:
        return {}
    content_of = {id_: index for index, content in enumerate(contents) for id_ in content.ids}
    found = {}
    for index, content in paired:
        others = frozenset(content_of[id_] for id_ in content.companions if id_ in content_of)
        if others:
            found[index] = others
    return found


def _differ_in_bytes(content: _Content) -> bool:
    return content.other_bytes is not None


def _spread(words: np.ndarray, larger: list[int], smaller: list[int]) -> int:
    """The largest distance between a member of one group and a member of the other, one member
    of the smaller at a time so that memory stays linear even when two large groups meet."""
    members = words[larger]
    return max(int(np.bitwise_count(members ^ words[content]).sum(axis=1).max()) for content in smaller)


def _near_group(contents: list[_Content]) -> NearGroup:
    files = sorted((id_, content.sha256_of(id_)) for content in contents for id_ in content.ids)
    copies = Counter(sha256 for _, sha256 in files)
    members = tuple(Member(id=id_, byte_identical=copies[sha256] > 1) for id_, sha256 in files)
    return NearGroup(key=files[0][1], members=members)
