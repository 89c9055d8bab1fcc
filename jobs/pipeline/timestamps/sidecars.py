"""Sidecar files next to a photo: XMP written by photo editors, and Google Takeout's JSON.

A folder's sidecar names are listed once and cached (keyed by the folder's modification time, so
a folder that gains a sidecar is listed again): a 100,000-file import lists each folder once,
not once per file, and each look-up is a handful of set probes."""

import dataclasses
import json
import os
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from .embedded import xmp_readings
from .evidence import Reading

MAX_SIDECAR = 4 * 1024 * 1024  # a Takeout JSON is about 1 KB, an XMP sidecar a few KB

# Takeout ends every JSON name with ".json" and cuts what comes before to this many characters.
TAKEOUT_NAME_LIMIT = 46
# Shorter cuts of the photo's own name are not trusted without the JSON's title confirming them.
SHORTEST_CUT = 40
SUPPLEMENTAL = ".supplemental-metadata"
# Google Photos' suffix for edited copies, which Takeout exports without a JSON of their own.
EDITED_SUFFIXES = ("-edited", "-bearbeitet", "-modifié", "-editado", "-modificato", "-bewerkt", "-redigerad")
# "IMG_1234(1).jpg": Takeout's second file of that name, whose JSON is "IMG_1234.jpg(1).json".
_NUMBERED = re.compile(r"(?P<stem>.+?)(?P<number>\(\d+\))(?P<extension>\.[^.]*)?")


def sidecar_readings(path: Path) -> list[Reading]:
    listing = _listing(path.parent)
    if not listing:
        return []
    readings = []
    if found := _xmp_sidecar_in(listing, path):
        readings += _xmp_sidecar(found)
    readings += _takeout_sidecar(path.parent, path.name, listing)
    return readings


def xmp_sidecar_of(path: Path) -> Path | None:
    """The XMP sidecar next to a file (`IMG_1.jpg.xmp` or `IMG_1.xmp`, in any case), if any."""
    listing = _listing(path.parent)
    return _xmp_sidecar_in(listing, path) if listing else None


def _xmp_sidecar_in(listing: "_Listing", path: Path) -> Path | None:
    for candidate in (f"{path.name}.xmp", f"{os.path.splitext(path.name)[0]}.xmp"):
        if found := listing.find(candidate):
            return path.parent / found
    return None


@dataclasses.dataclass(frozen=True)
class _Listing:
    names: frozenset[str]
    folded: dict[str, str]  # case-folded name -> name, for sidecars whose case differs

    def find(self, name: str) -> str | None:
        return name if name in self.names else self.folded.get(name.casefold())

    def __bool__(self) -> bool:
        return bool(self.names)


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
    return _Listing(frozenset(names), {name.casefold(): name for name in names})


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
    for candidate, titles in _takeout_names(name):
        if not (found := listing.find(candidate)):
            continue
        try:
            data = json.loads(_read(folder / found))
        except (OSError, ValueError, RecursionError) as e:
            return [Reading("sidecar:takeout", found, problem=f"unreadable: {e}")]
        if not isinstance(data, dict):
            continue
        title = data.get("title")
        if titles and not (isinstance(title, str) and title.casefold() in titles):
            continue  # a cut name that may be another photo's JSON
        return [_photo_taken(data, found)]
    return []


def _takeout_names(name: str):
    """(JSON name, titles that confirm it) for each name Takeout may have given this file's JSON,
    surest first. Titles is empty when the name alone is proof."""
    number, base = "", name
    if match := _NUMBERED.fullmatch(name):
        number, base = match["number"], match["stem"] + (match["extension"] or "")
    stem, extension = os.path.splitext(base)
    originals = [base] + [
        stem.removesuffix(suffix) + extension for suffix in EDITED_SUFFIXES if stem.endswith(suffix)
    ]
    titles = frozenset(original.casefold() for original in originals)
    if number:
        yield f"{name}.json", ()  # a file whose own name has "(1)" in it
    for original in originals:
        # "IMG_1234.jpg.json", "IMG_1234.jpg.supplemental-metadata.json" and every cut of the
        # latter down to the bare name, then cuts into the name itself.
        full = (original + SUPPLEMENTAL)[:TAKEOUT_NAME_LIMIT]
        for length in range(len(full), min(len(original), SHORTEST_CUT) - 1, -1):
            yield f"{full[:length]}{number}.json", titles if length < len(original) else ()
        # Older exports dropped the extension: "IMG_1234.json".
        yield f"{os.path.splitext(original)[0]}{number}.json", titles


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
