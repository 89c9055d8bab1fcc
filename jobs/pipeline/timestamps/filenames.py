"""Dates in file and folder names: phones, cameras, messengers, screenshots and sync tools."""

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from .evidence import DAY, MONTH, SECOND, YEAR, Reading

_YEAR_MONTH_DAY = r"(?P<year>(?:19|20)\d\d)(?P<ds>[-_.]?)(?P<month>\d\d)(?P=ds)(?P<day>\d\d)"
_HOUR_MINUTE_SECOND = r"(?P<hour>\d\d)(?P<ts>[-_.:]?)(?P<minute>\d\d)(?P=ts)(?P<second>\d\d)"
_COMPACT_DATE = r"(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)"
_COMPACT_TIME = r"(?P<hour>\d\d)(?P<minute>\d\d)(?P<second>\d\d)"


def _pattern(regex: str) -> re.Pattern:
    return re.compile(regex, re.ASCII | re.IGNORECASE)


# (pattern, is UTC); the first that matches with a valid date wins.
FILE_NAMES = (
    # Google Pixel: PXL_20230102_030405123.jpg, in UTC (unlike every other phone).
    (_pattern(rf"^PXL_{_COMPACT_DATE}_{_COMPACT_TIME}(?P<millis>\d{{3}})?"), True),
    # WhatsApp: IMG-20230102-WA0001.jpg, VID-…: the day it was sent or received, no time.
    (_pattern(rf"^(?:IMG|VID)-{_COMPACT_DATE}-WA\d+"), False),
    # macOS screenshots and WhatsApp's desktop and iOS exports, with a 12- or 24-hour clock:
    # "Screenshot 2023-01-02 at 15.04.05.png", "Screen Shot 2019-01-02 at 3.04.05 PM.png",
    # "WhatsApp Image 2023-01-02 at 15.04.05.jpeg". macOS puts a narrow no-break space before PM.
    (
        _pattern(
            r"^(?:Screen ?shot|WhatsApp (?:Image|Video)) (?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d) at "
            r"(?P<hour>\d{1,2})\.(?P<minute>\d\d)\.(?P<second>\d\d)(?:[ \u202f](?P<meridiem>[AP]M))?"
        ),
        False,
    ),
    # DJI drones: DJI_20230102030405_0001_D.JPG.
    (_pattern(rf"^DJI_{_COMPACT_DATE}{_COMPACT_TIME}"), False),
    # A date and a time anywhere, in local time: IMG_20230102_030405 and VID_…, Samsung
    # 20230102_030405, Android Screenshot_20230102-030405 and Screenshot_2023-01-02-03-04-05-123,
    # signal-2023-01-02-030405, Dropbox 2023-01-02 03.04.05, WP_20230102_03_04_05.
    (_pattern(rf"(?<!\d){_YEAR_MONTH_DAY}[ _T-]{_HOUR_MINUTE_SECOND}(?:\d{{3}})?(?!\d)"), False),
    # A date alone, with separators so that serial numbers are not mistaken for one: "Scan 2023-01-02".
    (_pattern(r"(?<!\d)(?P<year>(?:19|20)\d\d)(?P<ds>[-_.])(?P<month>\d\d)(?P=ds)(?P<day>\d\d)(?!\d)"), False),
)

# Folder names. A date, a month or a year that stands as its own word: "2014-08-15 Beach",
# "2014-07 Italy", "July 2014", "Christmas 2009", Takeout's "Photos from 2009". Letters or digits
# touching the number make it part of something else ("1920x1080", "DSC2009").
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_FOLDER_DATE = _pattern(
    rf"{_ALONE_BEFORE}(?P<year>(?:19|20)\d\d)(?P<ds>[-_. ])(?P<month>\d\d)(?P=ds)(?P<day>\d\d){_ALONE_AFTER}"
)
_FOLDER_MONTH = _pattern(rf"{_ALONE_BEFORE}(?P<year>(?:19|20)\d\d)[-_.](?P<month>\d\d){_ALONE_AFTER}")
_FOLDER_YEAR = _pattern(rf"{_ALONE_BEFORE}(?:19|20)\d\d{_ALONE_AFTER}")
_YEAR, _MONTH_OR_DAY = _pattern(r"(?:19|20)\d\d"), _pattern(r"\d\d?")

