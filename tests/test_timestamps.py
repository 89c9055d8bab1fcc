"""The capture-time decision: which source wins, with which offset, and how sure we are.

Photos are real JPEGs written by Pillow with the EXIF and XMP under test, then read back the way
the pipeline reads them (one Image.open, getexif, info["xmp"])."""

import json
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from jobs.pipeline.timestamps import Clues, image_iptc, read_capture_time

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 1, 1, tzinfo=UTC)

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME = 0x0132  # IFD0: when the file was last changed
DATE_TIME_ORIGINAL, CREATE_DATE = 0x9003, 0x9004
OFFSET_TIME_ORIGINAL, SUBSEC_TIME_ORIGINAL = 0x9011, 0x9291
GPS_TIME_STAMP, GPS_DATE_STAMP = 0x0007, 0x001D


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


def xmp_packet(**properties: str) -> bytes:
    """An XMP packet as Adobe writes it, properties given as prefix_Name="value"."""
    attributes = " ".join(f'{name.replace("_", ":", 1)}="{value}"' for name, value in properties.items())
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        f"{attributes}/></rdf:RDF></x:xmpmeta>"
    ).encode()


@pytest.fixture
def photo(tmp_path):
    """photo(exif={...}, gps={...}, ifd0={...}, xmp=b"...", name=...) writes a JPEG and returns
    the Clues the pipeline would gather from it."""

    def make(*, name="DSC_0001.JPG", ifd0=None, exif=None, gps=None, xmp=None, folders=(), **clues) -> Clues:
        tags = Image.Exif()
        tags.update(ifd0 or {})
        if exif:
            tags.get_ifd(EXIF_IFD).update(exif)
        if gps:
            tags.get_ifd(GPS_IFD).update(gps)
        path = tmp_path / name
        Image.new("RGB", (8, 8), "green").save(path, "JPEG", exif=tags, **({"xmp": xmp} if xmp else {}))
        with Image.open(path) as im:
            return Clues(
                name=name,
                folders=folders,
                path=path,
                exif=im.getexif(),
                xmp=im.info.get("xmp"),
                iptc=image_iptc(im),
                **clues,
            )

    return make


def read(clues: Clues, zone=PARIS, now=NOW):
    return read_capture_time(clues, zone=zone, now=now)


def evidence_of(capture, source):
    return next(item for item in capture.evidence if item.source == source)


# --- The device's own record --------------------------------------------------------------------


def test_a_plain_camera_jpeg_is_trusted_as_its_wall_clock(photo):
    capture = read(photo(exif={DATE_TIME_ORIGINAL: "2021:07:14 10:00:00"}))

    assert capture.value == datetime(2021, 7, 14, 10, tzinfo=offset(2))  # summer time in Paris
    assert (capture.confidence, capture.source, capture.precision) == ("high", "exif:DateTimeOriginal", "second")
    assert capture.evidence[0].note == "offset unknown: read in Europe/Paris"


def test_a_wall_clock_is_never_shifted_by_the_zone_only_labelled(photo):
    clues = photo(exif={DATE_TIME_ORIGINAL: "2021:01:14 10:00:00"})

    in_tokyo, in_utc, in_paris = (read(clues, zone) for zone in (ZoneInfo("Asia/Tokyo"), UTC, PARIS))

    assert {capture.value.replace(tzinfo=None) for capture in (in_tokyo, in_utc, in_paris)} == {
        datetime(2021, 1, 14, 10)
    }
    assert [c.value.utcoffset() for c in (in_tokyo, in_utc, in_paris)] == [
        timedelta(hours=9),
        timedelta(0),
        timedelta(hours=1),  # winter time
    ]


