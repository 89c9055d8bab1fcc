"""Capture-time faults other tools' users hit, by kind (docs/timestamps.md, "Faults fixed by kind").

Every input is written here by a real writer: PyAV (FFmpeg's muxers) for videos, Pillow for
JPEGs, JSON files named as Google Takeout names them. Each test asserts the instant, the offset
shown, the precision and the confidence."""

import json
import os
import struct
import unicodedata
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from jobs.pipeline.analysis import analyse
from jobs.pipeline.timestamps import Clues, container_tags, read_capture_time
from tests.test_timestamps_video import video_clues, write_video

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 11, 36, tzinfo=UTC)
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME_ORIGINAL = 0x9003


def at(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


def jpeg(path, *, original=None, gps=None, size=(64, 48)):
    """A JPEG as a camera writes it, with DateTimeOriginal (and GPS) when given."""
    exif = Image.Exif()
    if original:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = original
    if gps:
        exif.get_ifd(GPS_IFD).update(gps)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "teal").save(path, "JPEG", exif=exif)
    return path


def photo_clues(path, **clues) -> Clues:
    with Image.open(path) as im:
        return Clues(name=path.name, path=path, exif=im.getexif(), xmp=im.info.get("xmp"), **clues)


def read(clues: Clues, zone=UTC):
    return read_capture_time(clues, zone=zone, now=NOW)


def evidence_of(capture, source):
    return next(item for item in capture.evidence if item.source == source)


# 1. Video header times before 1970 --------------------------------------------------------------


def test_a_1958_film_is_1958_at_medium_with_ffmpegs_reading_kept_beside_it(tmp_path):
    """The issue's ffmpeg -metadata creation_time=1958-01-01T10:00:00Z; FFmpeg reads it back as 2024."""
    path = write_video(tmp_path / "film.mp4", metadata={"creation_time": "1958-01-01T10:00:00Z"})
    clues = video_clues(path)
    assert clues.video_tags["creation_time"].startswith("2024-01-02T10:00:00")  # FFmpeg's own reading
    assert container_tags(path)["mp4:header_seconds"] == str(1704189600)  # 1958 counted from 1904

    capture = read(clues, zone=PARIS)

    assert capture.value == datetime(1958, 1, 1, 10, tzinfo=UTC)
    assert capture.value.utcoffset() == timedelta(hours=1)  # the instant, shown in Paris
    assert (capture.source, capture.confidence, capture.precision) == ("mp4:creation_time", "medium", "second")
    assert capture.offset_known and not capture.conflict
    unix = evidence_of(capture, "mp4:creation_time:unix")
    assert unix.accepted and unix.value == datetime(2024, 1, 2, 10, tzinfo=UTC)
    assert "as FFmpeg and exiftool read" in unix.note


def test_a_1969_moon_landing_film_is_not_thrown_away_as_2035(tmp_path):
    path = write_video(tmp_path / "apollo.mp4", metadata={"creation_time": "1969-07-20T20:17:40Z"})

    capture = read(video_clues(path))

    assert capture.value == datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC) and capture.value.utcoffset() == timedelta(0)
    assert (capture.confidence, capture.precision) == ("high", "second")  # only one reading is plausible
    unix = evidence_of(capture, "mp4:creation_time:unix")
    assert not unix.accepted and unix.note.startswith("more than a day in the future")


def test_a_writer_that_used_the_unix_epoch_is_read_from_1970_when_the_other_clues_say_so(tmp_path):
    """The work-around's reason: writers that stored seconds since 1970. Its 1904 reading says
    1949; the phone's file name says 2015, so the 1970 reading is taken, still not high."""
    taken = datetime(2015, 6, 1, 12, tzinfo=UTC)
    as_if_1904 = datetime(1904, 1, 1, tzinfo=UTC) + (taken - datetime(1970, 1, 1, tzinfo=UTC))
    path = write_video(tmp_path / "VID_20150601_120000.mp4", metadata={"creation_time": f"{as_if_1904:%Y-%m-%dT%H:%M:%SZ}"})

    capture = read(video_clues(path))

    assert capture.value == taken and capture.value.utcoffset() == timedelta(0)
    assert (capture.source, capture.confidence, capture.precision) == ("mp4:creation_time:unix", "medium", "second")
    assert not capture.conflict


