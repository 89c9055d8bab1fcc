import random
from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest

from benchmarks import evaluation_set
from jobs.pipeline import near_duplicates
from jobs.pipeline.near_duplicates import (
    INDEX_RADIUS,
    MAX_DISTANCE,
    Member,
    NearGroup,
    Picture,
    fingerprint_words,
    group_near_duplicates,
    near_pairs,
)

PHOTO = 0x0123_4567_89AB_CDEF


def fingerprint(phash: int = PHOTO, dhash: int = PHOTO, ahash: int = PHOTO) -> str:
    return f"{phash:016x}{dhash:016x}{ahash:016x}"


def flipped(word: int, bits: int, first: int = 0) -> int:
    """`word` with `bits` bits flipped, from bit `first` on."""
    return word ^ (((1 << bits) - 1) << first)


def picture(id_: int, fingerprint_: str, sha256: str | None = None, shot: str | None = None) -> Picture:
    return Picture(id=id_, fingerprint=fingerprint_, sha256=sha256 or f"sha-{id_}", shot=shot)


BURST = ["Apple iPhone XR|2020:04:17 10:03:42|144", "Apple iPhone XR|2020:04:17 10:03:42|262"]


def test_byte_identical_copies_alone_are_not_a_near_group():
    copies = [picture(1, fingerprint(), "same"), picture(2, fingerprint(), "same")]
    assert group_near_duplicates(copies) == []


def test_a_resized_copy_joins_its_original_with_the_byte_identical_copies_marked():
    library = [
        picture(1, fingerprint(), "original"),
        picture(2, fingerprint(ahash=flipped(PHOTO, 3)), "resized"),
        picture(3, fingerprint(), "original"),  # the original imported twice
        picture(4, fingerprint(~PHOTO & (2**64 - 1), PHOTO ^ 0xFFFF_FFFF, 0)),  # another photo
    ]
    assert group_near_duplicates(library) == [
        NearGroup(key="original", members=(Member(1, True), Member(2, False), Member(3, True)))
    ]


def test_the_key_is_the_first_imported_file_and_survives_new_copies():
    first = [picture(7, fingerprint(), "first"), picture(9, fingerprint(flipped(PHOTO, 2)), "copy")]
    later = first + [picture(3_000, fingerprint(dhash=flipped(PHOTO, 1)), "another copy")]
    [before], [after] = group_near_duplicates(first), group_near_duplicates(later)
    assert before.key == after.key == "first"
    assert after.ids == (7, 9, 3_000)


def test_groups_do_not_depend_on_the_order_pictures_come_in():
    rng = random.Random(3)
    library = [picture(i, fingerprint(ahash=flipped(PHOTO, rng.randrange(30)))) for i in range(12)]
    library += [picture(100 + i, fingerprint(rng.getrandbits(64), rng.getrandbits(64))) for i in range(12)]
    shuffled = library[:]
    rng.shuffle(shuffled)
    assert group_near_duplicates(shuffled) == group_near_duplicates(library) != []


def test_shots_with_different_capture_records_stay_apart_however_alike():
    burst = [picture(1, fingerprint(), shot=BURST[0]), picture(2, fingerprint(), shot=BURST[1])]
    assert group_near_duplicates(burst) == []


def test_a_copy_without_a_record_joins_the_shot_it_is_clearly_closest_to():
    library = [
        picture(1, fingerprint(), shot=BURST[0]),
        picture(2, fingerprint(ahash=flipped(PHOTO, 10)), shot=BURST[1]),
        picture(3, fingerprint(ahash=flipped(PHOTO, 9))),  # sent by a messenger: 1 bit from 2, 9 from 1
        picture(4, fingerprint(ahash=flipped(PHOTO, 10)), shot=BURST[1][:-3]),  # an edit that lost sub-seconds
    ]
    assert [group.ids for group in group_near_duplicates(library)] == [(2, 3, 4)]


