"""Dates in file and folder names, as phones, cameras, messengers and sync tools write them."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jobs.pipeline.timestamps import Clues, read_capture_time

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def read(name="DSC00007.JPG", folders=()):
    return read_capture_time(Clues(name=name, folders=folders), zone=PARIS, now=NOW)


@pytest.mark.parametrize(
    "name, wall_clock",
    [
        ("IMG_20230102_030405.jpg", datetime(2023, 1, 2, 3, 4, 5)),  # Android camera
        ("VID_20230102_030405.mp4", datetime(2023, 1, 2, 3, 4, 5)),
        ("IMG_20230102_030405_HDR~2.jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("MVIMG_20230102_030405.jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("20230102_030405.jpg", datetime(2023, 1, 2, 3, 4, 5)),  # Samsung
        ("20230102_030405(0).jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("Screenshot_20230102-030405.png", datetime(2023, 1, 2, 3, 4, 5)),  # Android
        ("Screenshot_20230102_030405_Chrome.jpg", datetime(2023, 1, 2, 3, 4, 5)),  # Samsung
        ("Screenshot_2023-01-02-03-04-05-123_com.android.chrome.jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("Screenshot 2023-01-02 at 15.04.05.png", datetime(2023, 1, 2, 15, 4, 5)),  # macOS
        ("Screen Shot 2019-01-02 at 3.04.05 PM.png", datetime(2019, 1, 2, 15, 4, 5)),  # older macOS
        ("Screen Shot 2019-01-02 at 12.04.05\u202fAM.png", datetime(2019, 1, 2, 0, 4, 5)),
        ("WhatsApp Image 2023-01-02 at 15.04.05.jpeg", datetime(2023, 1, 2, 15, 4, 5)),
        ("WhatsApp Video 2023-01-02 at 15.04.05 (1).mp4", datetime(2023, 1, 2, 15, 4, 5)),
        ("signal-2023-01-02-030405.jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("signal-2023-01-02-030405_002.jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("2023-01-02 03.04.05.jpg", datetime(2023, 1, 2, 3, 4, 5)),  # Dropbox camera uploads
        ("2023-01-02 03.04.05-1.jpg", datetime(2023, 1, 2, 3, 4, 5)),
        ("WP_20230102_03_04_05_Pro.jpg", datetime(2023, 1, 2, 3, 4, 5)),  # Windows Phone
        ("DJI_20230102030405_0001_D.JPG", datetime(2023, 1, 2, 3, 4, 5)),
    ],
)
def test_local_times_in_names_are_wall_clock_times(name, wall_clock):
    capture = read(name)

    assert (capture.source, capture.confidence, capture.precision) == ("filename", "medium", "second")
    assert capture.value.replace(tzinfo=None) == wall_clock
    assert capture.evidence[0].note == "offset unknown: read in Europe/Paris"


def test_pixel_names_are_utc():
    capture = read("PXL_20230102_030405123.MP.jpg")

    assert capture.value == datetime(2023, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    assert capture.value.utcoffset() == timedelta(hours=1)  # shown in Paris: 04:04:05.123+01:00
    assert capture.evidence[0].note == "UTC, shown in Europe/Paris"


@pytest.mark.parametrize(
    "name, day",
    [
        ("IMG-20230102-WA0001.jpg", datetime(2023, 1, 2)),  # WhatsApp: a date only
        ("VID-20230102-WA0012.mp4", datetime(2023, 1, 2)),
        ("Scan 2023-01-02.jpg", datetime(2023, 1, 2)),
    ],
)
def test_names_with_only_a_date_are_low(name, day):
    capture = read(name)

    assert (capture.source, capture.confidence, capture.precision) == ("filename", "low", "day")
    assert capture.value.replace(tzinfo=None) == day


@pytest.mark.parametrize(
    "name",
    [
        "IMG_3589.HEIC",
        "DSC00007.JPG",
        "P1000244.MOV",
        "_MG_0635.JPG",
        "IMG_20231399_030405.jpg",  # no 99th of the 13th month
        "IMG_20230102_256161.jpg",  # nor such a time
        "1234567890123.jpg",
        "IMG_20230102.jpg",  # eight digits without separators could be any serial number
    ],
)
def test_names_without_a_real_date_give_none(name):
    assert read(name).evidence == ()


@pytest.mark.parametrize(
    "folders, day",
    [
        (("Photos", "2014-08-15 Beach"), datetime(2014, 8, 15)),
        (("2014_08_15",), datetime(2014, 8, 15)),
        (("archive", "2014", "08", "15"), datetime(2014, 8, 15)),
        (("2014", "8", "5"), datetime(2014, 8, 5)),
        (("2010-01-01 Trip", "2014-08-15 Beach", "raw"), datetime(2014, 8, 15)),  # the nearest folder
    ],
)
def test_folders_name_a_date_only(folders, day):
    capture = read(folders=folders)

    assert (capture.source, capture.confidence, capture.precision) == ("folder", "low", "day")
    assert capture.value == day.replace(tzinfo=PARIS)


@pytest.mark.parametrize("folders", [("DCIM", "100CANON"), ("1998-2004",), ("1920x1080",), ("Canon EOS 2000D",)])
def test_folders_without_a_date_give_none(folders):
    assert read(folders=folders).evidence == ()


def test_a_time_in_the_name_beats_a_folders_date():
    capture = read("IMG_20140815_101010.jpg", folders=("2014-08-16 Beach",))

    assert capture.source == "filename"
    assert [item.source for item in capture.evidence] == ["filename", "folder"]
