"""Date strings as files carry them, turned into datetimes.

Every parser raises ValueError with a message a person can read ("zero date", "not a date"); the
readers turn that message into a rejected piece of evidence, so nothing a file says can crash an
import."""

import re
from datetime import datetime, timedelta, timezone

from .evidence import DAY, SECOND, Reading

# EXIF ("2020:04:17 10:03:42"), ISO 8601 ("2020-04-17T10:03:47-0600", "...47.000000Z"), XMP written
# with EXIF colons ("2023:01:04T12:40:17-05:00"), minutes only ("2020-01-05T15:04Z") or a date alone.
_DATE_TIME = re.compile(
    r"(?P<year>\d{4})[:\-/.](?P<month>\d{1,2})[:\-/.](?P<day>\d{1,2})"
    r"(?:(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<offset>Z|(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?)?",
    re.ASCII,
)
_OFFSET = re.compile(r"(?:GMT|UTC)?(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?", re.ASCII)

# Real offsets run from -12:00 to +14:00; anything beyond is a damaged field.
MAX_OFFSET = timedelta(hours=14)


def clean(raw) -> str:
    """Text of a metadata value: EXIF strings come NUL-padded, some writers store bytes."""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    return str(raw).strip(" \t\r\n\x00")


def parse_datetime(raw) -> tuple[datetime, bool]:
    """(value, date_only). The value is naive when the text carries no offset."""
    text = clean(raw)
    match = _DATE_TIME.fullmatch(text)
    if not match:
        if not text.strip(" :-./T0"):
            raise ValueError("empty or zero date")
        raise ValueError("not a date and time")
    parts = match.groupdict()
    if int(parts["year"]) == 0 or int(parts["month"]) == 0 or int(parts["day"]) == 0:
        raise ValueError("zero date")
    date_only = parts["hour"] is None
    fraction = (parts["fraction"] or "")[:6].ljust(6, "0")
    try:
        value = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction),
        )
    except ValueError:
        raise ValueError("not a valid date") from None
    if parts["offset"]:
        value = value.replace(tzinfo=parse_offset(parts["offset"]))
    return value, date_only


def parse_offset(raw) -> timezone:
    """An offset such as "-06:00", "+0100", "Z" or "GMT+2"."""
    text = clean(raw)
    if text == "Z":
        return timezone.utc
    match = _OFFSET.fullmatch(text)
    if not match:
        raise ValueError(f"offset {text[:20]!r} is not ±HH:MM")
    minutes = int(match["minutes"] or 0)
    offset = timedelta(hours=int(match["hours"]), minutes=minutes)
    if offset > MAX_OFFSET or minutes >= 60:
        raise ValueError(f"offset {text} is out of range")
    return timezone(-offset if match["sign"] == "-" else offset)


def parse_subseconds(raw) -> int:
    """EXIF SubSecTime ("144" is .144 s) as microseconds."""
    text = clean(raw)
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"sub-seconds {text[:20]!r} are not digits")
    return int(text[:6].ljust(6, "0"))


def with_fixed_offset(value: datetime) -> datetime:
    """The same instant with a plain ±HH:MM offset: what is stored and shown, not a zone's name."""
    return value.replace(tzinfo=timezone(value.utcoffset()), fold=0)


def format_offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


EPOCHS = {
    datetime(1970, 1, 1, tzinfo=timezone.utc): "1970-01-01, the Unix epoch: a clock that was never set",
    datetime(1904, 1, 1, tzinfo=timezone.utc): "1904-01-01, the QuickTime epoch: a time that was never set",
}


def implausible(value: datetime, *, now: datetime) -> str:
    """Why an aware value cannot be a capture time, or "" when it can."""
    if value.year < 1900:
        return "before 1900"
    for epoch, reason in EPOCHS.items():
        # An unset clock reads the epoch in whatever zone it believes it is in, plus the seconds
        # it has been running: anything within a day of the epoch is that.
        if abs(value - epoch) < timedelta(days=1):
            return reason
    if value > now + timedelta(days=1):
        return "more than a day in the future"
    return ""


def read_text(source: str, raw, *, instant: bool = False, note: str = "") -> Reading:
    """A Reading from a date written as text, or one that says why it could not be read."""
    text = clean(raw)
    try:
        value, date_only = parse_datetime(text)
    except ValueError as e:
        return Reading(source, text, problem=str(e), note=note)
    return Reading(source, text, value, instant=instant and value.tzinfo is not None, precision=DAY if date_only else SECOND, note=note)
