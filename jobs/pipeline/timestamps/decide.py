"""The decision: which reading is the capture time, shown with which offset, and how sure we are.

docs/timestamps.md states these rules as a table; RULES below is that table's order."""

import dataclasses
from datetime import datetime, timedelta, timezone, tzinfo

from .clues import Clues
from .embedded import embedded_readings
from .evidence import HIGH, LOW, MEDIUM, NONE, CaptureTime, Evidence, Reading
from .filenames import filename_readings, folder_readings
from .parsing import format_offset, implausible, with_fixed_offset
from .sidecars import COPY_CROWD, same_second, sidecar_readings
from .video import UNIX_READING, video_readings

RECORD, PRECISE, DAY, FILE = range(4)

# Every source, strongest first. The first accepted reading wins; a reading that gives only a
# date falls to the DAY tier whatever its source.
RULES = (
    # The device's own record of the capture.
    ("exif:DateTimeOriginal", RECORD),
    ("xmp:exif:DateTimeOriginal", RECORD),
    ("quicktime:creationdate", RECORD),
    ("mp4:date", RECORD),
    ("h264:DateTimeOriginal", RECORD),
    ("mp4:creation_time", RECORD),
    (UNIX_READING, RECORD),
    ("avi:creation_time", RECORD),
    ("mkv:creation_time", RECORD),
    ("video:creation_time", RECORD),
    ("sidecar:xmp:exif:DateTimeOriginal", RECORD),
    ("sidecar:takeout", RECORD),
    # Precise, but not the capture record, or not the device's own.
    ("xmp:photoshop:DateCreated", PRECISE),
    ("iptc:DateCreated", PRECISE),
    ("sidecar:xmp:photoshop:DateCreated", PRECISE),
    ("exif:CreateDate", PRECISE),
    ("xmp:xmp:CreateDate", PRECISE),
    ("sidecar:xmp:xmp:CreateDate", PRECISE),
    ("video:date", PRECISE),
    ("filename", PRECISE),
    ("gps", PRECISE),
    ("exif:DateTime", PRECISE),
    # A day at most.
    ("folder", DAY),
    # When the file was last written: on the uploader's computer, or here.
    ("browser", FILE),
    ("filesystem", FILE),
)
RANK = {source: (tier, position) for position, (source, tier) in enumerate(RULES)}
UNRANKED = (FILE + 1, len(RULES))

# Two records of the capture further apart than this contradict each other; closer than this,
# the difference may only be a time zone.
CONFLICT = timedelta(days=1)
# A wall-clock time and a UTC instant of the same moment differ by a whole time-zone offset (a
# multiple of 15 minutes) plus the drift between the two clocks, which stays well under this.
CLOCK_DRIFT = timedelta(minutes=5)
OFFSET_STEP = timedelta(minutes=15)
MAX_OFFSET = timedelta(hours=14)
RAW_LIMIT = 200
# Besides the device's records, the sources that are a clock's record of the capture too: a phone
# names the file at the shutter, a receiver stamps its fix. Edit and scan dates are not.
STRONG = {"filename", "gps"}
# A file date this close before the import (or after it) is the copy's, not the capture's:
# a card read or a folder copied earlier the same day.
COPY_WINDOW = timedelta(hours=24)


