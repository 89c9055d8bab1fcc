"""Sidecar files next to a photo: XMP written by photo editors, and Google Takeout's JSON.

A folder's sidecar names are listed once and cached (keyed by the folder's modification time, so
a folder that gains a sidecar is listed again): a 100,000-file import lists each folder once,
not once per file, and each look-up is a handful of set probes."""

import dataclasses
import json
import os
import re
import unicodedata
from collections import Counter
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from .embedded import xmp_readings
from .evidence import Reading

MAX_SIDECAR = 4 * 1024 * 1024  # a Takeout JSON is about 1 KB, an XMP sidecar a few KB
# This many files of one folder written in the same second were copied there together: a
# camera writes a few shots a second at most, and those carry their own records.
COPY_CROWD = 5

# Takeout cuts a JSON's name to 51 characters with ".json" kept: 46 before it. Which characters
# it counts is not documented (GPTH counts UTF-16 units), so each way of counting is tried.
TAKEOUT_NAME_LIMIT = 46
SUPPLEMENTAL = ".supplemental-metadata"
# Google Photos' suffixes for copies it made (edited, animated, collages), which Takeout exports
# without a JSON of their own: GPTH's list, with its translations.
EDITED_SUFFIXES = (
    "-edited", "-effects", "-smile", "-mix", "-collage", "-animation", "-edytowane", "-bearbeitet",
    "-bewerkt", "-編集済み", "-modificato", "-modifié", "-ha editado", "-editado", "-editat", "-redigerad",
)  # fmt: skip
# Takeout also cuts the media file's own name; a name this long may be such a cut.
MEDIA_NAME_CUT = 40
# "IMG_1234(1).jpg": Takeout's second file of that name, whose JSON is "IMG_1234.jpg(1).json".
_NUMBERED = re.compile(r"(?P<stem>.+?)(?P<number>\(\d+\))(?P<extension>\.[^.]*)?")


def sidecar_readings(path: Path) -> list[Reading]:
    listing = _listing(path.parent)
    if listing is None or not listing.names:
        return []
    readings = []
    if found := _xmp_sidecar_in(listing, path):
        readings += _xmp_sidecar(found)
    readings += _takeout_sidecar(path.parent, path.name, listing)
    return readings


def xmp_sidecar_of(path: Path) -> Path | None:
    """The XMP sidecar next to a file (`IMG_1.jpg.xmp` or `IMG_1.xmp`, in any case), if any."""
    listing = _listing(path.parent)
    return _xmp_sidecar_in(listing, path) if listing is not None and listing.names else None


def _xmp_sidecar_in(listing: "_Listing", path: Path) -> Path | None:
    for candidate in (f"{path.name}.xmp", f"{os.path.splitext(path.name)[0]}.xmp"):
        if found := listing.find(candidate):
            return path.parent / found
    return None


def same_second(path: Path, modified: datetime) -> int:
    """How many files of this file's folder were last written in the same second as it. The
    folder's times are read once (cached like its sidecars), and only when asked: for files
    whose file date would otherwise decide."""
    try:
        stamp = os.stat(path.parent).st_mtime_ns
    except OSError:
        return 0
    return _seconds_in(str(path.parent), stamp).get(int(modified.timestamp()), 0)


@lru_cache(maxsize=16)
def _seconds_in(folder: str, stamp: int) -> Counter:
    seconds = Counter()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and not entry.name.lower().endswith((".json", ".xmp")):
                    seconds[int(entry.stat(follow_symlinks=False).st_mtime)] += 1
    except OSError:
        pass
    return seconds


@dataclasses.dataclass(frozen=True)
class _Listing:
    names: frozenset[str]  # the folder's sidecars
    folded: dict[str, str]  # case-folded name -> name, for sidecars whose case differs

    def find(self, name: str) -> str | None:
        return name if name in self.names else self.folded.get(_folded(name))


def _listing(folder: Path) -> _Listing | None:
    try:
        stamp = os.stat(folder).st_mtime_ns
    except OSError:
        return None
    return _sidecars_in(str(folder), stamp)


@lru_cache(maxsize=256)
def _sidecars_in(folder: str, stamp: int) -> _Listing:
    names = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                # Links are never followed: a sidecar must be a file in the imported folder.
                if entry.name.lower().endswith((".json", ".xmp")) and entry.is_file(follow_symlinks=False):
                    names.append(entry.name)
    except OSError:
        pass
    return _Listing(frozenset(names), {_folded(name): name for name in names})


def _folded(name: str) -> str:
    """A name compared without case, and in one Unicode form: macOS writes "é" as two characters."""
    return unicodedata.normalize("NFC", name).casefold()


def _read(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_SIDECAR + 1)
    if len(data) > MAX_SIDECAR:
        raise ValueError("larger than any real sidecar")
    return data


def _xmp_sidecar(path: Path) -> list[Reading]:
    note = f"from {path.name}"
    try:
        packet = _read(path)
    except (OSError, ValueError) as e:
        return [Reading("sidecar:xmp", path.name, problem=f"unreadable: {e}")]
    return [dataclasses.replace(reading, note=note) for reading in xmp_readings(packet, prefix="sidecar:xmp")]


