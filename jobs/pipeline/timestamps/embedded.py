"""Dates inside a picture: EXIF with its offsets and sub-seconds, GPS, XMP and IPTC."""

import math
import re
from collections.abc import Mapping
from datetime import timedelta, timezone

from PIL import Image

from .evidence import DAY, SECOND, Reading
from .parsing import clean, parse_datetime, parse_offset, parse_subseconds, read_text
from .xmp import xmp_dates

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
GPS_TIME_STAMP, GPS_DATE_STAMP = 0x0007, 0x001D
IPTC_DATE_CREATED, IPTC_TIME_CREATED = (2, 55), (2, 60)

# Each EXIF time with the tags that complete it: (source, tag, offset tag, sub-seconds tag).
EXIF_TIMES = (
    ("exif:DateTimeOriginal", 0x9003, 0x9011, 0x9291),
    ("exif:CreateDate", 0x9004, 0x9012, 0x9292),
    ("exif:DateTime", 0x0132, 0x9010, 0x9290),
)
TAG_NAMES = {0x9011: "OffsetTimeOriginal", 0x9012: "OffsetTimeDigitized", 0x9010: "OffsetTime"}
TAG_NAMES |= {0x9291: "SubSecTimeOriginal", 0x9292: "SubSecTimeDigitized", 0x9290: "SubSecTime"}


def embedded_readings(*, exif: Image.Exif | None, xmp, iptc: Mapping | None) -> list[Reading]:
    readings = []
    if exif:
        readings += exif_readings(exif)
    if xmp:
        readings += xmp_readings(xmp, prefix="xmp")
    if iptc:
        readings += iptc_readings(iptc)
    return readings


def exif_readings(exif: Image.Exif) -> list[Reading]:
    exif_ifd = _ifd(exif, EXIF_IFD)
    readings = []
    for source, tag, offset_tag, subsec_tag in EXIF_TIMES:
        # The standard puts DateTime in IFD0 and the others in the Exif IFD; some writers put
        # everything in IFD0, so each tag is looked up in both.
        raw = exif_ifd.get(tag, exif.get(tag))
        if raw is not None:
            offset = exif_ifd.get(offset_tag, exif.get(offset_tag))
            subsec = exif_ifd.get(subsec_tag, exif.get(subsec_tag))
            readings.append(_exif_time(source, raw, offset=(offset_tag, offset), subsec=(subsec_tag, subsec)))
    if gps := _gps_reading(_ifd(exif, GPS_IFD)):
        readings.append(gps)
    return readings


def _ifd(exif: Image.Exif, tag: int) -> Mapping:
    try:
        return exif.get_ifd(tag)
    except Exception:  # noqa: BLE001 - Pillow reads sub-IFDs lazily; a bad offset raises anything
        return {}


def _exif_time(source: str, raw, *, offset: tuple, subsec: tuple) -> Reading:
    companions = {tag: clean(value) for tag, value in (offset, subsec) if value is not None}
    companions = {tag: text for tag, text in companions.items() if text.strip(" :")}  # blank fields
    described = clean(raw)
    if companions:
        described += " (" + ", ".join(f"{TAG_NAMES[tag]} {text}" for tag, text in companions.items()) + ")"
    try:
        value, date_only = parse_datetime(raw)
    except ValueError as e:
        return Reading(source, described, problem=str(e))
    notes = []
    if (text := companions.get(subsec[0])) and not value.microsecond:
        try:
            value = value.replace(microsecond=parse_subseconds(text))
        except ValueError as e:
            notes.append(f"{e}: ignored")
    if (text := companions.get(offset[0])) and value.tzinfo is None:
        try:
            value = value.replace(tzinfo=parse_offset(text))
        except ValueError as e:
            notes.append(f"{e}: ignored")
    return Reading(source, described, value, precision=DAY if date_only else SECOND, note="; ".join(notes))


def _gps_reading(gps: Mapping) -> Reading | None:
    """GPS date and time: an instant in UTC, kept by the receiver's own clock."""
    date, time = gps.get(GPS_DATE_STAMP), gps.get(GPS_TIME_STAMP)
    if date is None and time is None:
        return None
    try:
        hours, minutes, seconds = (float(part) for part in time)
    except (TypeError, ValueError, ZeroDivisionError):
        hours = minutes = seconds = math.nan
    described = f"{clean(date) if date is not None else '?'} {time!r}"
    if date is None:
        return Reading("gps", described, problem="GPS time without a date")
    if time is None:
        return Reading("gps", described, problem="GPS date without a time")
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        return Reading("gps", described, problem="GPS time stamp is not a time of day")
    described = f"{clean(date)} {int(hours):02d}:{int(minutes):02d}:{seconds:06.3f}"
    try:
        day, date_only = parse_datetime(date)
    except ValueError as e:
        return Reading("gps", described, problem=str(e))
    if not date_only:
        return Reading("gps", described, problem="GPS date stamp is not a date")
    elapsed = timedelta(hours=int(hours), minutes=int(minutes), seconds=seconds)
    return Reading("gps", described, (day + elapsed).replace(tzinfo=timezone.utc), instant=True)


def xmp_readings(packet, *, prefix: str) -> list[Reading]:
    """Readings named f"{prefix}:exif:DateTimeOriginal" and so on."""
    found, problem = xmp_dates(packet)
    if problem:
        return [Reading(prefix, "", problem=problem)]
    return [read_text(f"{prefix}:{name}", value) for name, value in found.items()]


_IPTC_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_IPTC_TIME = re.compile(r"(\d{2})(\d{2})(\d{2})([+-]\d{4})?", re.ASCII)


def iptc_readings(iptc: Mapping) -> list[Reading]:
    """IPTC DateCreated (CCYYMMDD) and TimeCreated (HHMMSS±HHMM), which photo desks fill in."""
    date, time = _first(iptc.get(IPTC_DATE_CREATED)), _first(iptc.get(IPTC_TIME_CREATED))
    if date is None:
        return []
    described = f"{clean(date)} {clean(time) if time is not None else ''}".strip()
    day = _IPTC_DATE.fullmatch(clean(date))
    if not day:
        return [Reading("iptc:DateCreated", described, problem="IPTC date is not CCYYMMDD")]
    text = "-".join(day.groups())
    if time is not None and (moment := _IPTC_TIME.fullmatch(clean(time))):
        text += "T" + ":".join(moment.groups()[:3]) + (moment[4] or "")
    reading = read_text("iptc:DateCreated", text)
    return [Reading(reading.source, described, reading.value, precision=reading.precision, problem=reading.problem)]


def _first(value):
    """IPTC datasets may repeat; Pillow then gives a list."""
    if isinstance(value, list):
        return value[0] if value else None
    return value