def test_a_blank_record_is_no_record():
    library = [
        picture(1, fingerprint(), shot=BURST[0]),
        picture(2, fingerprint(ahash=flipped(PHOTO, 10)), shot=BURST[1]),
        picture(3, fingerprint(ahash=flipped(PHOTO, 9)), shot=""),  # as a CharField stores none
    ]
    assert [group.ids for group in group_near_duplicates(library)] == [(2, 3)]


def test_copies_about_as_close_to_two_shots_join_neither():
    library = [
        picture(1, fingerprint(), shot=BURST[0]),
        picture(2, fingerprint(ahash=flipped(PHOTO, 4)), shot=BURST[1]),
        picture(3, fingerprint(ahash=flipped(PHOTO, 2))),  # 2 bits from each: it could copy either
        picture(4, fingerprint(ahash=flipped(PHOTO, 3))),  # another copy, 1 bit closer to 2: as unsure
    ]
    assert group_near_duplicates(library) == []
    # With no margin, one bit closer is close enough.
    assert [group.ids for group in group_near_duplicates(library, margin=0)] == [(2, 4)]


def grey(level: int) -> bytes:
    """A detail (perceptual.detail) of one grey level."""
    return bytes([level]) * 1024


def test_a_closer_look_tells_which_of_two_alike_shots_a_copy_is_of():
    # Two frames of a burst with the same fingerprint (its hashes round their small difference
    # in light away) and two copies that lost their records, one made from each frame.
    library = [
        picture(1, fingerprint(), shot=BURST[0]),
        picture(2, fingerprint(), shot=BURST[1]),
        picture(3, fingerprint(ahash=flipped(PHOTO, 1))),
        picture(4, fingerprint(ahash=flipped(PHOTO, 1), dhash=flipped(PHOTO, 1))),
    ]
    details = {1: grey(100), 2: grey(106), 3: grey(105), 4: grey(101)}
    assert group_near_duplicates(library) == []
    # Each copy joins the frame whose picture its own is nearest to, wherever its fingerprint sits.
    assert [group.ids for group in group_near_duplicates(library, look=details.get)] == [(1, 4), (2, 3)]
    # As near to both at the closer look, or without a detail to look at: undecided still.
    assert [g.ids for g in group_near_duplicates(library, look={**details, 3: grey(103)}.get)] == [(1, 4)]
    assert [g.ids for g in group_near_duplicates(library, look={**details, 2: None}.get)] == []


def test_copies_do_not_chain_unlike_pictures_together():
    # Each step changes 20 more bits of the mean hash: neighbours are near, the ends are not alike.
    steps = [picture(i, fingerprint(ahash=flipped(PHOTO, 20 * i))) for i in range(4)]
    [group] = group_near_duplicates(steps)
    assert group.ids == (0, 1, 2)  # 0 and 2 are 40 bits apart; 3 would be 60 from 0
    assert [g.ids for g in group_near_duplicates(steps, max_spread=192)] == [(0, 1, 2, 3)]


def test_pictures_without_a_fingerprint_are_left_out():
    library = [picture(1, fingerprint()), picture(2, ""), picture(3, fingerprint(flipped(PHOTO, 1)))]
    assert [group.ids for group in group_near_duplicates(library)] == [(1, 3)]


def test_a_picture_without_a_fingerprint_is_still_one_with_its_metadata_only_copies():
    # A black frame: nothing for the hashes to read, so it is near no other picture; yet a copy
    # with the same picture data and a time-zone fix is the same picture.
    library = [
        Picture(1, fingerprint(), "photo", BURST[0]),
        Picture(2, "", "black frame", BURST[1], picture="black"),
        Picture(3, fingerprint(ahash=flipped(PHOTO, 1)), "photo resized"),
        Picture(4, "", "black frame zone fixed", LATER[0], picture="black"),
        Picture(5, "", "another black frame", None, picture="other black"),
        Picture(6, "", "black frame", BURST[1], picture="black"),  # a byte copy of 2: identical
    ]
    assert group_near_duplicates(library) == [
        NearGroup(key="photo", members=(Member(1, False), Member(3, False))),
        NearGroup(key="black frame", members=(Member(2, True), Member(4, False), Member(6, True))),
    ]


