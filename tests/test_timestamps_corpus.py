"""The engine on the real-media corpus, against exiftool's readings (MANIFEST.tsv).

Files are copied to a temporary folder before anything opens them."""

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from benchmarks.capture_time_accuracy import agrees, clues_for, expected_time
from jobs.pipeline.timestamps import CONFIDENCES, read_capture_time

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")

# Where we and exiftool differ, and why (docs/timestamps.md explains each).
KNOWN_DISAGREEMENTS = {
    "exiftool/Pentax.avi": "exiftool drops the seconds of IDIT '2009/10/27 12:14:34'; we keep them",
    "drewnoakes/jpg/FLIR Vue Pro 640.jpg": "date only in FLIR's own record",
    "drewnoakes/jpg/FLIR iPhone device.jpg": "date only in FLIR's own record",
    "drewnoakes/jpg/Reconyx HC500 firmware 3.3.0.jpg": "date only in the Reconyx maker note",
    "exif-samples/jpg/Reconyx_HC500_Hyperfire.jpg": "date only in the Reconyx maker note",
    "exiftool/CasioQVCI.jpg": "date only in Casio's QVCI segment",
}


@pytest.fixture
def capture_of(corpus, manifest, tmp_path):
    """capture_of("elodie/plain.jpg", zone) reads a temporary copy as the pipeline would."""

    def read(relative: str, zone=UTC):
        copy = tmp_path / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus / relative, copy)
        video = manifest[relative]["mime"].startswith("video/")
        clues = clues_for(copy, name=copy.name, folders=Path(relative).parent.parts, video=video)
        return read_capture_time(clues, zone=zone)

    return read


def test_every_file_exiftool_dates_agrees_but_the_known_ones(manifest, capture_of):
    dated = [
        row
        for row in manifest.values()
        if row["DateTimeOriginal"] or row["QuickTimeCreationDate"] or row["QuickTimeCreateDate"]
    ]

    disagreeing = {row["path"] for row in dated if not agrees(*expected_time(row), capture_of(row["path"]))}

    assert len(dated) == 256
    assert disagreeing == set(KNOWN_DISAGREEMENTS)


def test_every_corpus_file_is_read_without_error(manifest, capture_of):
    captures = [capture_of(path) for path in manifest]

    assert {capture.confidence for capture in captures} <= set(CONFIDENCES)
    assert all(capture.value is None or capture.value.tzinfo for capture in captures)


def test_a_live_photos_picture_and_movie_agree(capture_of):
    picture = capture_of("digicam/Apple/iPhone XR/IMG_3589.HEIC", PARIS)
    movie = capture_of("digicam/Apple/iPhone XR/IMG_3589.mov", PARIS)

    assert (picture.source, movie.source) == ("exif:DateTimeOriginal", "quicktime:creationdate")
    assert picture.value.utcoffset() == movie.value.utcoffset() == timedelta(hours=-6)
    assert abs(picture.value - movie.value) < timedelta(seconds=2)
    assert picture.confidence == movie.confidence == "high"


@pytest.mark.parametrize(
    "relative, source, value",
    [
        # AVCHD: the camcorder's clock and offset, from the H.264 stream's MDPM records.
        ("drewnoakes/mts/Sony ILCE-7M3 (A7M3).mts", "h264:DateTimeOriginal", "2019-04-24T22:24:00+02:00"),
        ("exiftool/M2TS.mts", "h264:DateTimeOriginal", "2008-12-31T23:16:24+01:00"),
        # Matroska with no decodable stream: PyAV cannot open it, its DateUTC is read directly.
        ("exiftool/Matroska.mkv", "mkv:creation_time", "2010-02-03T21:17:48+00:00"),
        # An Android-style udta "date" atom, 34 s before the movie header's time.
        ("drewnoakes/mp4/Issue 515 (java).mp4", "mp4:date", "2020-11-20T15:04:02+01:00"),
        # Canon's AVI: IDIT, the camera's wall clock.
        ("digicam/Canon/PowerShot G2/MVI_0314.AVI", "avi:creation_time", "2022-01-20T08:16:08+00:00"),
        # A camera MOV without Apple's keys: the movie header, UTC by specification.
        ("digicam/Panasonic/DS CAMERA/DCIM/100_PANA/P1000244.MOV", "mp4:creation_time", "2023-10-21T10:20:01+00:00"),
        # Photo Mechanic's IPTC time carries its offset; the XMP copy has the date only.
        ("exiftool/PhotoMechanic.jpg", "iptc:DateCreated", "2006-10-29T06:27:51-05:00"),
    ],
)
def test_sources_beyond_exif(capture_of, relative, source, value):
    capture = capture_of(relative)

    assert capture.source == source
    assert capture.value == datetime.fromisoformat(value)
    assert capture.value.utcoffset() == datetime.fromisoformat(value).utcoffset()


def test_an_edited_movie_whose_records_disagree_is_a_low_conflict(capture_of):
    capture = capture_of("elodie/video.mov")

    assert (capture.source, capture.confidence, capture.conflict) == ("quicktime:creationdate", "low", True)
    assert capture.value == datetime(2015, 1, 19, 12, 45, 11, tzinfo=timezone(timedelta(hours=-8)))


def test_iptcs_default_plus_zero_offset_is_not_taken_for_a_cameras(capture_of):
    """The IPTC copy of the time says +0000 because IPTC demands an offset, not because it was
    taken in London; the photo stays on Paris wall-clock time."""
    capture = capture_of("elodie/plain.jpg", PARIS)

    assert capture.value == datetime(2015, 12, 5, 0, 59, 26, 840000, tzinfo=timezone(timedelta(hours=1)))
    assert capture.evidence[0].note == "offset unknown: read in Europe/Paris"


def test_gps_gives_the_offset_of_a_phone_photo_without_one(capture_of):
    capture = capture_of("drewnoakes/jpg/HTC Desire.jpg", PARIS)

    assert capture.value == datetime(2011, 5, 6, 9, 59, 48, tzinfo=timezone(timedelta(hours=2)))
    assert capture.evidence[0].note == "offset +02:00 from gps (0 s apart)"


@pytest.mark.parametrize("relative", ["drewnoakes/jpg/Nikon E885.jpg", "drewnoakes/jpg/Issue 609.jpg"])
def test_zero_dates_are_rejected_for_the_next_source(capture_of, relative):
    capture = capture_of(relative)

    original = next(item for item in capture.evidence if item.source == "exif:DateTimeOriginal")
    assert (original.accepted, original.note) == (False, "zero date")
    assert capture.source != "exif:DateTimeOriginal"


def test_a_heif_cut_off_after_its_header_keeps_its_cameras_time(capture_of):
    """Its mdat declares 6 MB and 28 KB are there: Pillow cannot open it, its EXIF item is read."""
    capture = capture_of("broken/pillow-heif/heif_corrupted/corrupted.hif")

    assert capture.value == datetime(2020, 2, 19, 6, 4, 51, 10000, tzinfo=timezone(timedelta(hours=-8)))
    assert (capture.source, capture.confidence, capture.precision, capture.offset_known) == (
        "exif:DateTimeOriginal", "high", "second", True,
    )  # fmt: skip
