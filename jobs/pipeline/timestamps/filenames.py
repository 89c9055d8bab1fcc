"""Dates in file and folder names: phones, cameras, messengers, screenshots and sync tools."""

import re
from collections.abc import Sequence
from datetime import datetime, timezone

from .evidence import Reading

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

_FOLDER_DATE = _pattern(r"(?P<year>(?:19|20)\d\d)(?P<ds>[-_. ])(?P<month>\d\d)(?P=ds)(?P<day>\d\d)(?!\d)")
_YEAR, _MONTH_OR_DAY = _pattern(r"(?:19|20)\d\d"), _pattern(r"\d\d?")


def filename_readings(name: str) -> list[Reading]:
    for pattern, utc in FILE_NAMES:
        for match in pattern.finditer(name):
            if value := _moment(match):
                if utc:
                    value = value.replace(tzinfo=timezone.utc)
                return [Reading("filename", name, value, instant=utc, date_only=match.groupdict().get("hour") is None)]
    return []


def folder_readings(folders: Sequence[str]) -> list[Reading]:
    """The date of the nearest folder that names one: "2014-08-15 Beach", or 2014/08/15."""
    for depth in range(len(folders) - 1, -1, -1):
        if (match := _FOLDER_DATE.match(folders[depth])) and (value := _moment(match)):
            return [Reading("folder", folders[depth], value, date_only=True)]
        year, month, day = folders[max(depth - 2, 0) : depth + 1] if depth >= 2 else ("", "", "")
        if _YEAR.fullmatch(year) and _MONTH_OR_DAY.fullmatch(month) and _MONTH_OR_DAY.fullmatch(day):
            if value := _moment({"year": year, "month": month, "day": day}):
                return [Reading("folder", f"{year}/{month}/{day}", value, date_only=True)]
    return []


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
