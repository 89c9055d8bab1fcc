"""Where each exported file goes: the template, precision-honest names, undated files, collisions
and companions. Pure: plain data in, relative paths out; docs/export.md states the rules."""

import dataclasses
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

DEFAULT_TEMPLATE = "{year}/{year}{month}{day}_{hour}{minute}{second}"
UNDATED = "undated"
# What is already at a planned path (settle): a file identical to what the export would write
# there, or another file.
SAME, OTHER = "same", "other"

# Each token, and the finest precision that must be known to fill it.
TIME_TOKENS = {"year": "year", "month": "month", "day": "day", "hour": "second", "minute": "second", "second": "second"}
OTHER_TOKENS = ("name", "camera", "job")
TOKENS = (*TIME_TOKENS, *OTHER_TOKENS)
PRECISIONS = ("year", "month", "day", "second")  # coarse to fine
DATE_FORMATS = {"year": "%Y", "month": "%Y%m", "day": "%Y%m%d"}

# Characters no name of ours carries: separators, control characters, and those Windows refuses
# (a collection is often copied to a USB disk or a NAS share next).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


class TemplateError(ValueError):
    """The template cannot name files; the message says why."""


@dataclass(frozen=True)
class PlanFile:
    """What planning needs to know of one file to export."""

    id: int
    name: str  # the original name, with its extension
    folder: str = ""  # folders below the imported folder, '/'-separated
    captured: datetime | None = None  # in its own offset: the clock the camera showed
    precision: str = "second"
    dated: bool = True  # False for confidence none: goes to undated/
    camera: str = ""
    job: int = 0
    companion_id: int | None = None
    is_video: bool = False


@dataclass(frozen=True)
class Placed:
    file_id: int
    destination: str  # relative, '/'-separated
    companion_of: int | None = None  # the file whose name this one shares
    exists: bool = False  # a file identical to what would be written is already there


def check_template(template: str) -> str:
    """The template, stripped, when it can name files; TemplateError saying why otherwise."""
    template = template.strip()
    if not template:
        raise TemplateError("The template is empty.")
    if template.startswith("/") or "\\" in template:
        raise TemplateError("The template names a path inside the export folder: no leading '/', no '\\'.")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise TemplateError(f"The template's braces do not match: {e}.") from None
    unknown = [f for f in fields if f not in TOKENS]
    if unknown:
        raise TemplateError(f"Unknown token {{{unknown[0]}}}: the tokens are {', '.join('{%s}' % t for t in TOKENS)}.")
    if any(part in ("", ".", "..") for part in template.split("/")):
        raise TemplateError("The template has an empty, '.' or '..' folder.")
    if any(spec or conv for _, f, spec, conv in string.Formatter().parse(template) if f):
        raise TemplateError("Tokens take no format: write {year}, not {year:...}.")
    return template


def name_for(file: PlanFile, template: str) -> str:
    """The file's path without the collision suffix and without its extension (the stem), as
    the template gives it; for a time known only to the day, month or year, folders up to the
    first token it does not know and a name that claims no time."""
    if not file.dated or file.captured is None:
        folder = "/".join(_safe(part) for part in file.folder.split("/") if part) if file.folder else ""
        stem = PurePosixPath(_safe(file.name)).stem
        return "/".join(p for p in (UNDATED, folder, stem) if p)
    values = _values(file)
    parts = template.split("/")
    if file.precision == "second":
        return "/".join(_safe(part.format(**values)) for part in parts)
    known = PRECISIONS.index(file.precision)
    folders = []
    for part in parts[:-1]:
        needs = [TIME_TOKENS[f] for _, f, _, _ in string.Formatter().parse(part) if f in TIME_TOKENS]
        if any(PRECISIONS.index(p) > known for p in needs):
            break
        folders.append(_safe(part.format(**values)))
    date = file.captured.strftime(DATE_FORMATS[file.precision])
    return "/".join([*folders, f"{date}_{values['name']}"])


def place(files: Iterable[PlanFile], template: str) -> list[Placed]:
    """Every file's destination, unique: files in capture order (sub-seconds counting), the first
    keeps the plain name and later ones on the same stem get _1, _2, …; the halves of a pair share
    the stem of the pair's picture, each with its own extension."""
    files = list(files)
    by_id = {f.id: f for f in files}
    leaders = _pair_leaders(files, by_id)
    order = sorted(
        (f for f in files if leaders[f.id] == f.id),
        key=lambda f: (not f.dated or f.captured is None, f.captured.timestamp() if f.captured and f.dated else 0, f.id),
    )
    followers: dict[int, list[PlanFile]] = {}
    for f in files:
        if leaders[f.id] != f.id:
            followers.setdefault(leaders[f.id], []).append(f)
    taken_stems: set[str] = set()
    taken_paths: set[str] = set()
    placed = []
    for leader in order:
        group = [leader, *sorted(followers.get(leader.id, []), key=lambda f: f.id)]
        base = name_for(leader, template)
        stem = _free_stem(base, taken_stems)
        for f in group:
            shares = f is leader or (leader.dated and leader.captured is not None)
            own_stem = stem if shares else _free_stem(name_for(f, template), taken_stems)
            path = own_stem + _extension(f)
            if path.casefold() in taken_paths:  # two halves with one extension: the second moves aside
                own_stem = _free_stem(own_stem, taken_stems)
                path = own_stem + _extension(f)
            taken_paths.add(path.casefold())
            placed.append(Placed(f.id, path, None if f is leader else leader.id))
    return placed