def test_the_offset_and_subseconds_the_camera_wrote_are_kept(photo):
    clues = photo(
        exif={DATE_TIME_ORIGINAL: "2020:04:17 10:03:42", OFFSET_TIME_ORIGINAL: "-06:00", SUBSEC_TIME_ORIGINAL: "144"}
    )

    capture = read(clues)

    assert capture.value == datetime(2020, 4, 17, 10, 3, 42, 144000, tzinfo=offset(-6))
    assert capture.value.utcoffset() == timedelta(hours=-6)  # not converted to Paris
    assert capture.confidence == "high"
    assert capture.evidence[0].raw == "2020:04:17 10:03:42 (OffsetTimeOriginal -06:00, SubSecTimeOriginal 144)"


def test_the_cameras_record_beats_an_earlier_date_elsewhere(photo):
    """"Earliest candidate wins" picks a wrong date; the capture record wins instead. Edit and
    scan dates and file dates are weaker: they do not contradict it (a file name does:
    test_timestamps_kinds.py)."""
    clues = photo(
        name="Scan 2019-01-01.jpg",
        ifd0={DATE_TIME: "2018:05:01 09:00:00"},
        exif={DATE_TIME_ORIGINAL: "2021:07:14 10:00:00", CREATE_DATE: "2017:01:01 00:00:00"},
        file_modified=datetime(2016, 1, 1, tzinfo=UTC),
    )

    capture = read(clues)

    assert capture.source == "exif:DateTimeOriginal"
    assert capture.value.replace(tzinfo=None) == datetime(2021, 7, 14, 10)
    assert capture.confidence == "high" and not capture.conflict  # weaker sources do not contradict it
    assert [item.source for item in capture.evidence] == [
        "exif:DateTimeOriginal",
        "exif:CreateDate",
        "exif:DateTime",
        "filename",  # a date alone: the day tier
        "filesystem",
    ]
    assert all(item.accepted for item in capture.evidence)


def test_gps_time_tells_the_offset_of_a_naive_capture_time(photo):
    """An iPhone of 2016 writes no offset, but its GPS stamp (UTC) says it was one hour ahead."""
    clues = photo(
        exif={DATE_TIME_ORIGINAL: "2016:09:28 18:18:05"},
        gps={GPS_DATE_STAMP: "2016:09:28", GPS_TIME_STAMP: (17.0, 17.0, 58.65)},
    )

    capture = read(clues, zone=ZoneInfo("America/New_York"))

    assert capture.value == datetime(2016, 9, 28, 18, 18, 5, tzinfo=offset(1))
    assert capture.confidence == "high"
    assert capture.evidence[0].note == "offset +01:00 from gps (6.35 s apart)"
    assert evidence_of(capture, "gps").value == datetime(2016, 9, 28, 13, 17, 58, 650000, tzinfo=offset(-4))


def test_a_stale_gps_fix_tells_nothing(photo):
    clues = photo(
        exif={DATE_TIME_ORIGINAL: "2017:11:27 01:01:01"},
        gps={GPS_DATE_STAMP: "2017:11:26", GPS_TIME_STAMP: (21.0, 38.0, 0.0)},  # 3 h 23 min earlier
    )

    capture = read(clues)

    assert capture.value == datetime(2017, 11, 27, 1, 1, 1, tzinfo=offset(1))
    assert capture.evidence[0].note == "offset unknown: read in Europe/Paris"


def test_the_same_wall_clock_written_with_an_offset_elsewhere_gives_the_offset(photo):
    clues = photo(
        exif={DATE_TIME_ORIGINAL: "2011:03:12 15:36:11"},
        xmp=xmp_packet(xmp_CreateDate="2011-03-12T15:36:11.00+01:00"),
    )

    capture = read(clues, zone=UTC)

    assert capture.value == datetime(2011, 3, 12, 15, 36, 11, tzinfo=offset(1))
    assert capture.evidence[0].note == "offset +01:00 from xmp:xmp:CreateDate"