def read_capture_time(clues: Clues, *, zone: tzinfo, now: datetime | None = None) -> CaptureTime:
    """The capture time of one file, how sure we are, and every reading that led there."""
    now = now or datetime.now(timezone.utc)
    readings = sorted(_readings(clues, imported_at=clues.imported_at or now), key=_rank)
    evidence = [_judge(reading, zone=zone, now=now) for reading in readings]
    accepted = [n for n, item in enumerate(evidence) if item.accepted]
    if not accepted:
        return CaptureTime(None, NONE, "", tuple(evidence), offset_known=False)
    first = _between_readings(accepted, readings, evidence)
    others = [n for n in accepted if n != first]
    reading, tier = readings[first], _rank(readings[first])[0]
    confidence, conflict = {RECORD: HIGH, PRECISE: MEDIUM}.get(tier, LOW), False
    alternative = _alternative(first, others, readings)
    if alternative is not None and confidence == HIGH:
        confidence = MEDIUM  # the same field read two plausible ways

    offset_known = not reading.date_only and (reading.instant or reading.value.tzinfo is not None)
    if reading.value.tzinfo is None and not reading.date_only:
        if offset := _offset_of(reading, [readings[n] for n in others]):
            value = with_fixed_offset(reading.value.replace(tzinfo=offset[0]))
            evidence[first] = dataclasses.replace(evidence[first], value=value, note=_join(offset[1], reading.note))
            offset_known = True
        elif tier == RECORD and _skipped(reading.value, zone):
            # The camera's clock read a time this zone never shows: it was not on this zone's
            # time, so its offset is truly unknown.
            confidence = MEDIUM
    winner = evidence[first]

    if tier == RECORD:
        for n in others:
            other = readings[n]
            strong = _rank(other)[0] == RECORD or (other.source in STRONG and not other.date_only)
            if strong and n != alternative and abs(evidence[n].value - winner.value) > CONFLICT:
                confidence, conflict = LOW, True
                note = f"contradicts {winner.source} by {_days(evidence[n].value - winner.value)}"
                evidence[n] = dataclasses.replace(evidence[n], note=_join(evidence[n].note, note))
    return CaptureTime(
        winner.value,
        confidence,
        winner.source,
        tuple(evidence),
        conflict=conflict,
        precision=reading.precision,
        offset_known=offset_known,
    )


# One field read two ways: a movie header's time from 1904, as the standard says, and from 1970,
# as FFmpeg and exiftool read small values.
READ_TWO_WAYS = {"mp4:creation_time": UNIX_READING, UNIX_READING: "mp4:creation_time"}


def _alternative(first: int, others: list[int], readings: list[Reading]) -> int | None:
    """The accepted other reading of the first's field, read the other way."""
    other_way = READ_TWO_WAYS.get(readings[first].source)
    if other_way is None:
        return None
    return next((n for n in others if readings[n].source == other_way), None)


def _between_readings(accepted: list[int], readings: list[Reading], evidence: list[Evidence]) -> int:
    """The first accepted reading, unless it has a plausible alternative reading: then the one of
    the two nearer to the file's other clues (the standard's when nothing else tells)."""
    first = accepted[0]
    alternative = _alternative(first, accepted[1:], readings)
    if alternative is None:
        return first
    clues = [evidence[n].value for n in accepted if n not in (first, alternative)]
    if not clues:
        return first if readings[first].source == "mp4:creation_time" else alternative

    def distance(n: int) -> timedelta:
        return min(abs(evidence[n].value - clue) for clue in clues)

    return alternative if distance(alternative) < distance(first) else first


def _readings(clues: Clues, *, imported_at: datetime) -> list[Reading]:
    readings = embedded_readings(exif=clues.exif, xmp=clues.xmp, iptc=clues.iptc)
    readings += video_readings(clues.video_tags, name=clues.name)
    if clues.path is not None:
        readings += sidecar_readings(clues.path)
    readings += filename_readings(clues.name)
    readings += folder_readings(clues.folders)
    # A folder's file times are only compared when the file date would decide.
    crowd_path = None if any(r.value is not None and not r.problem for r in readings) else clues.path
    for source, value in (("browser", clues.client_modified), ("filesystem", clues.file_modified)):
        if value is not None:
            value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            problem = _copy_time(value, imported_at=imported_at, path=crowd_path if source == "filesystem" else None)
            readings.append(Reading(source, value.isoformat(), value, instant=True, problem=problem))
    return readings


def _copy_time(value: datetime, *, imported_at: datetime, path) -> str:
    """Why a file date is only the time the file was copied, or "" when it may be the capture's:
    written shortly before the import (or during it), or shared to the second by a crowd of the
    folder's files, as a copy writes them."""
    if value >= imported_at - COPY_WINDOW:
        before = imported_at - value
        if before <= timedelta(0):
            return "a copy's date, not a capture time: written after the import began"
        return f"a copy's date, not a capture time: written {_span(before)} before the import"
    if path is not None and (crowd := same_second(path, value)) >= COPY_CROWD:
        return f"a copy's date, not a capture time: {crowd} files of this folder share it to the second"
    return ""


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"