def test_a_malformed_fingerprint_is_refused():
    with pytest.raises(ValueError, match="48 hex digits"):
        group_near_duplicates([picture(1, "abc"), picture(2, fingerprint())])


def brute_force_pairs(words, max_distance, index_radius):
    found = []
    for i, j in combinations(range(len(words)), 2):
        differing = [bin(int(a) ^ int(b)).count("1") for a, b in zip(words[i], words[j])]
        if differing[1] <= index_radius and sum(differing) <= max_distance:  # dhash is indexed
            found.append((sum(differing), i, j))
    return sorted(found)


def random_bits(rng: random.Random, count: int) -> int:
    """A 64-bit mask of `count` bits, or fewer when the same bit comes twice."""
    mask = 0
    for _ in range(count):
        mask ^= 1 << rng.randrange(64)
    return mask


def random_library_with_neighbours(size: int, seed: int) -> np.ndarray:
    """Random fingerprints, and as many again each some bits away from one of them."""
    rng = random.Random(seed)
    words = [[rng.getrandbits(64) for _ in range(3)] for _ in range(size)]
    for base in words[:size]:
        words.append([word ^ random_bits(rng, rng.randrange(16)) for word in base])
    return fingerprint_words([fingerprint(*w) for w in words])


@pytest.mark.parametrize("index_radius", [3, 7, INDEX_RADIUS])
def test_the_index_finds_exactly_the_near_pairs(index_radius):
    words = random_library_with_neighbours(300, seed=index_radius)
    first, second, distances = near_pairs(words, max_distance=MAX_DISTANCE, index_radius=index_radius)
    expected = brute_force_pairs(words, MAX_DISTANCE, index_radius)
    assert list(zip(distances.tolist(), first.tolist(), second.tolist())) == expected
    at_the_radius = [bin(int(words[i, 1] ^ words[j, 1])).count("1") == index_radius for _, i, j in expected]
    assert len(expected) > 50 and any(at_the_radius)


def test_small_batches_give_the_same_pairs(monkeypatch):
    words = random_library_with_neighbours(200, seed=1)
    expected = [array.tolist() for array in near_pairs(words)]
    monkeypatch.setattr(near_duplicates, "BATCH", 5)
    assert [array.tolist() for array in near_pairs(words)] == expected


def test_the_index_refuses_a_radius_it_cannot_search():
    with pytest.raises(ValueError, match="at most 11 bits"):
        near_pairs(fingerprint_words([fingerprint()]), index_radius=12)


# A slice of the evaluation set: small photos, chosen for the traps they hold.
SLICE = [
    "immich/metadata/faces/portrait.jpg",  # and a copy stored rotated, with labels drawn on it
    "immich/metadata/faces/portrait-orientation-6.jpg",
    "drewnoakes/jpg/Issue 600 (1).jpg",  # and the same Jupiter with an offset added to its time
    "drewnoakes/jpg/Issue 600 (2).jpg",
    "exif-samples/jpg/hdr/canon_hdr_NO.jpg",  # and _YES: the same lamp, another exposure 26 s later
    "exif-samples/jpg/hdr/canon_hdr_YES.jpg",
    "digicam/HP/Photosmart 735/HPIM1006.JPG",  # and 1007: one colour chart, two shots 6 s apart
    "digicam/HP/Photosmart 735/HPIM1007.JPG",
    "immich/albums/nature/prairie_falcon.jpg",
    "libheif/examples/example.heic",
    "immich/formats/png/density_plot.png",
]


def test_precision_and_recall_on_a_slice_of_the_evaluation_set(corpus, tmp_path):
    samples = evaluation_set.build(corpus, tmp_path, evaluation_set.originals(corpus, only=SLICE))
    pictures, details = evaluation_set.library(samples)
    score = evaluation_set.score(samples, group_near_duplicates(pictures, look=details.get))
    assert len({sample.picture for sample in samples}) == len(SLICE) - 2
    assert score.precision >= 0.99, score.wrong
    assert score.recall >= 0.95