def test_without_a_movie_header_time_the_tracks_header_gives_it(tmp_path):
    path = write_video(tmp_path / "old.mp4", metadata={"creation_time": "1962-02-20T14:47:00Z"})
    data = bytearray(path.read_bytes())
    mvhd = data.index(b"mvhd")
    assert data[mvhd + 4] == 0  # version 0: 32-bit times follow the version and flags
    data[mvhd + 8 : mvhd + 12] = bytes(4)  # the movie header's creation time: "not set"
    path.write_bytes(bytes(data))
    (seconds,) = struct.unpack(">I", data[data.index(b"tkhd") + 8 : data.index(b"tkhd") + 12])

    capture = read(Clues(name=path.name, video_tags=container_tags(path)))

    assert seconds and capture.value == datetime(1962, 2, 20, 14, 47, tzinfo=UTC)
    assert (capture.confidence, capture.precision) == ("high", "second")  # from 1970 it would be 2028


# 2. Google Takeout sidecar names ----------------------------------------------------------------

TAKEN = 1420113600  # 2015-01-01T12:00:00Z


def takeout_json(folder, json_name, *, title, taken=TAKEN):
    (folder / json_name).write_text(
        json.dumps({"title": title, "photoTakenTime": {"timestamp": str(taken), "formatted": "…"}}), encoding="utf-8"
    )


WEDDING = "Wedding reception at the old mill by the river with everyone.jpg"  # 60 characters
LUNCH = "Sunday lunch at the farm with grandma and grandpa.jpg"  # 53 characters


@pytest.mark.parametrize(
    "photo, sidecar, title",
    [
        # A "(3)" that is part of the name, not Takeout's counter.
        ("Garden party (3).jpg", "Garden party (3).jpg.supplemental-metadata.json", "Garden party (3).jpg"),
        # Extension dropped and supplemental-metadata, for the photo and its edited copy.
        ("Lemon tart.jpg", "Lemon tart.supplemental-metadata.json", "Lemon tart.jpg"),
        ("Lemon tart-edited.jpg", "Lemon tart.supplemental-metadata.json", "Lemon tart.jpg"),
        # The counter behind a cut supplemental-metadata (GPTH fork #15: "img(18).jpg.supple(18).json").
        ("img(18).jpg", "img.jpg.supple(18).json", "img.jpg"),
        # Extension dropped, supplemental-metadata and the counter (immich-go #756).
        ("2013-12-23(1).jpg", "2013-12-23.supplemental-metadata(1).json", "2013-12-23.jpg"),
        # An edited copy's own counter, its original's JSON having none (immich-go #756).
        ("DSC_0216-edited(1).jpg", "DSC_0216.jpg.supplemental-metadata.json", "DSC_0216.jpg"),
        # An old export's dropped extension with the counter: the same JSON name could be a
        # photo named "Beach(2).jpg"; its title says it is the second "Beach.jpg".
        ("Beach(2).jpg", "Beach(2).json", "Beach.jpg"),
        # The counter inside the name, as the media file has it.
        ("IMG_1234(1).jpg", "IMG_1234(1).jpg.supplemental-metadata.json", "IMG_1234.jpg"),
        # Cut to 51 characters with ".json" (Nextcloud Memories #1559).
        ("D7157814-D2D5-4A62-AFCE-9CF465CB7D66.jpeg", "D7157814-D2D5-4A62-AFCE-9CF465CB7D66.jpeg.supp.json",
         "D7157814-D2D5-4A62-AFCE-9CF465CB7D66.jpeg"),
        # The extension itself cut (GPTH #8: "Urlaub in Knaufspesch in der Schneifel (38).JP.json").
        ("Urlaub in Knaufspesch in der Schneifel (38).JPG", "Urlaub in Knaufspesch in der Schneifel (38).JP.json",
         "Urlaub in Knaufspesch in der Schneifel (38).JPG"),
        # The media file's own name cut too (TakeoutExtractor #23): a cut title matches a cut name.
        (WEDDING[:47] + ".jpg", WEDDING[:46] + ".json", WEDDING),
        # An edited copy whose long name Takeout cut inside "-edited" (GPTH Neo #29: "filename-edi.jpg").
        (LUNCH[:-4] + "-edi.jpg", (LUNCH + ".supplemental-metadata")[:46] + ".json", LUNCH),
        # Edited copies in other languages (GPTH's list, and "-ha editado" of GPTH Neo #29).
        ("Familie-bearbeitet.jpg", "Familie.jpg.supplemental-metadata.json", "Familie.jpg"),
        ("Playa-ha editado.jpg", "Playa.jpg.supplemental-metadata.json", "Playa.jpg"),
        ("旅行-編集済み.jpg", "旅行.jpg.supplemental-metadata.json", "旅行.jpg"),
        ("Plage-modifié(1).jpg", "Plage.jpg.supplemental-metadata(1).json", "Plage.jpg"),
        # A 46-unit cut counted in UTF-16, where an emoji is two units (GPTH counts so).
        ("Sunset 🌅 over the bay with all of us.jpg", "Sunset 🌅 over the bay with all of us.jpg.su.json",
         "Sunset 🌅 over the bay with all of us.jpg"),
    ],
)
def test_takeout_json_is_found_under_every_name_takeout_gives_it(tmp_path, photo, sidecar, title):
    folder = tmp_path / "Takeout" / "Google Photos" / "Photos from 2015"
    path = jpeg(folder / photo)
    takeout_json(folder, sidecar, title=title)

    capture = read(photo_clues(path), zone=PARIS)

    assert (capture.source, capture.confidence, capture.precision) == ("sidecar:takeout", "high", "second")
    assert capture.value == datetime(2015, 1, 1, 13, tzinfo=at(1))  # 12:00 UTC shown in Paris
    assert capture.offset_known
    assert capture.evidence[0].note.endswith(f"from {sidecar}")