# Month names that mean the same month in every language listed (English with its abbreviations,
# German, French, Spanish, Dutch, Italian), so none is ambiguous. "Jan" (a first name) and "mar"
# (the sea, in Spanish and Italian) are left out: "Jan 2015" and "Mar del Plata 2015" name a year.
MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            "january januar janvier enero januari gennaio",
            "february feb februar février fevrier febrero februari febbraio",
            "march märz maerz mars marzo maart",
            "april apr avril abril aprile",
            "may mai mayo mei maggio",
            "june jun juni juin junio giugno",
            "july jul juli juillet julio luglio",
            "august aug août aout agosto augustus",
            "september sep sept septembre septiembre settembre",
            "october oct oktober octobre octubre ottobre",
            "november nov novembre noviembre",
            "december dec dezember décembre decembre diciembre dicembre",
        ),
        start=1,
    )
    for name in names.split()
}
_WORDS = re.compile(r"[^\W\d_]+|\d+")


def filename_readings(name: str) -> list[Reading]:
    for pattern, utc in FILE_NAMES:
        for match in pattern.finditer(name):
            if value := _moment(match):
                if utc:
                    value = value.replace(tzinfo=timezone.utc)
                precision = DAY if match.groupdict().get("hour") is None else SECOND
                return [Reading("filename", name, value, instant=utc, precision=precision)]
    return []


def folder_readings(folders: Sequence[str]) -> list[Reading]:
    """The date the nearest folder names, at the precision it names it: a day ("2014-08-15 Beach",
    2014/08/15), a month ("2014-07 Italy", 2014/07, "July 2014", 2014/July) or a year ("2009",
    "Christmas 2009"). A folder naming two different years ("1998-2004") names none."""
    for depth in range(len(folders) - 1, -1, -1):
        if reading := _folder_reading(folders[: depth + 1]):
            return [reading]
    return []


def _folder_reading(folders: Sequence[str]) -> Reading | None:
    name, parents = folders[-1], folders[:-1]
    in_a_year = bool(parents) and _YEAR.fullmatch(parents[-1]) is not None
    if not in_a_year and not any(character.isdigit() for character in name):
        return None  # most folders ("DCIM", "Holiday"): nothing to read, and quickly so
    if (match := _FOLDER_DATE.search(name)) and (value := _moment(match)):
        return Reading("folder", name, value, precision=DAY)
    if len(parents) >= 2 and _YEAR.fullmatch(parents[-2]) and _MONTH_OR_DAY.fullmatch(parents[-1]):
        if _MONTH_OR_DAY.fullmatch(name) and (value := _moment(dict(year=parents[-2], month=parents[-1], day=name))):
            return Reading("folder", "/".join(folders[-3:]), value, precision=DAY)
    if (match := _FOLDER_MONTH.search(name)) and (value := _moment(dict(match.groupdict(), day=1))):
        return Reading("folder", name, value, precision=MONTH)
    words = [word.casefold() for word in _WORDS.findall(name)]
    months = {MONTH_NAMES[word] for word in words if word in MONTH_NAMES}
    years = set(_FOLDER_YEAR.findall(name))
    if in_a_year and not years:
        # 2014/07 and 2014/July: the month in a year's folder.
        month = int(name) if _MONTH_OR_DAY.fullmatch(name) else (months.pop() if len(months) == 1 else None)
        if month and (value := _moment(dict(year=parents[-1], month=month, day=1))):
            return Reading("folder", "/".join(folders[-2:]), value, precision=MONTH)
    if len(years) == 1:
        year = years.pop()
        if len(months) == 1 and (value := _moment(dict(year=year, month=months.pop(), day=1))):
            return Reading("folder", name, value, precision=MONTH)
        return Reading("folder", name, datetime(int(year), 1, 1), precision=YEAR)
    return None


def _moment(parts) -> datetime | None:
    """The naive datetime the matched parts name, or None when they name no real date."""
    get = parts.get if isinstance(parts, dict) else parts.groupdict().get
    hour = int(get("hour") or 0)
    if (meridiem := (get("meridiem") or "").upper()) and not 1 <= hour <= 12:
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
    try:
        return datetime(
            int(get("year")),
            int(get("month")),
            int(get("day")),
            hour,
            int(get("minute") or 0),
            int(get("second") or 0),
            int(get("millis") or 0) * 1000,
        )
    except ValueError:
        return None
