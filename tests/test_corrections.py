"""Correcting capture times: the service every entry point uses, and its API (docs/api.md,
"Correcting capture times")."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import CaptureTimeChange, Confidence, File, Job
from jobs.services.corrections import (
    CorrectionRefused,
    NotFound,
    correct_capture_times,
    parse_correction,
    undo_change,
)
from jobs.services.processing import process_batch
from tests.conftest import Api

pytestmark = pytest.mark.django_db

CAPTURE = (
    "captured_at", "capture_offset", "confidence", "capture_source", "capture_precision", "capture_conflict",
    "capture_offset_known", "capture_evidence",
)  # fmt: skip


def wall_evidence(value: str, zone: str = "UTC") -> dict:
    return {"source": "exif:DateTimeOriginal", "raw": value, "value": value, "accepted": True, "note": f"offset unknown: read in {zone}"}


def make_files(owner, *specs, kind=Job.Kind.UPLOAD) -> list[File]:
    """Done files of one new job of `owner`. A spec is a dict of File fields; by default a wall-clock
    EXIF time of 14 Jul 2009 10:02 UTC read in UTC, confidence low."""
    job = Job.objects.create(owner=owner, kind=kind, status=Job.Status.COMPLETED, progress_total=len(specs), progress_current=len(specs))
    files = []
    for n, spec in enumerate(specs):
        at = datetime(2009, 7, 14, 10, 2, tzinfo=UTC)
        fields = {
            "original_name": f"IMG_{40 + n:04d}.JPG", "path": f"uploads/{job.id}/{n}.jpg", "status": File.Status.DONE,
            "sha256": f"{job.id:032x}{n:032x}", "captured_at": at, "capture_offset": 0, "confidence": Confidence.LOW,
            "capture_source": "exif:DateTimeOriginal", "capture_precision": "second", "capture_offset_known": False,
            "capture_evidence": [wall_evidence(at.isoformat())],
        }  # fmt: skip
        fields.update(spec)
        files.append(File.objects.create(job=job, **fields))
    return files


def correct(user, files, **asked):
    return correct_capture_times(user=user, file_ids=[f.id for f in files], correction=parse_correction(asked))


def capture_of(file: File) -> tuple:
    file.refresh_from_db()
    return tuple(getattr(file, name) for name in CAPTURE)


# --- each action ---------------------------------------------------------------------------------


def test_set_to_the_second_records_who_when_and_what_it_replaced(alice):
    (photo,) = make_files(alice, {})

    outcome = correct(alice, [photo], set="2009-07-14T12:05:00+02:00")

    photo.refresh_from_db()
    assert photo.capture_time.isoformat() == "2009-07-14T12:05:00+02:00"
    assert (photo.confidence, photo.capture_source, photo.capture_precision) == ("high", "manual", "second")
    assert photo.capture_offset_known  # written with its offset
    manual = photo.capture_evidence[-1]
    assert manual["source"] == "manual" and manual["accepted"]
    assert manual["by"] == "alice" and manual["replaced"] == "2009-07-14T10:02:00+00:00"
    assert datetime.fromisoformat(manual["at"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert photo.capture_evidence[0] == wall_evidence("2009-07-14T10:02:00+00:00")  # the file's own clues stay
    change = CaptureTimeChange.objects.get(id=outcome.change.id)
    assert (change.by, change.action, outcome.updated) == (alice, "set", [photo.id])
    assert change.entries.get().before["captured_at"] == "2009-07-14T10:02:00+00:00"


@pytest.mark.parametrize(
    "value, shown, precision",
    [
        ("2009-12-25", "2009-12-25T00:00:00+01:00", "day"),
        ("2009-12", "2009-12-01T00:00:00+01:00", "month"),
        ("2009", "2009-01-01T00:00:00+01:00", "year"),
        ("2009-07-14T10:00", "2009-07-14T10:00:00+02:00", "second"),
    ],
)
def test_a_date_only_value_is_the_first_moment_of_its_span_in_the_configured_zone(alice, settings, value, shown, precision):
    settings.TIME_ZONE = "Europe/Paris"
    (photo,) = make_files(alice, {})

    correct(alice, [photo], set=value)

    photo.refresh_from_db()
    assert (photo.capture_time.isoformat(), photo.capture_precision, photo.confidence) == (shown, precision, "high")
    assert not photo.capture_offset_known  # written without an offset: a wall clock in the zone


def test_shift_moves_each_time_keeping_its_offset_and_skips_files_without_one(alice):
    paris, tokyo, undated = make_files(
        alice,
        {"capture_offset": 120},
        {"captured_at": datetime(2010, 1, 1, 3, tzinfo=UTC), "capture_offset": 540},
        {"captured_at": None, "capture_offset": None, "confidence": "none", "capture_source": "", "capture_precision": "", "capture_evidence": []},
    )

    outcome = correct(alice, [paris, tokyo, undated], shift_seconds=3600)

    assert (outcome.updated, outcome.skipped) == ([paris.id, tokyo.id], [undated.id])
    paris.refresh_from_db(), tokyo.refresh_from_db(), undated.refresh_from_db()
    assert paris.capture_time.isoformat() == "2009-07-14T13:02:00+02:00"
    assert tokyo.capture_time.isoformat() == "2010-01-01T13:00:00+09:00"
    assert undated.captured_at is None and undated.capture_source == ""


def test_zone_reads_wall_clock_times_again_and_leaves_known_offsets_alone(alice):
    wall, told, instant = make_files(
        alice,
        {},
        {"capture_offset": 120, "capture_offset_known": True},
        {"capture_source": "mp4:creation_time", "capture_offset_known": True},  # a UTC instant
    )

    outcome = correct(alice, [wall, told, instant], zone="Asia/Tokyo")

    assert (outcome.updated, outcome.skipped) == ([wall.id], [told.id, instant.id])
    wall.refresh_from_db(), told.refresh_from_db(), instant.refresh_from_db()
    assert wall.capture_time.isoformat() == "2009-07-14T10:02:00+09:00"  # the wall clock kept, the instant moved
    assert not wall.capture_offset_known
    assert "offset unknown: read in Asia/Tokyo" in wall.capture_evidence[-1]["note"]
    assert told.capture_time.isoformat() == "2009-07-14T12:02:00+02:00"
    assert instant.capture_time.isoformat() == "2009-07-14T10:02:00+00:00"
    # Read again later in yet another zone, it is still a wall-clock time.
    correct(alice, [wall], zone="Europe/Paris")
    wall.refresh_from_db()
    assert wall.capture_time.isoformat() == "2009-07-14T10:02:00+02:00"


def test_reference_sets_one_file_and_moves_the_others_by_the_same_difference(alice):
    first, second = make_files(alice, {}, {"captured_at": datetime(2009, 7, 14, 10, 15, tzinfo=UTC)})

    correct(alice, [first, second], reference={"file_id": first.id, "timestamp": "2009-07-14T14:03:00+00:00"})

    first.refresh_from_db(), second.refresh_from_db()
    assert first.capture_time.isoformat() == "2009-07-14T14:03:00+00:00"
    assert second.capture_time.isoformat() == "2009-07-14T14:16:00+00:00"


@pytest.mark.parametrize(
    "asked, message",
    [
        ({"set": "yesterday"}, "is not a time"),
        ({"set": "2009-13"}, "is not a date"),
        ({"set": "2999-01-01"}, "in the future"),
        ({"shift_seconds": "3600"}, "whole number"),
        ({"zone": "Mars/Olympus"}, "time zone name"),
        ({"set": "2009", "zone": "UTC"}, "exactly one"),
        ({"reference": {"file_id": 1, "timestamp": "2009-07-14"}}, "time of day"),
    ],
)
def test_a_value_that_cannot_be_read_is_refused(asked, message):
    with pytest.raises(CorrectionRefused, match=message):
        parse_correction(asked)


# --- undo ----------------------------------------------------------------------------------------


def test_a_shift_that_would_leave_the_possible_range_changes_nothing(alice):
    (photo,) = make_files(alice, {})
    before = capture_of(photo)
    with pytest.raises(CorrectionRefused, match=f"File {photo.id}: .* in the future"):
        correct(alice, [photo], shift_seconds=100 * 365 * 86400)
    assert capture_of(photo) == before


def test_undo_restores_exactly_what_the_change_replaced(alice):
    files = make_files(alice, {}, {"capture_conflict": True})
    before = [capture_of(f) for f in files]
    outcome = correct(alice, files, shift_seconds=-7200)

    restored, kept = undo_change(user=alice, change_id=outcome.change.id)

    assert (restored, kept) == ([f.id for f in files], [])
    assert [capture_of(f) for f in files] == before
    assert CaptureTimeChange.objects.get(id=outcome.change.id).undone_at is not None
    with pytest.raises(CorrectionRefused, match="already undone"):
        undo_change(user=alice, change_id=outcome.change.id)


def test_undo_keeps_files_a_later_change_touched(alice):
    first, second = make_files(alice, {}, {})
    earlier = correct(alice, [first, second], shift_seconds=3600)
    correct(alice, [second], set="2011-05-05")
    later_value = capture_of(second)

    restored, kept = undo_change(user=alice, change_id=earlier.change.id)

    assert (restored, kept) == ([first.id], [second.id])
    assert capture_of(second) == later_value
    first.refresh_from_db()
    assert first.capture_time.isoformat() == "2009-07-14T10:02:00+00:00"


def test_undoing_the_later_change_then_the_earlier_gives_the_evidence_back_as_it_was(alice):
    (photo,) = make_files(alice, {})
    before = capture_of(photo)
    earlier = correct(alice, [photo], shift_seconds=-3600)
    later = correct(alice, [photo], set="2011-05-05")
    photo.refresh_from_db()
    assert [e.get("change") for e in photo.capture_evidence] == [None, earlier.change.id, later.change.id]
    assert photo.capture_evidence[1]["raw"] == "shifted by −1 h"

    assert undo_change(user=alice, change_id=later.change.id) == ([photo.id], [])
    assert undo_change(user=alice, change_id=earlier.change.id) == ([photo.id], [])

    assert capture_of(photo) == before


# --- who may correct what ------------------------------------------------------------------------


def test_owner_may_correct_and_undo_others_get_not_found_and_staff_may_do_both(alice, bob, staff):
    (photo,) = make_files(alice, {})
    before = capture_of(photo)

    with pytest.raises(NotFound):
        correct(bob, [photo], set="2001")
    assert capture_of(photo) == before

    outcome = correct(alice, [photo], set="2001")
    with pytest.raises(NotFound):
        undo_change(user=bob, change_id=outcome.change.id)
    undo_change(user=staff, change_id=outcome.change.id)
    assert capture_of(photo) == before

    correct(staff, [photo], set="2002")
    photo.refresh_from_db()
    assert photo.capture_time.year == 2002 and photo.capture_evidence[-1]["by"] == "sam"


def test_one_unknown_file_in_the_list_changes_nothing(alice):
    (photo,) = make_files(alice, {})
    before = capture_of(photo)
    with pytest.raises(NotFound):
        correct_capture_times(user=alice, file_ids=[photo.id, 999_999], correction=parse_correction({"set": "2001"}))
    assert capture_of(photo) == before
    assert not CaptureTimeChange.objects.exists()


# --- the correction follows the picture ----------------------------------------------------------


def test_the_owners_byte_copies_follow_and_someone_elses_do_not(alice, bob):
    (photo,) = make_files(alice, {})
    (copy,) = make_files(alice, {"sha256": photo.sha256, "original_name": "copy.jpg"})
    (bobs,) = make_files(bob, {"sha256": photo.sha256})

    outcome = correct(alice, [photo], set="2009-07-14T11:00:00+00:00")

    assert outcome.updated == [photo.id, copy.id]
    copy.refresh_from_db(), bobs.refresh_from_db()
    assert copy.capture_time.isoformat() == "2009-07-14T11:00:00+00:00" and copy.capture_source == "manual"
    assert bobs.capture_source == "exif:DateTimeOriginal"
    undo_change(user=alice, change_id=outcome.change.id)
    copy.refresh_from_db()
    assert copy.capture_source == "exif:DateTimeOriginal"


def process(job: Job) -> None:
    ids = list(job.files.values_list("id", flat=True))
    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="test")


def upload(user, corpus, relative: str, name: str) -> Job:
    response = Api(user).upload([SimpleUploadedFile(name, (corpus / relative).read_bytes())])
    assert response.status_code == 201, response.content
    job = Job.objects.get(id=response.json()["job_id"])
    process(job)
    return job


def test_a_later_import_of_a_byte_copy_gets_the_correction(alice, corpus):
    photo = upload(alice, corpus, "elodie/plain.jpg", "plain.jpg").files.get()
    outcome = correct(alice, [photo], set="2015-12-24")

    later = upload(alice, corpus, "elodie/plain.jpg", "copy of plain.jpg").files.get()

    assert later.capture_time.isoformat() == "2015-12-24T00:00:00+00:00"
    assert (later.capture_source, later.capture_precision, later.confidence) == ("manual", "day", "high")
    assert later.capture_evidence[-1]["by"] == "alice" and later.capture_evidence[-1]["replaced"]
    # It is part of the change: undoing it gives the copy back what its own clues said.
    restored, _ = undo_change(user=alice, change_id=outcome.change.id)
    assert set(restored) == {photo.id, later.id}
    later.refresh_from_db()
    assert later.capture_source != "manual"


# --- the API -------------------------------------------------------------------------------------


def test_the_api_corrects_previews_and_undoes(alice):
    first, second = make_files(alice, {}, {"captured_at": None, "capture_offset": None, "confidence": "none", "capture_precision": "", "capture_source": "", "capture_evidence": []})
    api = Api(alice)
    ids = [first.id, second.id]

    preview = api.post("/api/files/capture-time", {"file_ids": ids, "shift_seconds": 3600, "dry_run": True}).json()
    assert "change_id" not in preview and preview["skipped"] == [second.id]
    (shown,) = preview["files"]
    assert shown["previous"] == {
        "timestamp": "2009-07-14T10:02:00+00:00", "timestamp_precision": "second", "timestamp_offset_known": False
    }  # fmt: skip
    assert shown["timestamp"] == "2009-07-14T11:02:00+00:00"
    assert shown["timestamp_evidence"][-1]["replaced"] == "2009-07-14T10:02:00+00:00"
    first.refresh_from_db()
    assert first.capture_time.hour == 10 and not CaptureTimeChange.objects.exists()

    answer = api.post("/api/files/capture-time", {"file_ids": ids, "shift_seconds": 3600})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["updated"], body["skipped"]) == ([first.id], [second.id])
    assert body["files"][0]["timestamp"] == "2009-07-14T11:02:00+00:00"
    assert body["files"][0]["confidence"] == "high" and body["files"][0]["timestamp_source"] == "manual"
    assert body["files"][0]["previous"]["timestamp"] == "2009-07-14T10:02:00+00:00"
    assert [e["source"] for e in body["files"][0]["timestamp_evidence"]] == ["exif:DateTimeOriginal", "manual"]

    undone = api.post(f"/api/changes/{body['change_id']}/undo")
    assert undone.json() == {"change_id": body["change_id"], "restored": [first.id], "kept": []}
    assert api.post("/api/changes/999/undo").status_code == 404


@pytest.mark.parametrize(
    "body, status",
    [({"file_ids": [], "set": "2001"}, 400), ({"file_ids": "1", "set": "2001"}, 400), ({"set": "2001"}, 400), ({"file_ids": [999_999], "set": "2001"}, 404)],
)
def test_the_api_refuses_bad_requests_and_changes_nothing(alice, body, status):
    response = Api(alice).post("/api/files/capture-time", body)
    assert response.status_code == status and response.json()["error"]
    assert not CaptureTimeChange.objects.exists()


def test_another_users_file_is_not_found_and_csrf_is_needed(alice, bob):
    (photo,) = make_files(alice, {})
    assert Api(bob).post("/api/files/capture-time", {"file_ids": [photo.id], "set": "2001"}).status_code == 404
    assert Api(alice).post("/api/files/capture-time", {"file_ids": [photo.id], "set": "2001"}, csrf=False).status_code == 403


def test_files_that_need_review_are_counted_filtered_and_sorted_by_capture_time(alice):
    late, sure, undated, early, conflict = make_files(
        alice,
        {"captured_at": datetime(2012, 1, 1, tzinfo=UTC)},
        {"confidence": "high"},
        {"captured_at": None, "capture_offset": None, "confidence": "none", "capture_precision": ""},
        {"captured_at": datetime(2001, 1, 1, tzinfo=UTC)},
        {"confidence": "high", "capture_conflict": True},
    )
    api = Api(alice)
    job_id = late.job_id

    assert api.get(f"/api/jobs/{job_id}").json()["needs_review_count"] == 4
    listed = api.get(f"/api/jobs/{job_id}/files", needs_review=1, sort="capture_time").json()
    assert [f["id"] for f in listed["files"]] == [early.id, conflict.id, late.id, undated.id]
    assert listed["total"] == 4
    everything = api.get(f"/api/jobs/{job_id}/files", sort="capture_time").json()["files"]
    assert [f["id"] for f in everything] == [early.id, sure.id, conflict.id, late.id, undated.id]
    assert api.get(f"/api/jobs/{job_id}/files", sort="name").status_code == 400