def test_a_photo_named_on_a_mac_finds_its_json(tmp_path):
    """macOS writes "é" as e + combining accent (NFD); Takeout's JSON names are NFC."""
    folder = tmp_path / "Photos from 2015"
    path = jpeg(folder / unicodedata.normalize("NFD", "Crème brûlée.jpg"))
    takeout_json(folder, "Crème brûlée.jpg.supplemental-metadata.json", title="Crème brûlée.jpg")

    assert read(photo_clues(path)).source == "sidecar:takeout"


def test_a_json_found_but_refused_is_kept_as_evidence_with_the_reason(tmp_path):
    """An album's metadata.json is found for "metadata.jpg" (extension dropped), but it is the album's."""
    folder = tmp_path / "Summer"
    path = jpeg(folder / "metadata.jpg")
    takeout_json(folder, "metadata.json", title="Summer 2015")

    capture = read(photo_clues(path))

    assert (capture.source, capture.confidence, capture.value) == ("", "none", None)
    refused = evidence_of(capture, "sidecar:takeout")
    assert (refused.raw, refused.accepted) == ("metadata.json", False)
    assert refused.note == "not this file's: its title is 'Summer 2015'"


def test_the_first_photos_json_is_not_taken_by_its_numbered_namesake(tmp_path):
    folder = tmp_path / "Photos from 2015"
    path = jpeg(folder / "IMG_1234(1).jpg")
    takeout_json(folder, "IMG_1234.jpg.supplemental-metadata.json", title="IMG_1234.jpg")  # the first one's

    assert read(photo_clues(path)).source == ""


# 3. File dates that are only the copy time ------------------------------------------------------

IMPORTED = datetime(2026, 11, 30, 11, 40, tzinfo=UTC)


def test_a_file_date_minutes_before_the_import_is_a_copy_time(tmp_path):
    path = jpeg(tmp_path / "card" / "DSC00042.JPG")
    copied = IMPORTED - timedelta(minutes=4)

    capture = read(photo_clues(path, file_modified=copied, imported_at=IMPORTED))

    assert (capture.value, capture.confidence, capture.source, capture.precision) == (None, "none", "", "second")
    item = evidence_of(capture, "filesystem")
    assert not item.accepted and item.value == copied
    assert item.note == "a copy's date, not a capture time: written 4 minutes before the import"