def settle(placed: list[Placed], occupied: Callable[[Placed, str], str | None]) -> list[Placed]:
    """The plan moved past the files already at the destination. `occupied(p, path)` says what is
    at `path` for `p`: None (nothing), SAME (a file identical to what `p` would write there: `p`
    exists) or OTHER. A file whose name is taken by another file gets the next _N that no other
    file of the plan has; the halves of a pair move together, to the first _N free for all of them,
    so they keep one stem. A dry run and the real export settle alike."""
    groups: dict[int, list[Placed]] = {}
    for p in placed:
        groups.setdefault(p.companion_of or p.file_id, []).append(p)
    taken = {_stem(p.destination) for p in placed}
    settled = []
    for group in groups.values():
        n = 0
        while True:
            paths = [numbered(p.destination, n) for p in group]
            if n and _stem(paths[0]) in taken:
                n += 1  # another file of this export has that stem
                continue
            states = [occupied(p, path) for p, path in zip(group, paths)]
            if OTHER not in states:
                break
            n += 1
        taken.add(_stem(paths[0]))
        for p, path, state in zip(group, paths, states):
            settled.append(dataclasses.replace(p, destination=path, exists=state == SAME))
    return settled


def numbered(path: str, n: int) -> str:
    """`path` with the collision suffix _n before its extension (n = 0: unchanged)."""
    if n == 0:
        return path
    p = PurePosixPath(path)
    ext = _full_suffix(p.name)
    return str(p.with_name(f"{p.name[: len(p.name) - len(ext)]}_{n}{ext}"))


def _stem(path: str) -> str:
    return path[: len(path) - len(_full_suffix(PurePosixPath(path).name))].casefold()


def _free_stem(base: str, taken: set[str]) -> str:
    stem, n = base, 0
    while stem.casefold() in taken:
        n += 1
        stem = f"{base}_{n}"
    taken.add(stem.casefold())
    return stem


def _pair_leaders(files: list[PlanFile], by_id: dict[int, PlanFile]) -> dict[int, int]:
    """For each file the id of the file whose name its pair shares: the picture (not the video),
    else the lower id. Only pairs whose both halves are exported share a name."""
    parent = {f.id: f.id for f in files}

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for f in files:
        if f.companion_id in by_id:
            a, b = root(f.id), root(f.companion_id)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[PlanFile]] = {}
    for f in files:
        groups.setdefault(root(f.id), []).append(f)
    leaders = {}
    for members in groups.values():
        leader = min(members, key=lambda f: (f.is_video, f.id))
        for f in members:
            leaders[f.id] = leader.id
    return leaders


def _values(file: PlanFile) -> dict[str, str]:
    t = file.captured
    return {
        "year": f"{t.year:04d}",
        "month": f"{t.month:02d}",
        "day": f"{t.day:02d}",
        "hour": f"{t.hour:02d}",
        "minute": f"{t.minute:02d}",
        "second": f"{t.second:02d}",
        "name": _safe(PurePosixPath(file.name).stem),
        "camera": _safe(file.camera) or "unknown camera",
        "job": str(file.job),
    }


def _extension(file: PlanFile) -> str:
    """The file's own extension in lower case; an undated file keeps its name as it was."""
    suffix = PurePosixPath(file.name).suffix
    return suffix if not file.dated or file.captured is None else suffix.lower()


def _full_suffix(name: str) -> str:
    # ".xmp" sidecars keep the picture's extension in front: IMG_1.jpg.xmp -> IMG_1_1.jpg.xmp
    p = PurePosixPath(name)
    if p.suffix.lower() == ".xmp" and PurePosixPath(p.stem).suffix:
        return PurePosixPath(p.stem).suffix + p.suffix
    return p.suffix


def _safe(part: str) -> str:
    """A path part that is one plain name: no separators or control characters, never hidden,
    never '.' or '..'."""
    cleaned = _UNSAFE.sub("_", part).strip().lstrip(".").strip()
    return cleaned or "_"
