"""Reviewing and correcting capture times on the page, and a file's larger preview, in a real
browser (Debian's chromium through Playwright). Screenshots under test-output/screenshots/."""

import shutil
from datetime import UTC, datetime

import pytest

from jobs.models import File, Job
from jobs.services.imports import create_path_job
from jobs.services.processing import process_batch
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRIP = ["digicam/Apple/iPhone XR/IMG_3580.JPG", "digicam/Apple/iPhone XR/IMG_3581.JPG"]
HOME = ["elodie/plain.jpg", "elodie/video.mov"]
TEN_TWO = datetime(2009, 7, 14, 10, 2, tzinfo=UTC)


@pytest.fixture
def job(alice, corpus, tmp_path) -> Job:
    """Alice's folder import, processed: a 'trip' folder whose two photos are then made what the
    review is for (an EXIF time without zone, confidence low), and a 'home' folder."""
    root = tmp_path / "photos"
    for folder, names in (("trip", TRIP), ("home", HOME)):
        (root / folder).mkdir(parents=True)
        for name in names:
            shutil.copy2(corpus / name, root / folder / name.rsplit("/", 1)[-1])
    job = create_path_job(path=root, owner=alice, enqueue=False)
    ids = list(job.files.values_list("id", flat=True))
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING)
    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="test")
    wall = [{"source": "exif:DateTimeOriginal", "raw": "2009:07:14 10:02:00", "value": TEN_TWO.isoformat(), "accepted": True, "note": "offset unknown: read in UTC"}]
    job.files.filter(folder="trip").update(
        captured_at=TEN_TWO, capture_offset=0, confidence="low", capture_source="exif:DateTimeOriginal",
        capture_evidence=wall, capture_offset_known=False, capture_precision="second",
    )
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    return job


def test_a_folder_group_is_shifted_by_an_hour_after_a_preview_and_undone(page, alice, job):
    trip = list(job.files.filter(folder="trip").order_by("id"))
    log_in(page, alice, url=f"/jobs/{job.id}/")

    page.locator("#results-review").click()
    review = page.locator("#review")
    group = review.locator(".review-group", has_text="trip")
    group.wait_for()
    assert "2 files: 2 with EXIF times without zone" in group.inner_text()
    group.get_by_role("checkbox").check()
    assert page.locator("#review-count").inner_text() == "2 files selected"
    page.get_by_label("Hours").fill("1")
    page.get_by_role("button", name="Preview", exact=True).click()

    preview = page.locator("#review-preview-list")
    preview.get_by_text("IMG_3580.JPG:").wait_for()
    assert "IMG_3580.JPG: 14 Jul 2009, 10:02, zone not recorded → 14 Jul 2009, 11:02, zone not recorded" in preview.inner_text()
    assert File.objects.get(id=trip[0].id).captured_at == TEN_TWO  # a preview changes nothing
    screenshot(page, "review-preview")
    page.get_by_role("button", name="Apply to 2 files").click()

    page.locator("#review-done-text", has_text="2 files corrected.").wait_for()
    for file in trip:
        file.refresh_from_db()
        assert (file.capture_time.isoformat(), file.capture_source) == ("2009-07-14T11:02:00+00:00", "manual")
    screenshot(page, "review-applied")
    page.get_by_role("button", name="Undo").click()

    page.locator("#review-done-text", has_text="Undone: 2 files restored.").wait_for()
    for file in trip:
        file.refresh_from_db()
        assert (file.captured_at, file.capture_source, file.confidence) == (TEN_TWO, "exif:DateTimeOriginal", "low")
    review.locator(".review-group", has_text="trip").wait_for()


def test_a_card_opens_a_larger_preview_with_the_evidence_in_words_and_a_video_plays(page, alice, job):
    log_in(page, alice, url=f"/jobs/{job.id}/")
    page.get_by_role("tab", name="High").click()
    page.get_by_role("button", name="Show plain.jpg larger").click()

    dialog = page.locator("#file-dialog")
    dialog.wait_for()
    assert dialog.locator("h2").inner_text() == "plain.jpg"
    facts = dialog.locator("#file-dialog-facts").inner_text()
    assert "home" in facts and "Camera" in facts and "KB" in facts
    assert dialog.locator("#file-dialog-evidence").inner_text().startswith("Camera (EXIF), ")
    # The file itself, not its thumbnail: plain.jpg is 100 x 150.
    page.wait_for_function("document.querySelector('#file-dialog-media img[src$=\"/content\"]')?.naturalWidth === 100")
    screenshot(page, "file-preview", full_page=False)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    video = job.files.get(original_name="video.mov")
    page.get_by_role("tab", name={"high": "High", "medium": "Medium", "low": "Low", "none": "No date"}[video.confidence]).click()
    page.get_by_role("button", name="Show video.mov larger").click()
    page.wait_for_function("document.querySelector('#file-dialog-media video')?.currentTime > 0")
    screenshot(page, "file-preview-video", full_page=False)


def test_the_library_review_offers_a_suggestion_that_is_previewed_and_accepted(page, alice):
    from datetime import timedelta

    from tests.test_corrections import make_files

    sure = {"confidence": "high", "camera": "SONY DSC-W55"}
    _, undated, _ = make_files(
        alice,
        {**sure, "original_name": "DSC00040.JPG"},
        {"original_name": "DSC00041.JPG", "captured_at": None, "capture_offset": None, "confidence": "none",
         "capture_source": "", "capture_precision": "", "capture_evidence": []},
        {**sure, "original_name": "DSC00042.JPG", "captured_at": TEN_TWO + timedelta(minutes=13)},
    )  # fmt: skip
    log_in(page, alice)

    page.get_by_role("button", name="Review the library").click()
    suggestion = page.locator(".suggestion", has_text="Between 10:02 and 10:15 on 14 Jul 2009?")
    suggestion.get_by_role("button", name="Preview").click()
    page.locator("#review-preview-list", has_text="DSC00041.JPG: No date → 14 Jul 2009").wait_for()
    screenshot(page, "review-library-suggestion")
    page.get_by_role("button", name="Apply to 1 file").click()

    page.locator("#review-done-text", has_text="1 file corrected.").wait_for()
    undated.refresh_from_db()
    assert (undated.capture_time.date().isoformat(), undated.capture_precision, undated.confidence) == ("2009-07-14", "day", "low")