def test_an_upload_from_a_phone_whose_browser_date_is_the_upload_minute_is_undated(tmp_path):
    path = jpeg(tmp_path / "upload.jpg")
    clues = photo_clues(path, client_modified=IMPORTED - timedelta(seconds=30), imported_at=IMPORTED)

    capture = read(Clues(name=clues.name, exif=clues.exif, client_modified=clues.client_modified, imported_at=IMPORTED))

    assert (capture.value, capture.confidence) == (None, "none")
    assert not evidence_of(capture, "browser").accepted


def test_a_folder_copied_together_shares_one_second_and_that_second_is_refused(tmp_path):
    folder = tmp_path / "copied"
    copied = datetime(2019, 3, 2, 9, 15, 7, tzinfo=UTC).timestamp()
    paths = [jpeg(folder / f"scan{n:03d}.jpg") for n in range(6)]
    for path in paths:
        os.utime(path, (copied, copied))

    capture = read(photo_clues(paths[0], file_modified=datetime.fromtimestamp(copied, UTC), imported_at=IMPORTED))

    assert (capture.value, capture.confidence) == (None, "none")
    assert evidence_of(capture, "filesystem").note == "a copy's date, not a capture time: 6 files of this folder share it to the second"


def test_an_old_file_date_of_its_own_is_still_a_low_clue(tmp_path):
    folder = tmp_path / "kept"
    paths = [jpeg(folder / f"scan{n:03d}.jpg") for n in range(6)]
    for n, path in enumerate(paths):
        stamp = datetime(2019, 3, 2, 9, 15, n * 7, tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))
    modified = datetime(2019, 3, 2, 9, 15, 0, tzinfo=UTC)

    capture = read(photo_clues(paths[0], file_modified=modified, imported_at=IMPORTED))

    assert (capture.value, capture.confidence, capture.source, capture.precision) == (modified, "low", "filesystem", "second")
    assert capture.offset_known


# 4. Dates in folder names, at their precision ---------------------------------------------------


@pytest.mark.parametrize(
    "folders, first_moment, precision",
    [
        (("family", "2009", "Christmas 2009"), datetime(2009, 1, 1), "year"),  # the scan
        (("family", "2009", "Christmas"), datetime(2009, 1, 1), "year"),
        (("Takeout", "Google Photos", "Photos from 2009"), datetime(2009, 1, 1), "year"),
        (("2014-07 Italy",), datetime(2014, 7, 1), "month"),
        (("2014", "07"), datetime(2014, 7, 1), "month"),
        (("2014", "07", "Florence"), datetime(2014, 7, 1), "month"),
        (("2014", "July"), datetime(2014, 7, 1), "month"),
        (("Italy July 2014",), datetime(2014, 7, 1), "month"),
        (("Juli 2014",), datetime(2014, 7, 1), "month"),
        (("juillet 2014",), datetime(2014, 7, 1), "month"),
        (("2014", "07", "15"), datetime(2014, 7, 15), "day"),
        (("Holiday 2014-07-15",), datetime(2014, 7, 15), "day"),
        (("Mar del Plata 2015",), datetime(2015, 1, 1), "year"),  # the sea, not March
    ],
)
def test_a_folder_gives_the_day_month_or_year_it_names(tmp_path, folders, first_moment, precision):
    path = jpeg(tmp_path.joinpath(*folders) / "scan001.jpg")
    copied = IMPORTED - timedelta(minutes=20)

    capture = read(photo_clues(path, folders=folders, file_modified=copied, imported_at=IMPORTED), zone=PARIS)

    assert capture.value == first_moment.replace(tzinfo=PARIS)  # its first moment, wall clock in the zone
    assert (capture.source, capture.confidence, capture.precision) == ("folder", "low", precision)
    assert not capture.offset_known
    assert not evidence_of(capture, "filesystem").accepted  # today's copy time did not win