def _rank(reading: Reading) -> tuple[int, int]:
    tier, position = RANK.get(reading.source, UNRANKED)
    return (max(tier, DAY) if reading.date_only else tier), position


def _judge(reading: Reading, *, zone: tzinfo, now: datetime) -> Evidence:
    """The reading's value as it is shown, and whether it may be a capture time at all."""
    # Evidence is stored with every file: a hostile file's 60 KB "date" is cut to a glimpse.
    raw = reading.raw if len(reading.raw) <= RAW_LIMIT else reading.raw[:RAW_LIMIT] + "…"
    if reading.problem:
        # A value refused for what it means (a copy's date) is still shown; a value that could not
        # be read has none.
        value = reading.value and with_fixed_offset(reading.value.astimezone(zone))
        return Evidence(reading.source, raw, value, False, _join(reading.problem, reading.note))
    try:
        value, how = _placed(reading, zone)
    except OverflowError:  # year 1 or 9999 moved across midnight by an offset
        return Evidence(reading.source, raw, None, False, _join("out of range", reading.note))
    if reason := implausible(value, now=now):
        return Evidence(reading.source, raw, value, False, _join(reason, reading.note))
    return Evidence(reading.source, raw, value, True, _join(how, reading.note))


def _placed(reading: Reading, zone: tzinfo) -> tuple[datetime, str]:
    """Per the contract: an offset the file gives is kept; a UTC instant is shown in the zone; a
    wall-clock time is read in the zone (never shifted)."""
    value = reading.value
    if reading.date_only:
        return with_fixed_offset(value.replace(tzinfo=None).replace(tzinfo=zone)), "date only"
    if reading.instant:
        return with_fixed_offset(value.astimezone(zone)), f"UTC, shown in {zone}"
    if value.tzinfo is not None:
        return with_fixed_offset(value), ""
    placed = value.replace(tzinfo=zone)
    if _skipped(value, zone):
        return with_fixed_offset(placed), f"offset unknown: a time {zone} skips (daylight saving)"
    if value.replace(tzinfo=zone, fold=1).utcoffset() != placed.utcoffset():
        return with_fixed_offset(placed), f"offset unknown: read in {zone}, where it occurs twice; the first is used"
    return with_fixed_offset(placed), f"offset unknown: read in {zone}"


def _skipped(wall: datetime, zone: tzinfo) -> bool:
    """True for a wall-clock time the zone never shows, such as 02:30 when clocks spring forward."""
    placed = wall.replace(tzinfo=zone)
    return placed.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != wall


def _offset_of(reading: Reading, others: list[Reading]) -> tuple[timezone, str] | None:
    """The offset a wall-clock winner was taken at, when another reading of the same file shows it:
    the same wall-clock time written with its offset elsewhere (IPTC, XMP, another EXIF field), or
    a UTC instant of the same moment (GPS, Takeout) a whole time-zone offset away."""
    wall = reading.value.replace(microsecond=0)
    for other in others:
        value = other.value
        if other.date_only or other.instant or value.tzinfo is None or _rank(other)[0] > PRECISE:
            continue
        if other.source == "iptc:DateCreated" and not value.utcoffset():
            continue  # IPTC demands an offset, so programs that do not know it write +0000
        if value.replace(tzinfo=None, microsecond=0) == wall:
            return value.tzinfo, f"offset {format_offset(value.utcoffset())} from {other.source}"
    for other in others:
        if other.date_only or not other.instant or _rank(other)[0] > PRECISE:
            continue
        apart = reading.value - other.value.astimezone(timezone.utc).replace(tzinfo=None)
        offset = OFFSET_STEP * round(apart / OFFSET_STEP)
        drift = abs(apart - offset)
        if drift <= CLOCK_DRIFT and abs(offset) <= MAX_OFFSET:
            return timezone(offset), (
                f"offset {format_offset(offset)} from {other.source} ({drift.total_seconds():g} s apart)"
            )
    return None


def _days(difference: timedelta) -> str:
    days = abs(difference) / timedelta(days=1)
    return f"{days:.1f} days"


def _join(*notes: str) -> str:
    return "; ".join(note for note in notes if note)
