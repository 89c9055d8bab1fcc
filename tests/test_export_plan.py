"""Where exported files go (jobs/export_plan.py) and which fields a copy gets
(jobs/pipeline/writeback.py): pure rules, no database."""

from datetime import datetime, timedelta, timezone

import pytest

from jobs.export_plan import (
    DEFAULT_TEMPLATE, OTHER, SAME, PlanFile, TemplateError, check_template, numbered, place, settle,
)  # fmt: skip
from jobs.pipeline.writeback import Chosen, missing_fields, wanted_fields

PARIS = timezone(timedelta(hours=2))


def at(*parts, micro=0, tz=PARIS):
    return datetime(*parts, microsecond=micro, tzinfo=tz)


def destinations(files, template=DEFAULT_TEMPLATE) -> dict[int, str]:
    return {p.file_id: p.destination for p in place(files, template)}


def test_the_default_layout_is_year_then_date_and_time_in_the_cameras_own_clock():
    files = [PlanFile(1, "IMG_0001.JPG", captured=at(2019, 7, 14, 15, 30, 5)), PlanFile(2, "clip.MOV", captured=at(2019, 7, 14, 15, 31, 0, tz=timezone.utc))]
    # The video's time is in its own offset (UTC here), not converted to another zone.
    assert destinations(files) == {1: "2019/20190714_153005.jpg", 2: "2019/20190714_153100.mov"}


def test_files_in_one_second_are_numbered_in_capture_order_sub_seconds_counting():
    files = [
        PlanFile(1, "b.jpg", captured=at(2019, 7, 14, 15, 30, 5, micro=900_000)),
        PlanFile(2, "a.jpg", captured=at(2019, 7, 14, 15, 30, 5, micro=100_000)),
        PlanFile(3, "c.png", captured=at(2019, 7, 14, 15, 30, 5, micro=500_000)),
    ]
    # Names are unique by stem: a PNG does not share a stem with a JPEG it is not paired with.
    assert destinations(files) == {2: "2019/20190714_153005.jpg", 3: "2019/20190714_153005_1.png", 1: "2019/20190714_153005_2.jpg"}


def test_the_halves_of_a_pair_share_the_pictures_stem_each_with_its_own_extension():
    files = [
        PlanFile(10, "IMG_1.MOV", captured=at(2020, 4, 17, 10, 3, 49), companion_id=11, is_video=True),
        PlanFile(11, "IMG_1.HEIC", captured=at(2020, 4, 17, 10, 3, 48), companion_id=10),
        PlanFile(12, "other.jpg", captured=at(2020, 4, 17, 10, 3, 48)),
    ]
    placed = {p.file_id: p for p in place(files, DEFAULT_TEMPLATE)}
    assert placed[11].destination == "2020/20200417_100348.heic"
    assert placed[10].destination == "2020/20200417_100348.mov"  # the picture's time, not the video's
    assert placed[10].companion_of == 11
    assert placed[12].destination == "2020/20200417_100348_1.jpg"


def test_undated_files_keep_their_folders_and_names_under_undated():
    files = [
        PlanFile(1, "scan 3.JPG", folder="Grandma/box 2", captured=at(2026, 1, 1, 0, 0, 0), dated=False),
        PlanFile(2, "scan 3.JPG", folder="Grandma/box 2", captured=None, dated=False),
    ]
    assert destinations(files) == {1: "undated/Grandma/box 2/scan 3.JPG", 2: "undated/Grandma/box 2/scan 3_1.JPG"}


def test_a_time_known_to_the_day_month_or_year_gets_a_name_that_claims_no_time():
    files = [
        PlanFile(1, "IMG-20170101-WA0003.jpg", captured=at(2017, 1, 1, 0, 0, 0), precision="day"),
        PlanFile(2, "scan.jpg", captured=at(2009, 3, 1, 0, 0, 0), precision="month"),
        PlanFile(3, "old.jpg", captured=at(1975, 1, 1, 0, 0, 0), precision="year"),
    ]
    assert destinations(files) == {
        1: "2017/20170101_IMG-20170101-WA0003.jpg",
        2: "2009/200903_scan.jpg",
        3: "1975/1975_old.jpg",
    }
    # A folder that needs what the precision does not know is left out, with all below it.
    assert destinations(files[2:], "{year}/{month}/{year}{month}{day}") == {3: "1975/1975_old.jpg"}


def test_tokens_name_camera_and_job_are_made_safe_for_a_file_system():
    files = [PlanFile(1, "../a:b.JPG", camera="Canon/EOS 5D", job=7, captured=at(2019, 7, 14, 15, 30, 5))]
    assert destinations(files, "{camera}/{job}/{name}") == {1: "Canon_EOS 5D/7/a_b.jpg"}