# 5. Two strong sources that disagree are never high ---------------------------------------------


def test_a_phone_name_contradicting_the_exif_record_is_a_conflict(tmp_path):
    path = jpeg(tmp_path / "IMG_20190101_120000.jpg", original="2015:02:02 10:00:00")

    capture = read(photo_clues(path), zone=PARIS)

    assert capture.value == datetime(2015, 2, 2, 10, tzinfo=at(1))  # the camera's record still wins
    assert (capture.source, capture.confidence, capture.precision) == ("exif:DateTimeOriginal", "low", "second")
    assert capture.conflict and not capture.offset_known
    assert evidence_of(capture, "filename").note.endswith("contradicts exif:DateTimeOriginal by 1429.1 days")


def test_a_gps_clock_a_rollover_away_is_a_conflict(tmp_path):
    """GPS week-number rollover: receivers with old firmware date their fixes 1024 weeks early."""
    gps = {0x001D: "1999:06:13", 0x0007: (9.0, 0.0, 0.0)}
    path = jpeg(tmp_path / "DSC01234.JPG", original="2019:01:27 10:00:00", gps=gps)

    capture = read(photo_clues(path))

    assert (capture.confidence, capture.conflict, capture.value) == ("low", True, datetime(2019, 1, 27, 10, tzinfo=UTC))


def test_a_phone_name_that_agrees_leaves_the_record_high(tmp_path):
    path = jpeg(tmp_path / "IMG_20150202_100000.jpg", original="2015:02:02 10:00:00")

    capture = read(photo_clues(path))

    assert (capture.confidence, capture.conflict) == ("high", False)


# 6. Metadata survives a broken picture ----------------------------------------------------------


def test_a_jpeg_cut_off_after_its_exif_keeps_its_capture_time(tmp_path):
    whole = jpeg(tmp_path / "whole.jpg", original="2011:05:06 07:08:09", size=(640, 480))
    data = whole.read_bytes()
    exif_end = data.index(b"Exif") - 2 + int.from_bytes(data[data.index(b"Exif") - 2 : data.index(b"Exif")], "big")
    for cut in (exif_end + 4, len(data) // 2):  # just after the EXIF segment; half the picture
        path = tmp_path / f"DSC_{cut}.JPG"
        path.write_bytes(data[:cut])

        result = analyse(path, name=path.name, zone=PARIS, file_modified=IMPORTED, imported_at=IMPORTED)

        assert result.error.startswith("Image is ")
        assert result.capture.value == datetime(2011, 5, 6, 7, 8, 9, tzinfo=at(2))
        assert (result.capture.source, result.capture.confidence, result.capture.precision) == (
            "exif:DateTimeOriginal", "high", "second",
        )  # fmt: skip


# 7. Unknown zone is not UTC ---------------------------------------------------------------------


def test_a_wall_clock_time_says_its_offset_was_not_recorded(tmp_path):
    plain = read(photo_clues(jpeg(tmp_path / "DSC1.JPG", original="2020:06:01 10:41:00")))
    with_offset = read(Clues(name="clip.mov", video_tags={"com.apple.quicktime.creationdate": "2020-06-01T10:41:00+0200"}))

    assert plain.value == datetime(2020, 6, 1, 10, 41, tzinfo=UTC) and not plain.offset_known
    assert with_offset.value.utcoffset() == timedelta(hours=2) and with_offset.offset_known


# 8. Error texts a person can act on -------------------------------------------------------------


def test_decoder_errors_are_said_in_words(tmp_path):
    video = write_video(tmp_path / "clip.mp4", metadata={"creation_time": "2021-06-01T12:00:00Z"})
    cut_video = tmp_path / "cut.mp4"
    cut_video.write_bytes(video.read_bytes()[:-200])  # the index (moov) comes last and is cut
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)

    errors = [analyse(path, name=path.name, zone=UTC).error for path in (cut_video, noise)]

    assert errors[0].startswith("Video is ") and ". " in errors[0]  # a sentence, then the decoder's words
    assert errors[1].startswith("Image is damaged: its data is not what its format requires")
    assert all(error.endswith(")") for error in errors)