# --- Weaker sources -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tags, source",
    [
        ({"exif": {CREATE_DATE: "2021:07:14 10:00:00"}}, "exif:CreateDate"),
        ({"ifd0": {DATE_TIME: "2021:07:14 10:00:00"}}, "exif:DateTime"),
        ({"xmp": xmp_packet(photoshop_DateCreated="2021-07-14T10:00:00")}, "xmp:photoshop:DateCreated"),
        ({"name": "IMG_20210714_100000.jpg"}, "filename"),
    ],
)
def test_a_precise_but_weaker_source_is_medium(photo, tags, source):
    capture = read(photo(**tags))

    assert (capture.source, capture.confidence) == (source, "medium")
    assert capture.value == datetime(2021, 7, 14, 10, tzinfo=offset(2))


def test_gps_alone_is_medium_and_an_instant(photo):
    capture = read(photo(gps={GPS_DATE_STAMP: "2021:07:14", GPS_TIME_STAMP: (8.0, 0.0, 0.0)}))

    assert (capture.source, capture.confidence) == ("gps", "medium")
    assert capture.value == datetime(2021, 7, 14, 10, tzinfo=offset(2))  # 08:00 UTC shown in Paris
    assert capture.evidence[0].note == "UTC, shown in Europe/Paris"


def test_a_date_alone_is_low_with_date_precision(photo):
    capture = read(photo(name="IMG-20210714-WA0003.jpg", file_modified=datetime(2021, 7, 20, tzinfo=UTC)))

    assert (capture.source, capture.confidence, capture.precision) == ("filename", "low", "day")
    assert capture.value == datetime(2021, 7, 14, tzinfo=offset(2))  # midnight in the zone
    assert capture.evidence[0].note == "date only"


def test_file_dates_are_the_last_resort_and_the_browsers_comes_first(photo):
    clues = photo(
        file_modified=datetime(2024, 3, 1, 12, tzinfo=UTC),
        client_modified=datetime(2021, 7, 14, 8, tzinfo=UTC),
    )

    capture = read(clues)

    assert (capture.source, capture.confidence) == ("browser", "low")
    assert capture.value == datetime(2021, 7, 14, 10, tzinfo=offset(2))
    assert evidence_of(capture, "filesystem").accepted


def test_nothing_usable_is_none():
    capture = read(Clues(name="DSC_0001.JPG"))

    assert (capture.value, capture.confidence, capture.source, capture.evidence) == (None, "none", "", ())


# --- Plausibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "original, reason",
    [
        ("0000:00:00 00:00:00", "zero date"),
        ("    :  :     :  :  ", "empty or zero date"),
        ("1970:01:01 00:00:07", "1970-01-01, the Unix epoch: a clock that was never set"),
        ("1899:12:31 23:59:59", "before 1900"),
        ("2025:01:02 00:00:01", "more than a day in the future"),
        ("2021:02:30 10:00:00", "not a valid date"),
        ("yesterday", "not a date and time"),
    ],
)
def test_implausible_times_are_rejected_and_the_next_source_wins(photo, original, reason):
    clues = photo(exif={DATE_TIME_ORIGINAL: original, CREATE_DATE: "2021:07:14 10:00:00"})

    capture = read(clues, zone=UTC)

    rejected = evidence_of(capture, "exif:DateTimeOriginal")
    assert not rejected.accepted and rejected.note == reason
    assert (capture.source, capture.confidence) == ("exif:CreateDate", "medium")


def test_a_time_within_a_day_ahead_is_accepted(photo):
    """A camera clock a few hours ahead of the server is normal, not the future."""
    capture = read(photo(exif={DATE_TIME_ORIGINAL: "2025:01:01 20:00:00"}), zone=UTC)

    assert capture.source == "exif:DateTimeOriginal" and capture.evidence[0].accepted