@pytest.mark.parametrize("template", ["", "/abs/{year}", "{year}/../x", "{nope}", "{year:04}", "{year", "a//b"])
def test_templates_that_cannot_name_files_are_refused_saying_why(template):
    with pytest.raises(TemplateError):
        check_template(template)


def test_numbered_keeps_a_sidecars_double_extension():
    assert numbered("2019/a.jpg", 0) == "2019/a.jpg"
    assert numbered("2019/a.jpg", 2) == "2019/a_2.jpg"
    assert numbered("2019/a.jpg.xmp", 1) == "2019/a_1.jpg.xmp"


def test_only_the_fields_a_copy_lacks_are_written_and_a_videos_modify_date_never_alone():
    chosen = Chosen(at(2019, 7, 14, 15, 30, 5))
    photo = wanted_fields(chosen, "photo")
    assert photo == {
        "EXIF:DateTimeOriginal": "2019:07:14 15:30:05",
        "EXIF:CreateDate": "2019:07:14 15:30:05",
        "EXIF:OffsetTimeOriginal": "+02:00",
    }
    assert missing_fields(photo, {"ExifIFD:DateTimeOriginal": "2019:07:14 15:30:05", "ExifIFD:CreateDate": "2019:07:14 15:30:05"}) == {
        "EXIF:OffsetTimeOriginal": "+02:00"
    }
    assert "EXIF:OffsetTimeOriginal" not in wanted_fields(Chosen(at(2019, 7, 14, 15, 30, 5), offset_known=False), "photo")
    video = wanted_fields(chosen, "video")
    held = {
        "QuickTime:CreateDate": "2019:07:14 13:30:05+00:00",
        "QuickTime:ModifyDate": "2019:07:14 13:31:00+00:00",
        "Track1:TrackCreateDate": "2019:07:14 13:30:05+00:00",
        "Track1:MediaCreateDate": "2019:07:14 13:30:05+00:00",
        "Keys:CreationDate": "2019:07:14 15:30:05+02:00",
    }
    assert missing_fields(video, held) == {}
    # The same instant with another offset is not the clock the camera showed.
    assert set(missing_fields(video, {**held, "Keys:CreationDate": "2019:07:14 13:30:05+00:00"})) == {
        "Keys:CreationDate", "QuickTime:ModifyDate"
    }  # fmt: skip
    assert wanted_fields(Chosen(at(2017, 1, 1, 0, 0, 0), precision="day"), "photo") == {"XMP-photoshop:DateCreated": "2017:01:01"}


def test_a_pair_moved_past_files_already_there_keeps_one_stem_and_one_number():
    t = datetime(2021, 6, 1, 9, 30, tzinfo=timezone.utc)
    picture = PlanFile(id=1, name="IMG_1.HEIC", captured=t, companion_id=2)
    video = PlanFile(id=2, name="IMG_1.MOV", captured=t, companion_id=1, is_video=True)
    alone = PlanFile(id=3, name="IMG_2.JPG", captured=t + timedelta(milliseconds=1))
    placed = place([picture, video, alone], DEFAULT_TEMPLATE)
    assert [p.destination for p in placed] == ["2021/20210601_093000.heic", "2021/20210601_093000.mov", "2021/20210601_093000_1.jpg"]
    # Only the video's name is taken on disk, by another file; _1 is planned for another file of the export.
    on_disk = {"2021/20210601_093000.mov": OTHER}

    settled = settle(placed, lambda p, path: on_disk.get(path))

    assert [(p.file_id, p.destination, p.exists) for p in settled] == [
        (1, "2021/20210601_093000_2.heic", False),
        (2, "2021/20210601_093000_2.mov", False),
        (3, "2021/20210601_093000_1.jpg", False),
    ]


def test_a_file_identical_to_what_would_be_written_keeps_its_name_and_exists():
    t = datetime(2021, 6, 1, 9, 30, tzinfo=timezone.utc)
    placed = place([PlanFile(id=1, name="a.jpg", captured=t), PlanFile(id=2, name="b.jpg", captured=t + timedelta(hours=1))], DEFAULT_TEMPLATE)
    on_disk = {"2021/20210601_093000.jpg": SAME, "2021/20210601_103000.jpg": OTHER}

    settled = settle(placed, lambda p, path: on_disk.get(path))

    assert [(p.destination, p.exists) for p in settled] == [("2021/20210601_093000.jpg", True), ("2021/20210601_103000_1.jpg", False)]