def test_copies_of_one_of_two_exposures_join_their_own_at_a_closer_look(corpus, tmp_path):
    # Two exposures of one chart on a tripod, 9 s apart: by its fingerprint, a copy that lost its
    # capture record is as close to the other exposure as to its own (a heavily recompressed one
    # closer), so without a closer look only the copies that kept it are grouped.
    pair = ["digicam/Canon/EOS RP/_MG_0635.JPG", "digicam/Canon/EOS RP/_MG_0636.JPG"]
    samples = evaluation_set.build(corpus, tmp_path, evaluation_set.originals(corpus, only=pair))
    pictures, details = evaluation_set.library(samples)
    groups = group_near_duplicates(pictures)
    # The metadata-only copies have the original's picture data: the one whose EXIF is stripped
    # joins its own exposure, as does the one whose time a time-zone fix moved.
    assert [sorted(samples[i].variant for i in group.ids) for group in groups] == [
        sorted(["original", *evaluation_set.KEEP_A_RECORD, "stripped"])
    ] * 2
    # The pictures in grey at 32x32 keep the exposures' difference in light: every copy joins its own.
    groups = group_near_duplicates(pictures, look=details.get)
    every_copy = sorted(["original", *evaluation_set.VARIANT_NAMES])
    assert [sorted(samples[i].variant for i in group.ids) for group in groups] == [every_copy] * 2
    assert [{samples[i].original for i in group.ids} for group in groups] == [{pair[0]}, {pair[1]}]


# --- the same picture data with other metadata, and pairs -------------------------------------

LATER = ["Apple iPhone XR|2020:04:17 11:03:42|144"]  # the burst's first frame after a time-zone fix


def test_the_same_picture_data_with_other_records_is_one_picture():
    library = [
        Picture(1, fingerprint(), "original", BURST[0], picture="frame 1"),
        Picture(2, fingerprint(), "zone fixed", LATER[0], picture="frame 1"),
        Picture(3, fingerprint(), "stripped", None, picture="frame 1"),
        Picture(4, fingerprint(dhash=flipped(PHOTO, 1)), "frame 2", BURST[1], picture="frame 2"),
        Picture(5, fingerprint(ahash=flipped(PHOTO, 2)), "resized zone fixed", LATER[0]),
        Picture(6, fingerprint(dhash=flipped(PHOTO, 1)), "resized frame 2", BURST[1]),
    ]
    # The stripped copy is no longer undecided between the two frames: its picture data is frame
    # 1's. Copies made from either record of frame 1 join it; frame 2 stays a shot of its own.
    assert [group.ids for group in group_near_duplicates(library)] == [(1, 2, 3, 5), (4, 6)]


def test_metadata_only_copies_alone_are_a_near_group():
    copies = [Picture(1, fingerprint(), "a", BURST[0], picture="p"), Picture(2, fingerprint(), "b", LATER[0], picture="p")]
    assert group_near_duplicates(copies) == [NearGroup(key="a", members=(Member(1, False), Member(2, False)))]
    # Byte-identical files with the same picture data are still one exact group, not a near one.
    assert group_near_duplicates([replace(copy, sha256="a") for copy in copies]) == []


def test_a_file_recorded_before_picture_identities_joins_its_byte_twin():
    library = [
        Picture(1, fingerprint(), "original", BURST[0]),  # no identity: imported by an earlier version
        Picture(2, fingerprint(), "original", BURST[0], picture="p"),
        Picture(3, fingerprint(), "zone fixed", LATER[0], picture="p"),
    ]
    assert [group.ids for group in group_near_duplicates(library)] == [(1, 2, 3)]


def test_the_two_halves_of_a_pair_are_never_a_group_of_each_other():
    photo = picture(1, fingerprint(), shot=BURST[0])
    video = picture(2, fingerprint(ahash=flipped(PHOTO, 2)))  # the Live Photo's poster frame
    pair = [replace(photo, companion=2), replace(video, companion=1)]
    assert len(group_near_duplicates([photo, video])) == 1
    assert group_near_duplicates(pair) == []
    # A copy of the photo still joins it, and the video stays out.
    copy = picture(3, fingerprint(dhash=flipped(PHOTO, 1)))
    assert [group.ids for group in group_near_duplicates([*pair, copy])] == [(1, 3)]
