"""What needs a person's look, put the way a person decides: files grouped by folder, camera and
day with a summary of why their times are unsure, and proposals drawn from what the library
already knows (a camera clock that runs a constant offset from other devices; undated files
between two dated neighbours by file number). Reads only: accepting a proposal is a correction
like any other (jobs.services.corrections)."""

import re
import statistics
from collections import Counter, defaultdict
from datetime import timedelta

from django.db.models import Count, Q

from jobs import selectors
from jobs.models import Confidence, DuplicateGroup, DuplicateKind, DuplicateMember, File, Precision, shown_capture_time
from jobs.services.corrections import MANUAL_SOURCE, signed_duration

# The review lists at most this many files at once (oldest first); the groups and proposals are
# drawn from them. A person works through a few hundred at a time.
LIMIT = 1000
# A camera's clock is proposed for a shift when at least this many shared scenes agree on its
# offset to another device within CLOCK_AGREEMENT, and the offset is at least CLOCK_MINIMUM.
CLOCK_PAIRS = 2
CLOCK_AGREEMENT = timedelta(minutes=2)
CLOCK_MINIMUM = timedelta(minutes=2)
CLOCK_MAXIMUM = timedelta(days=400)
NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d{3,})(?P<rest>(?:\D[^.]*)?)\.[^.]+$")
FILE_DATES = ("browser", "filesystem")
SOURCE_WORDS = {
    "exif": "EXIF", "xmp": "XMP", "iptc": "IPTC", "takeout": "Takeout", "quicktime": "video", "mp4": "video",
    "h264": "video", "avi": "video", "mkv": "video", "video": "video", "filename": "file-name", "gps": "GPS",
}  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def review(files, *, library, scope: str) -> dict:
    """The review of `files` (a File queryset, one job's or the library's), with proposals drawn
    from `library` (every file the user may see: a phone's photos of the same scenes may have
    come in another import)."""
    waiting = files.filter(selectors.NEEDS_REVIEW)
    total = waiting.count()
    rows = list(waiting.order_by(*selectors.SORTS["capture_time"]).values(*selectors.LISTED_FIELDS, "job_id")[:LIMIT])
    return {
        "scope": scope,
        "total": total,
        "files": rows,
        "groups": {by: _groups(rows, by) for by in ("folder", "camera", "day")},
        "suggestions": camera_clock_suggestions(files, library=library) + neighbour_suggestions(rows),
    }


# --- groups ----------------------------------------------------------------------------------


def _groups(rows: list[dict], by: str) -> list[dict]:
    found: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        found[_group_key(row, by)].append(row)
    groups = [
        {
            "key": key,
            "label": _group_label(key, by),
            "file_ids": [r["id"] for r in members],
            "summary": summary(members, by=by, key=key),
        }
        for key, members in found.items()
    ]
    return sorted(groups, key=lambda g: (-len(g["file_ids"]), g["label"]))


def _group_key(row: dict, by: str) -> str:
    if by == "folder":
        return f"{row['job_id']}:{row['folder']}"
    if by == "camera":
        return row["camera"]
    shown = shown_capture_time(row["captured_at"], row["capture_offset"])
    return shown.date().isoformat() if shown else ""


def _group_label(key: str, by: str) -> str:
    if by == "folder":
        job_id, folder = key.split(":", 1)
        return f"Job {job_id} / {folder}" if folder else f"Job {job_id} (top folder)"
    if by == "camera":
        return key or "No camera recorded"
    return day_words(key) if key else "No date"


def reason(row: dict) -> str:
    """Why one file's time is unsure, in words."""
    if row["capture_conflict"]:
        return "capture records that disagree"
    if row["confidence"] == Confidence.NONE or row["captured_at"] is None:
        return "no date found"
    source = row["capture_source"]
    if source in FILE_DATES:
        return "only a file date"
    if source == "folder":
        return "only a folder name's date"
    if source == MANUAL_SOURCE:
        return "a date guessed by hand"
    kind = source.removeprefix("sidecar:").split(":")[0]
    words = SOURCE_WORDS.get(kind, kind) + " times"
    return words if row["capture_offset_known"] else f"{words} without zone"


def summary(rows: list[dict], *, by: str, key: str) -> str:
    """`37 files from DSC-W55: 30 only a file date, 7 no date found`."""
    count = f"{len(rows)} file{'s' if len(rows) != 1 else ''}"
    where = f" from {key}" if by == "camera" and key else ""
    reasons = Counter(reason(r) for r in rows).most_common()
    return f"{count}{where}: " + ", ".join(f"{n} with {why}" for why, n in reasons)


def day_words(iso_day: str) -> str:
    year, month, day = iso_day.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


# --- a camera's clock --------------------------------------------------------------------------


