"""One shot in two files: an iPhone Live Photo's picture and video, a camera's RAW and its JPEG.

Pure: reads the Apple content identifier that ties a Live Photo's halves together, and finds the
pairs among a job's files from what the pipeline learned of them. The two halves are companions,
never duplicates of each other: each keeps its own place in its job.

- Live Photo: a picture (HEIC, JPEG) and a video in one folder, with the same Apple content
  identifier (the picture's MakerNote ContentIdentifier, the video's
  `com.apple.quicktime.content.identifier`), or else with the same name stem (iCloud may call the
  video `IMG_1234_HEVC.MOV`) and capture times at most LIVE_PHOTO_SECONDS apart.
- RAW+JPEG: a RAW file and a picture in one folder with the same name stem and the same capture
  record (camera, original time, sub-seconds).

A stem with more than one candidate of a kind (two videos for one picture) makes no pair: nothing
tells which belongs to which.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from PIL import Image
from PIL.ExifTags import IFD

# A Live Photo's video starts 1.5 s before its picture and lasts 3 s; a camera clock's rounding
# and the video's own time (its start or its end) leave it within this.
LIVE_PHOTO_SECONDS = 5

RAW_EXTENSIONS = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf"}
# What iCloud appends to a Live Photo video's name when it hands out the original.
ICLOUD_VIDEO_SUFFIX = "_hevc"

MAKER_NOTE = 0x927C
APPLE_CONTENT_IDENTIFIER = 0x0011
_APPLE_HEADER = b"Apple iOS\x00"


def apple_content_identifier(exif: Image.Exif | None) -> str:
    """The ContentIdentifier of an Apple MakerNote ("" when there is none): a Live Photo's picture
    names its video by it. The MakerNote is a big-endian TIFF directory whose offsets count from
    the MakerNote's own start."""
    if exif is None:
        return ""
    note = exif.get_ifd(IFD.Exif).get(MAKER_NOTE)
    if not isinstance(note, bytes) or not note.startswith(_APPLE_HEADER) or note[12:14] != b"MM":
        return ""
    count = int.from_bytes(note[14:16], "big")
    for at in range(16, min(16 + 12 * count, len(note) - 11), 12):
        tag, kind, length = int.from_bytes(note[at : at + 2], "big"), note[at + 2 : at + 4], note[at + 4 : at + 8]
        if tag != APPLE_CONTENT_IDENTIFIER or kind != b"\x00\x02":  # ASCII
            continue
        size = int.from_bytes(length, "big")
        start = at + 8 if size <= 4 else int.from_bytes(note[at + 8 : at + 12], "big")
        value = note[start : start + size].split(b"\x00", 1)[0]
        return value.decode("ascii", "replace").strip()[:64]
    return ""


def video_content_identifier(tags: dict[str, str]) -> str:
    return (tags.get("com.apple.quicktime.content.identifier") or "").strip()[:64]


@dataclass(frozen=True)
class Half:
    """What pairing needs to know of a file."""

    id: int
    folder: str
    name: str
    is_video: bool
    captured_at: datetime | None = None
    shot: str = ""
    content_identifier: str = ""

    @property
    def is_raw(self) -> bool:
        return PurePath(self.name).suffix.lower() in RAW_EXTENSIONS

    @property
    def stem(self) -> str:
        stem = PurePath(self.name).stem.lower()
        if self.is_video and stem.endswith(ICLOUD_VIDEO_SUFFIX):
            stem = stem[: -len(ICLOUD_VIDEO_SUFFIX)]
        return stem


PAIR_KINDS = {"live_photo": "Live Photo", "raw_jpeg": "RAW + JPEG"}


def pair_kind(mime_type: str, other_mime_type: str) -> str:
    """What a pair is, as the page and the admin name it: a Live Photo has a video half, a
    RAW+JPEG pair none (find_pairs makes no other kind)."""
    halves = (mime_type or "", other_mime_type or "")
    return "live_photo" if any(mime.startswith("video/") for mime in halves) else "raw_jpeg"


def find_pairs(halves: Iterable[Half]) -> list[tuple[int, int]]:
    """The pairs (id, id) among `halves`, each file in one pair at most."""
    halves = list(halves)
    paired: set[int] = set()
    pairs = []

    def pair(a: Half, b: Half) -> None:
        paired.update((a.id, b.id))
        pairs.append((min(a.id, b.id), max(a.id, b.id)))

    by_identifier = defaultdict(list)
    for half in halves:
        if half.content_identifier:
            by_identifier[(half.folder, half.content_identifier)].append(half)
    for found in by_identifier.values():
        pictures = [h for h in found if not h.is_video and not h.is_raw]
        videos = [h for h in found if h.is_video]
        if len(pictures) == 1 and len(videos) == 1:
            pair(pictures[0], videos[0])

    by_stem = defaultdict(list)
    for half in halves:
        if half.id not in paired:
            by_stem[(half.folder, half.stem)].append(half)
    for found in by_stem.values():
        raws = [h for h in found if h.is_raw]
        pictures = [h for h in found if not h.is_video and not h.is_raw]
        videos = [h for h in found if h.is_video]
        if len(raws) == 1 and len(pictures) == 1 and _same_shot(raws[0], pictures[0]):
            pair(raws[0], pictures.pop())
        if len(pictures) == 1 and len(videos) == 1 and _moments_apart(pictures[0], videos[0]) <= LIVE_PHOTO_SECONDS:
            pair(pictures[0], videos[0])
    return sorted(pairs)


def _same_shot(a: Half, b: Half) -> bool:
    # Imported here: the perceptual module loads numpy and the image hashes, which pairing a job's
    # files in the import command does not otherwise need.
    from jobs.pipeline.perceptual import different_shots

    return bool(a.shot and b.shot) and not different_shots(a.shot, b.shot)


def _moments_apart(a: Half, b: Half) -> float:
    if a.captured_at is None or b.captured_at is None:
        return float("inf")
    return abs((a.captured_at - b.captured_at).total_seconds())
