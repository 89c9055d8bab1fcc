"""The review of capture times: what needs a look, grouped, with proposals (GET /api/jobs/<id>/review,
GET /api/review), and the file itself for the larger preview."""

from datetime import UTC, datetime, timedelta

import pytest

from jobs.models import DuplicateGroup, DuplicateKind, DuplicateMember, File
from tests.conftest import Api
from tests.test_corrections import make_files

pytestmark = pytest.mark.django_db

TEN_TWO = datetime(2009, 7, 14, 10, 2, tzinfo=UTC)
UNDATED = {"captured_at": None, "capture_offset": None, "confidence": "none", "capture_source": "", "capture_precision": "", "capture_evidence": []}
FILE_DATE = {"capture_source": "filesystem", "capture_offset_known": True, "capture_evidence": [{"source": "filesystem", "accepted": True, "note": "UTC, shown in UTC"}]}


def sure(at: datetime, **more) -> dict:
    return {"confidence": "high", "captured_at": at, **more}


def test_files_that_need_a_look_are_grouped_by_folder_camera_and_day_with_why(alice):
    make_files(
        alice,
        {"folder": "trip", "camera": "SONY DSC-W55"},
        {"folder": "trip", "camera": "SONY DSC-W55"},
        {"folder": "trip", **UNDATED},
        {"folder": "home", "camera": "SONY DSC-W55", **FILE_DATE},
        {"folder": "home", **sure(TEN_TWO)},
    )
    job_id = File.objects.first().job_id

    answer = Api(alice).get(f"/api/jobs/{job_id}/review").json()

    assert (answer["total"], answer["shown"]) == (4, 4)
    folders = {g["label"]: g for g in answer["groups"]["folder"]}
    assert folders[f"Job {job_id} / trip"]["summary"] == "3 files: 2 with EXIF times without zone, 1 with no date found"
    cameras = {g["label"]: g for g in answer["groups"]["camera"]}
    assert cameras["SONY DSC-W55"]["summary"] == "3 files from SONY DSC-W55: 2 with EXIF times without zone, 1 with only a file date"
    assert [g["label"] for g in answer["groups"]["day"]] == ["14 Jul 2009", "No date"]
    undated = next(f for f in answer["files"] if f["confidence"] == "none")
    assert undated["reason"] == "no date found" and undated["folder"] == "trip"


def test_the_library_review_holds_the_users_jobs_and_staff_see_every_job(alice, bob, staff):
    make_files(alice, {}, {})
    make_files(bob, {})
    assert Api(alice).get("/api/review").json()["total"] == 2
    assert Api(bob).get("/api/review").json()["total"] == 1
    assert Api(staff).get("/api/review").json()["total"] == 3
    assert Api(bob).get(f"/api/jobs/{File.objects.first().job_id}/review").status_code == 404


def near_group(key: str, *files: File) -> None:
    group = DuplicateGroup.objects.create(kind=DuplicateKind.NEAR, key=key)
    DuplicateMember.objects.bulk_create(DuplicateMember(group=group, file=f) for f in files)


def test_a_camera_an_hour_ahead_of_a_phone_in_shared_scenes_is_proposed_a_shift(alice):
    scenes = [TEN_TWO + timedelta(hours=n) for n in range(3)]
    sony = make_files(alice, *[{"camera": "SONY DSC-W55", "captured_at": at + timedelta(hours=1, seconds=20)} for at in scenes], {"camera": "SONY DSC-W55"})
    phone = make_files(alice, *[sure(at, camera="Apple iPhone XR") for at in scenes], *[sure(TEN_TWO, camera="Apple iPhone XR")] * 3)
    for n in range(3):
        near_group(f"scene{n}", sony[n], phone[n])

    (suggestion,) = Api(alice).get(f"/api/jobs/{sony[0].job_id}/review").json()["suggestions"]

    assert suggestion["title"] == "Shift SONY DSC-W55 by −1 h 20 s?"
    assert suggestion["detail"] == "In 3 scenes shot by both, SONY DSC-W55 shows 1 h 20 s later than Apple iPhone XR."
    assert suggestion["correction"] == {"shift_seconds": -3620}
    assert sorted(suggestion["file_ids"]) == sorted(f.id for f in sony)


def test_look_alikes_whose_times_do_not_agree_propose_nothing(alice):
    # One colour chart photographed by two cameras on different days: alike, but no constant offset.
    sony = make_files(alice, *[{"camera": "SONY DSC-W55", "captured_at": TEN_TWO + timedelta(days=3 * n)} for n in range(3)])
    canon = make_files(alice, *[sure(TEN_TWO + timedelta(hours=5 * n), camera="Canon EOS 5D") for n in range(3)])
    for n in range(3):
        near_group(f"chart{n}", sony[n], canon[n])
    assert Api(alice).get(f"/api/jobs/{sony[0].job_id}/review").json()["suggestions"] == []


def test_undated_files_between_two_dated_neighbours_are_proposed_their_day_at_low(alice):
    first, middle, also, last, elsewhere = make_files(
        alice,
        sure(TEN_TWO, camera="SONY DSC-W55", original_name="DSC00040.JPG"),
        {**UNDATED, "original_name": "DSC00041.JPG"},
        {**FILE_DATE, "original_name": "DSC00042.JPG", "captured_at": datetime(2021, 3, 1, tzinfo=UTC)},
        sure(TEN_TWO + timedelta(minutes=13), camera="SONY DSC-W55", original_name="DSC00043.JPG"),
        {**UNDATED, "original_name": "DSC00099.JPG"},
    )
    api = Api(alice)

    (suggestion,) = api.get(f"/api/jobs/{first.job_id}/review").json()["suggestions"]

    assert suggestion["title"] == "Between 10:02 and 10:15 on 14 Jul 2009?"
    assert suggestion["file_ids"] == [middle.id, also.id]
    assert suggestion["correction"] == {"set": "2009-07-14", "confidence": "low"}
    api.post("/api/files/capture-time", {"file_ids": suggestion["file_ids"], **suggestion["correction"]})
    middle.refresh_from_db()
    assert (middle.capture_time.isoformat(), middle.capture_precision, middle.confidence) == ("2009-07-14T00:00:00+00:00", "day", "low")
    # Accepted, it is no longer proposed; still a guess, it still awaits a look.
    again = api.get(f"/api/jobs/{first.job_id}/review").json()
    assert again["suggestions"] == [] and middle.id in [f["id"] for f in again["files"]]


def test_the_file_itself_is_served_to_whoever_may_see_it(alice, bob, corpus, copy_media):
    from tests.test_corrections import upload

    job = upload(alice, corpus, "elodie/plain.jpg", "plain.jpg")
    photo = job.files.get()
    response = Api(alice).get(f"/api/files/{photo.id}/content")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == (corpus / "elodie/plain.jpg").read_bytes()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Api(bob).get(f"/api/files/{photo.id}/content").status_code == 404