@pytest.mark.parametrize("zone", [ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")])
@pytest.mark.parametrize("creation_time", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_times_at_the_ends_of_the_calendar_are_rejected(zone, creation_time):
    capture = read(Clues(name="clip.mp4", video_tags={"creation_time": creation_time}), zone=zone)

    assert capture.confidence == "none"
    assert capture.evidence[0].note in ("out of range", "before 1900", "more than a day in the future")


def test_unset_video_creation_times_are_rejected():
    tags = {"creation_time": "1904-01-01T00:00:00.000000Z", "date": "2021-06-01T14:00:00+0200"}

    capture = read(Clues(name="clip.mov", video_tags=tags))

    unset = evidence_of(capture, "mp4:creation_time")
    assert unset.note == "1904-01-01, the QuickTime epoch: a time that was never set"
    assert (capture.source, capture.value) == ("video:date", datetime(2021, 6, 1, 14, tzinfo=offset(2)))


# --- Time zones ---------------------------------------------------------------------------------


def test_a_wall_clock_the_zone_skips_is_medium(photo):
    """02:30 on the night clocks spring forward never shows in Paris: the camera was not on
    Paris time, so its offset is truly unknown."""
    capture = read(photo(exif={DATE_TIME_ORIGINAL: "2023:03:26 02:30:00"}))

    assert capture.confidence == "medium"
    assert capture.value.replace(tzinfo=None) == datetime(2023, 3, 26, 2, 30)
    assert capture.evidence[0].note == "offset unknown: a time Europe/Paris skips (daylight saving)"


def test_a_wall_clock_that_occurs_twice_is_high_and_the_first(photo):
    capture = read(photo(exif={DATE_TIME_ORIGINAL: "2023:10:29 02:30:00"}))

    assert capture.confidence == "high"
    assert capture.value == datetime(2023, 10, 29, 2, 30, tzinfo=offset(2))  # still summer time
    assert "occurs twice" in capture.evidence[0].note


# --- Conflicts ----------------------------------------------------------------------------------


def test_capture_records_that_disagree_by_more_than_a_day_are_a_low_conflict(photo):
    clues = photo(
        exif={DATE_TIME_ORIGINAL: "2020:05:01 12:00:00"},
        xmp=xmp_packet(exif_DateTimeOriginal="2020-06-01T12:00:00"),
    )

    capture = read(clues)

    assert (capture.confidence, capture.conflict, capture.source) == ("low", True, "exif:DateTimeOriginal")
    assert capture.value.replace(tzinfo=None) == datetime(2020, 5, 1, 12)
    assert evidence_of(capture, "xmp:exif:DateTimeOriginal").note.endswith(
        "contradicts exif:DateTimeOriginal by 31.0 days"
    )


def test_records_a_time_zone_apart_do_not_conflict():
    """Apple's local creation date and the UTC movie header of the same clip."""
    tags = {"com.apple.quicktime.creationdate": "2020-04-17T10:03:47-0600", "creation_time": "2020-04-17T16:03:47Z"}

    capture = read(Clues(name="IMG_3589.mov", video_tags=tags))

    assert (capture.source, capture.confidence, capture.conflict) == ("quicktime:creationdate", "high", False)
    assert capture.value == datetime(2020, 4, 17, 10, 3, 47, tzinfo=offset(-6))


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exif, gps",
    [
        ({DATE_TIME_ORIGINAL: "2021:07:14 10:00:00", OFFSET_TIME_ORIGINAL: "+99:99", SUBSEC_TIME_ORIGINAL: "x1"}, {}),
        ({DATE_TIME_ORIGINAL: b"\xff\xfe\x00junk"}, {GPS_DATE_STAMP: "2021:13:45", GPS_TIME_STAMP: (25.0, 0.0, 0.0)}),
        ({DATE_TIME_ORIGINAL: 12345}, {GPS_TIME_STAMP: (1.0, 2.0, 3.0)}),
        ({DATE_TIME_ORIGINAL: "9999:12:31 23:59:59" * 50}, {GPS_DATE_STAMP: "2021:07:14"}),
    ],
)
def test_hostile_values_become_rejected_evidence_never_errors(photo, exif, gps):
    capture = read(photo(exif=exif, gps=gps, file_modified=datetime(2021, 7, 14, tzinfo=UTC)))

    assert capture.evidence and all(item.note for item in capture.evidence if not item.accepted)
    assert all(len(item.raw) <= 201 for item in capture.evidence)  # a glimpse of a hostile value
    json.dumps([item.as_dict() for item in capture.evidence])


@pytest.mark.filterwarnings("ignore:.*:UserWarning:PIL")  # Pillow's own complaints about the damage
def test_damaged_exif_blocks_never_raise(photo):
    """Bytes of a real EXIF block (all three times, offsets, GPS) flipped at random: whatever
    Pillow still loads, the engine reads without an error."""
    clues = photo(
        ifd0={DATE_TIME: "2021:07:14 10:00:00"},
        exif={DATE_TIME_ORIGINAL: "2021:07:14 10:00:00", OFFSET_TIME_ORIGINAL: "+02:00", SUBSEC_TIME_ORIGINAL: "5"},
        gps={GPS_DATE_STAMP: "2021:07:14", GPS_TIME_STAMP: (8.0, 0.0, 0.0)},
    )
    block = clues.exif.tobytes()
    chance = random.Random(5)
    loaded = 0
    for _ in range(300):
        damaged = bytearray(block)
        for _ in range(chance.randint(1, 8)):
            damaged[chance.randrange(8, len(damaged))] = chance.randrange(256)
        exif = Image.Exif()
        try:
            exif.load(bytes(damaged))
        except Exception:  # noqa: BLE001 - the pipeline's Image.open would have refused this file
            continue
        loaded += 1
        capture = read(Clues(name="DSC_0001.JPG", exif=exif))
        assert capture.confidence in ("high", "medium", "low", "none")
    assert loaded > 200


def test_damaged_offset_and_subseconds_are_ignored_with_a_note(photo):
    clues = photo(
        exif={DATE_TIME_ORIGINAL: "2021:07:14 10:00:00", OFFSET_TIME_ORIGINAL: "+99:99", SUBSEC_TIME_ORIGINAL: "x1"}
    )

    capture = read(clues)

    assert capture.value == datetime(2021, 7, 14, 10, tzinfo=offset(2))
    assert capture.evidence[0].note == (
        "offset unknown: read in Europe/Paris; "
        "sub-seconds 'x1' are not digits: ignored; offset +99:99 is out of range: ignored"
    )


@pytest.mark.parametrize(
    "packet, problem",
    [
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "XMP packet declares a document type"),
        (b"<x:xmpmeta><unclosed>", "XMP is not well-formed"),
    ],
)
def test_a_hostile_or_broken_xmp_packet_is_rejected(photo, packet, problem):
    capture = read(photo(exif={DATE_TIME_ORIGINAL: "2021:07:14 10:00:00"}, xmp=packet))

    assert evidence_of(capture, "xmp").note.startswith(problem)
    assert capture.source == "exif:DateTimeOriginal"


def test_evidence_is_json_ready(photo):
    capture = read(photo(exif={DATE_TIME_ORIGINAL: "2021:07:14 10:00:00", CREATE_DATE: "0000:00:00 00:00:00"}))

    assert json.loads(json.dumps(capture.as_dict())) == {
        "value": "2021-07-14T10:00:00+02:00",
        "confidence": "high",
        "source": "exif:DateTimeOriginal",
        "conflict": False,
        "precision": "second",
        "offset_known": False,  # +02:00 is Paris's offset on that day, not one the file told
        "evidence": [
            {
                "source": "exif:DateTimeOriginal",
                "raw": "2021:07:14 10:00:00",
                "value": "2021-07-14T10:00:00+02:00",
                "accepted": True,
                "note": "offset unknown: read in Europe/Paris",
            },
            {
                "source": "exif:CreateDate",
                "raw": "0000:00:00 00:00:00",
                "value": None,
                "accepted": False,
                "note": "zero date",
            },
        ],
    }