def camera_clock_suggestions(files, *, library) -> list[dict]:
    """Cameras of `files` whose times sit a constant offset away from another device's times for
    the same scenes (members of one near-duplicate group from two cameras, both dated to the
    second, anywhere in the library); the proposal shifts that camera's files among `files`."""
    cameras = set(files.exclude(camera="").values_list("camera", flat=True).distinct())
    dated = library.filter(status=File.Status.DONE, capture_precision=Precision.SECOND).exclude(camera="")
    groups = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR, not_duplicates=False)
    members = DuplicateMember.objects.filter(group__in=groups, file__in=dated.values("id")).values_list(
        "group_id", "file__camera", "file__captured_at"
    )
    by_group: dict[int, list[tuple[str, object]]] = defaultdict(list)
    for group_id, camera, at in members:
        by_group[group_id].append((camera, at))
    differences: dict[tuple[str, str], list[timedelta]] = defaultdict(list)
    for shots in by_group.values():
        for camera, at in shots:
            for other, other_at in shots:
                if camera < other:
                    differences[(camera, other)].append(at - other_at)
    suggestions = []
    for (camera, other), found in differences.items():
        middle = statistics.median_low(found)
        agreeing = [d for d in found if abs(d - middle) <= CLOCK_AGREEMENT]
        if len(agreeing) < CLOCK_PAIRS or not CLOCK_MINIMUM <= abs(middle) <= CLOCK_MAXIMUM:
            continue
        # The camera with fewer files is taken for the one whose clock was wrong; the proposal
        # names both, and the person decides.
        counts = dict(dated.filter(camera__in=[camera, other]).order_by().values_list("camera").annotate(n=Count("id")))
        if counts.get(camera, 0) <= counts.get(other, 0):
            wrong, right, offset = camera, other, middle
        else:
            wrong, right, offset = other, camera, -middle
        if wrong not in cameras:
            continue
        seconds = -round(offset.total_seconds())
        file_ids = list(files.filter(camera=wrong, captured_at__isnull=False).values_list("id", flat=True))
        suggestions.append(
            {
                "kind": "camera_clock",
                "title": f"Shift {wrong} by {signed_duration(seconds)}?",
                "detail": f"In {len(agreeing)} scenes shot by both, {wrong} shows {_apart(offset)} "
                f"{'later' if offset > timedelta(0) else 'earlier'} than {right}.",
                "file_ids": file_ids,
                "correction": {"shift_seconds": seconds},
            }
        )
    return suggestions


def _apart(difference: timedelta) -> str:
    return signed_duration(round(abs(difference).total_seconds()))[1:]


# --- neighbours by file number -----------------------------------------------------------------


def neighbour_suggestions(rows: list[dict]) -> list[dict]:
    """Undated files (no date, or only a file date) between two dated files of the same folder and
    camera by file number, whose times fall on one day: that day, at `low`."""
    undated = [
        r for r in rows
        if (r["captured_at"] is None or r["capture_source"] in FILE_DATES) and NUMBERED.match(r["original_name"])
    ]  # fmt: skip
    if not undated:
        return []
    places = Q()
    for job_id, folder in {(r["job_id"], r["folder"]) for r in undated}:
        places |= Q(job_id=job_id, folder=folder)
    dated = (
        File.objects.filter(places, status=File.Status.DONE, confidence__in=[Confidence.HIGH, Confidence.MEDIUM])
        .exclude(capture_precision__in=["", Precision.YEAR, Precision.MONTH])
        .values("id", "job_id", "folder", "original_name", "camera", "captured_at", "capture_offset")
    )
    series: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
    for row in dated:
        if match := NUMBERED.match(row["original_name"]):
            series[(row["job_id"], row["folder"], match["prefix"].lower())].append((int(match["number"]), row))
    for numbered in series.values():
        numbered.sort(key=lambda pair: pair[0])
    proposals: dict[tuple[int, int], dict] = {}
    for row in undated:
        match = NUMBERED.match(row["original_name"])
        numbered = series.get((row["job_id"], row["folder"], match["prefix"].lower()), [])
        number = int(match["number"])
        before = [r for n, r in numbered if n < number]
        after = [r for n, r in numbered if n > number]
        if not before or not after:
            continue
        low, high = before[-1], after[0]
        if low["camera"] != high["camera"] or (row["camera"] and row["camera"] != low["camera"]):
            continue
        start = shown_capture_time(low["captured_at"], low["capture_offset"])
        end = shown_capture_time(high["captured_at"], high["capture_offset"])
        if start > end or start.date() != end.date():
            continue
        proposal = proposals.setdefault(
            (low["id"], high["id"]),
            {
                "kind": "neighbours",
                "title": f"Between {start:%H:%M} and {end:%H:%M} on {day_words(start.date().isoformat())}?",
                "detail": f"Numbered between {low['original_name']} and {high['original_name']}"
                + (f" of {low['camera']}" if low["camera"] else "")
                + "; set the day, at low confidence.",
                "file_ids": [],
                "correction": {"set": start.date().isoformat(), "confidence": Confidence.LOW},
            },
        )
        proposal["file_ids"].append(row["id"])
    for proposal in proposals.values():
        proposal["file_ids"].sort()
    return list(proposals.values())