def _takeout_sidecar(folder: Path, name: str, listing: _Listing) -> list[Reading]:
    loaded, refused = {}, {}
    for candidate, originals in _takeout_names(unicodedata.normalize("NFC", name)):
        if not (found := listing.find(candidate)):
            continue
        if found not in loaded:
            try:
                loaded[found] = json.loads(_read(folder / found))
            except (OSError, ValueError, RecursionError) as e:
                return [Reading("sidecar:takeout", found, problem=f"unreadable: {e}")]
        data = loaded[found]
        title = data.get("title") if isinstance(data, dict) else None
        if originals and not _names_this_file(title, originals):
            # A cut or shortened name that may be another file's JSON: its title says whose it
            # is. The same JSON may still be this file's under another of its names.
            shown = repr(title[:80]) if isinstance(title, str) else "no title"
            refused.setdefault(found, Reading("sidecar:takeout", found, problem=f"not this file's: its title is {shown}"))
            continue
        if isinstance(data, dict):
            return [_photo_taken(data, found)]
    return list(refused.values())[:3]


def _takeout_names(name: str):
    """(JSON name, names that its title must match, or () when the JSON's name alone is proof)
    for each name Takeout may have given this file's JSON, surest first.

    Takeout varies a name in independent ways, so every combination is tried: a trailing "(N)"
    is either part of the name or Takeout's counter for a second file of that name (then moved
    behind whatever was cut, before ".json"); an edited copy uses its original's JSON; the
    extension is kept or dropped; ".supplemental-metadata" is whole, cut, or absent; the whole
    is cut to 46 characters, into the media name itself when that is long."""
    forms = [(name, "")]
    if match := _NUMBERED.fullmatch(name):
        forms.append((match["stem"] + (match["extension"] or ""), match["number"]))
    for media, counter in forms:
        originals = [(media, True), *_edited_originals(media)]
        titles = tuple(original.casefold() for original, _ in originals)
        for n, (original, named) in enumerate(originals):
            # An edited copy's counter may be its own, its original's JSON having none
            # (immich-go #756: "IMG_1-edited(1).jpg" with "IMG_1.jpg.supplemental-metadata.json").
            for number in (counter, "") if n and counter else (counter,):
                for body in (original, os.path.splitext(original)[0]):
                    # The JSON's name with the whole media name in it proves itself; so does an
                    # edited copy's original, which Google named; a dropped extension does not.
                    proof = body == original and named and (n == 0 or not counter)
                    for json_stem, whole in _cuts(body + SUPPLEMENTAL, len(body)):
                        yield f"{json_stem}{number}.json", () if proof and whole else titles


def _edited_originals(media: str):
    """(the original's name, whether Google's suffix was whole) for an edited copy: "IMG-edited.jpg"
    is "IMG.jpg"'s; a long name whose suffix Takeout cut ("…grandpa-edi.jpg") may be too."""
    stem, extension = os.path.splitext(media)
    folded, seen = stem.casefold(), set()
    for suffix in EDITED_SUFFIXES:
        if folded.endswith(suffix):
            yield stem[: -len(suffix)] + extension, True
        elif len(stem) >= MEDIA_NAME_CUT:
            # "-edi" is a cut of "-edited", "-editado" and "-editat" alike: one original.
            cut = next((k for k in range(len(suffix) - 1, 2, -1) if folded.endswith(suffix[:k])), 0)
            if cut and cut not in seen:
                seen.add(cut)
                yield stem[:-cut] + extension, False


def _cuts(text: str, keep: int):
    """(text cut, whether it keeps its first `keep` characters) for every cut Takeout may have
    made: every length down to `keep`, then the 46-unit limit counted in characters, UTF-16 units
    and UTF-8 bytes, where that cuts deeper."""
    for length in range(len(text), keep - 1, -1):
        yield text[:length], True
    deeper = {length for length in (_fit(text, size) for size in UNIT_COUNTS) if length < keep}
    for length in sorted(deeper, reverse=True):
        yield text[:length], False


# How long a character is, counted as characters, as UTF-16 units (GPTH's Dart strings) or bytes.
UNIT_COUNTS = (
    lambda character: 1,
    lambda character: len(character.encode("utf-16-le")) // 2,
    lambda character: len(character.encode("utf-8")),
)


def _fit(text: str, size) -> int:
    """How many characters of text fit in TAKEOUT_NAME_LIMIT units, each character `size` long."""
    used = 0
    for n, character in enumerate(text):
        used += size(character)
        if used > TAKEOUT_NAME_LIMIT:
            return n
    return len(text)


def _names_this_file(title, originals: tuple[str, ...]) -> bool:
    """The JSON's title is the uploaded file's name: this file's, or its original's. Takeout cuts
    long media names as it cuts JSON names, so a cut title matches a cut name."""
    if not isinstance(title, str):
        return False
    title = unicodedata.normalize("NFC", title).casefold()
    for original in originals:
        stem, extension = os.path.splitext(original)
        if title == original or (len(stem) >= MEDIA_NAME_CUT and title.startswith(stem) and title.endswith(extension)):
            return True
    return False


def _photo_taken(data: dict, found: str) -> Reading:
    """photoTakenTime.timestamp: seconds since 1970 in UTC, Google's view of when it was taken."""
    taken = data.get("photoTakenTime")
    timestamp = taken.get("timestamp") if isinstance(taken, dict) else None
    note = f"from {found}"
    if timestamp is None:
        return Reading("sidecar:takeout", found, problem="no photoTakenTime", note=note)
    raw = str(timestamp)[:40]
    try:
        value = datetime.fromtimestamp(int(timestamp), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return Reading("sidecar:takeout", raw, problem="photoTakenTime is not a timestamp", note=note)
    return Reading("sidecar:takeout", raw, value, instant=True, note=note)
