"""The page in a real browser (Debian's chromium through Playwright), against a live server and,
where files get processed, a real cluster. Screenshots of each main state are saved under
test-output/screenshots/."""

import base64
import re
import shutil
from datetime import UTC, datetime

import pytest
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime

from jobs.models import File, Job
from tests.conftest import log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Real photos of several kinds: an offset-aware EXIF time, plain EXIF times, no EXIF at all, an
# iPhone HEIC, and one photo twice under two names (an exact duplicate).
PHOTOS = [
    "immich/metadata/gps-position/thompson-springs.jpg",
    "drewnoakes/jpg/Sony Cybershot (2).jpg",
    "digicam/Canon/EOS5D-MIII/_K6A7946.JPG",
    "digicam/Apple/iPhone XR/IMG_3580.JPG",
    "digicam/Apple/iPhone XR/IMG_3578.HEIC",
    "immich/albums/nature/silver_fir.jpg",
    "immich/albums/nature/el_torcal_rocks.jpg",
    "immich/formats/jpeg/el_torcal_rocks.jpeg",
]

DROP = """
async (files) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], f.name, { type: f.type, lastModified: f.lastModified }));
  }
  return transfer;
}
"""

# Records every text the per-file status cells show, to see progress that is over in a moment.
WATCH_FILE_STATES = """
() => {
  window.seenStates = new Set();
  new MutationObserver(() => {
    for (const cell of document.querySelectorAll("#upload-files .state")) window.seenStates.add(cell.textContent);
  }).observe(document.querySelector("#upload-files"), { subtree: true, childList: true, characterData: true });
}
"""

THUMBNAILS_LOADED = """
() => {
  const images = [...document.querySelectorAll("#results-grid img")];
  return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
}
"""


@pytest.fixture
def media(corpus, tmp_path):
    """The photos copied out of the corpus: tests read only the copies."""
    folder = tmp_path / "photos"
    folder.mkdir()
    copies = []
    for rel in PHOTOS:
        target = folder / (rel.split("/")[-1] if "formats" not in rel else "el_torcal_rocks copy.jpeg")
        shutil.copy2(corpus / rel, target)
        copies.append(target)
    return copies


@pytest.fixture
def unreadable_photo(corpus, tmp_path):
    """A real JPEG whose header says its height is 0 (DNL): accepted by its bytes, yet no decoder
    can read it, so it ends as an error of the job."""
    return shutil.copy2(corpus / "drewnoakes/jpg/beach.jpg", tmp_path / "beach.jpg")


def snapshot(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def as_dropped(path, *, name=None, mime="image/jpeg", last_modified=1_600_000_000_000) -> dict:
    return {"name": name or path.name, "type": mime, "lastModified": last_modified, "data": base64.b64encode(path.read_bytes()).decode()}


def test_an_anonymous_visitor_is_sent_to_the_login_page(page, alice):
    page.goto("/jobs/1/")

    assert "/accounts/login/?next=/jobs/1/" in page.url
    assert page.get_by_role("heading", name="Log in").is_visible()
    screenshot(page, "login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct username and password")


def test_photos_dropped_on_the_zone_are_uploaded_processed_and_shown(page, alice, media, unreadable_photo, tmp_path, cluster):
    cluster()
    log_in(page, alice)
    assert page.get_by_text("No imports yet").is_visible()
    screenshot(page, "empty")
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("shopping list: milk, bread")
    dropped = [as_dropped(p, mime="image/heic" if p.suffix == ".HEIC" else "image/jpeg") for p in [*media, unreadable_photo]]
    dropped += [as_dropped(not_a_photo), {"name": "readme.txt", "type": "text/plain", "lastModified": 0, "data": ""}]
    uploads = []
    page.on("request", lambda r: uploads.append(r) if r.url.endswith("/api/upload") else None)
    # Uploads are slowed to a few MB/s, so per-file progress can be watched as it happens.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 3_000_000})
    page.evaluate(WATCH_FILE_STATES)

    transfer = page.evaluate_handle(DROP, dropped)
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    screenshot(page, "dragging", full_page=False)
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})

    page.wait_for_function("document.querySelectorAll('#upload-files [data-state=sending]').length > 0")
    screenshot(page, "uploading")
    page.get_by_text("Uploaded 9 files, 2 not imported").wait_for()
    seen = page.evaluate("[...window.seenStates]")
    assert any(state.endswith("%") for state in seen), seen  # per-file progress was shown
    assert len(uploads) == 1
    rejected = page.locator("#rejected-list")
    assert "whatever its name says" in rejected.locator("li", has_text="notes.jpg").inner_text()  # the server's reason
    assert "Not a photo or video type" in rejected.locator("li", has_text="readme.txt").inner_text()

    job = Job.objects.get(owner=alice)
    assert page.url.endswith(f"/jobs/{job.id}/")
    page.locator("#job-status", has_text="Completed").wait_for(timeout=90_000)
    job.refresh_from_db()
    assert (job.progress_current, job.progress_total, job.error_count) == (9, 9, 1)
    dropped_at = datetime.fromtimestamp(1_600_000_000, tz=UTC)
    assert all(f.client_modified_at == dropped_at for f in job.files.all())  # the browser's lastModified went along
    assert page.locator("#job-files").inner_text() == "9 / 9"
    assert page.locator("#job-errors").inner_text() == "1"
    assert page.locator("#job-actions button:visible").count() == 0  # a finished job offers no action
    row = page.locator(f'#history-rows tr[data-job-id="{job.id}"]')  # added by the page as the job began
    assert row.locator('[data-field="status"]').inner_text() == "Completed"
    assert row.locator("time").inner_text() == date_format(localtime(job.created_at), "M j, H:i")  # as the server writes it

    # Every file with a thumbnail is shown under its confidence, the thumbnail actually loaded.
    shown = {}
    for confidence in ["high", "medium", "low", "none"]:
        tab = page.locator(f'#results-tabs [data-view="{confidence}"]')
        expected = job.files.filter(confidence=confidence).count()
        # Counted when the page sees the job settle, a moment after its status says so.
        tab.locator(".count", has_text=re.compile(rf"^{expected}$")).wait_for()
        if not expected:
            continue
        tab.click()
        page.wait_for_function(f"document.querySelectorAll('#results-grid .tile').length === {expected}")
        page.wait_for_function(THUMBNAILS_LOADED)
        shown.update({t.get_attribute("data-file-id"): t for t in page.locator("#results-grid .tile").all()})
    assert sorted(int(i) for i in shown) == sorted(job.files.values_list("id", flat=True))
    assert job.files.exclude(thumbnail="").count() >= 7  # the rest have no preview, and say so
    screenshot(page, "results")

    page.locator('#results-tabs [data-view="errors"]').click()
    failed = job.files.get(status=File.Status.FAILED)
    assert failed.original_name == "beach.jpg" and failed.error
    page.locator("#results-errors li", has_text="beach.jpg").wait_for()
    assert failed.error in page.locator("#results-errors").inner_text()  # with its message

    page.locator('#results-tabs [data-view="duplicates"]').click()
    group = page.locator("#dup-exact .dup-group")
    group.first.wait_for()
    assert group.count() == 1
    assert "el_torcal_rocks.jpg" in group.inner_text() and "el_torcal_rocks copy.jpeg" in group.inner_text()
    assert "52.2 KB · 512 × 341" in group.inner_text()  # size and dimensions, to choose which to keep
    screenshot(page, "duplicates")

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator('#results-tabs [data-view="high"]').click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than a phone
    screenshot(page, "phone")


def test_ten_thousand_results_come_a_page_at_a_time_as_names_not_markup(page, alice):
    job = Job.objects.create(
        owner=alice, kind=Job.Kind.PATH, status=Job.Status.COMPLETED, progress_total=10_000, progress_current=10_000
    )
    taken = datetime(2021, 6, 1, 10, 0, tzinfo=UTC)
    File.objects.create(
        job=job, original_name='<img src=x onerror="window.injected=1">.jpg', path="/photos/x.jpg",
        status=File.Status.DONE, confidence=File.Confidence.HIGH, captured_at=taken, capture_offset=120,
        capture_source="exif:DateTimeOriginal",
    )  # fmt: skip
    File.objects.bulk_create(
        File(
            job=job, original_name=f"IMG_{i:05}.JPG", path=f"/photos/IMG_{i:05}.JPG", status=File.Status.DONE,
            confidence=File.Confidence.HIGH if i % 4 else File.Confidence.LOW, captured_at=taken, capture_offset=120,
            capture_source="exif:DateTimeOriginal", size=2_000_000, width=4000, height=3000, sha256=f"{i:064x}",
        )
        for i in range(1, 10_000)
    )  # fmt: skip

    log_in(page, alice, url=f"/jobs/{job.id}/")

    tiles = page.locator("#results-grid .tile")
    page.locator('#results-tabs [data-view="high"] .count', has_text="7,501").wait_for()
    assert page.locator('#results-tabs [data-view="low"] .count').inner_text() == "2,499"
    page.wait_for_function("document.querySelectorAll('#results-grid .tile').length >= 100")
    assert tiles.count() == 100  # one page, not ten thousand
    first = tiles.first
    assert first.locator(".name").inner_text() == '<img src=x onerror="window.injected=1">.jpg'  # the name it is
    assert page.evaluate("window.injected") is None
    assert "1 Jun 2021, 12:00 +02:00" in first.inner_text()  # the photo's own wall-clock time, not New York's
    assert first.locator("time").get_attribute("datetime") == "2021-06-01T12:00:00+02:00"
    assert "Camera (EXIF)" in first.inner_text() and "high" in first.inner_text().lower()  # source and confidence
    tiles.last.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('#results-grid .tile').length === 200")
    screenshot(page, "many-results", full_page=False)
    page.get_by_role("tab", name="High").focus()
    page.keyboard.press("ArrowRight")  # tabs follow the keyboard as WAI-ARIA describes
    assert page.get_by_role("tab", name="Medium").get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.dataset.view") == "medium"


def test_a_date_alone_is_shown_as_a_date_and_an_unrecorded_zone_is_said(page, alice):
    job = Job.objects.create(owner=alice, kind=Job.Kind.PATH, status=Job.Status.COMPLETED, progress_total=3, progress_current=3)
    common = {"job": job, "status": File.Status.DONE, "confidence": File.Confidence.LOW, "capture_source": "folder"}
    File.objects.create(
        **common, original_name="scan001.jpg", path="/family/2009/Christmas 2009/scan001.jpg",
        captured_at=datetime(2009, 1, 1, tzinfo=UTC), capture_offset=0, capture_precision="year", capture_offset_known=False,
    )  # fmt: skip
    File.objects.create(
        **common, original_name="italy.jpg", path="/2014-07 Italy/italy.jpg",
        captured_at=datetime(2014, 7, 1, tzinfo=UTC), capture_offset=0, capture_precision="month", capture_offset_known=False,
    )  # fmt: skip
    File.objects.create(
        **common | {"capture_source": "exif:DateTimeOriginal"}, original_name="DSC_0001.JPG", path="/card/DSC_0001.JPG",
        captured_at=datetime(2020, 6, 1, 10, 41, tzinfo=UTC), capture_offset=0, capture_precision="second",
        capture_offset_known=False,
    )  # fmt: skip

    log_in(page, alice, url=f"/jobs/{job.id}/")
    page.locator('#results-tabs [data-view="low"]').click()
    tiles = page.locator("#results-grid .tile")
    page.wait_for_function("document.querySelectorAll('#results-grid .tile').length === 3")

    texts = {tiles.nth(n).locator(".name").inner_text(): tiles.nth(n).locator(".when").inner_text() for n in range(3)}
    assert texts == {
        "scan001.jpg": "2009",  # a folder's year, never "1 Jan 2009, 00:00 UTC"
        "italy.jpg": "Jul 2014",
        "DSC_0001.JPG": "1 Jun 2020, 10:41, zone not recorded",  # wall clock read in the zone, not "UTC"
    }
    assert tiles.first.locator("time").get_attribute("datetime") == "2009"


# Notes the fields of every form the page sends (file fields by their file's name): Chromium does
# not hand Playwright the bodies of requests that carry files.
RECORD_FORMS = """
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  if (body instanceof FormData) {
    (window.sentForms ||= []).push([...body.entries()].map(([k, v]) => [k, typeof v === "string" ? v : v.name]));
  }
  return send.call(this, body);
};
"""


def test_a_selection_larger_than_one_request_goes_up_in_batches_of_one_job(page, alice, media, settings):
    settings.MEDIAIMPORT_UPLOAD_MAX_FILES = 3
    page.add_init_script(RECORD_FORMS)
    log_in(page, alice)
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/api/upload") else None)

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose files").press("Enter")  # the picker opens from the keyboard too
    chooser.value.set_files([str(p) for p in media])

    page.get_by_text("Uploaded 8 files").wait_for()
    assert [a.status for a in answers] == [201, 201, 201]
    forms = page.evaluate("window.sentForms")
    assert [sum(1 for k, _ in form if k == "files") for form in forms] == [3, 3, 2]
    first_job = answers[0].json()["job_id"]
    assert "job_id" not in dict(forms[0])
    assert [dict(form).get("job_id") for form in forms[1:]] == [str(first_job)] * 2  # later batches join its job
    assert [a.json()["job_id"] for a in answers] == [first_job] * 3
    assert Job.objects.get().files.count() == 8
    assert page.locator("#upload-files [data-state=done]").count() == 8
    assert page.url.endswith(f"/jobs/{first_job}/")


def test_a_folder_upload_stopped_midway_keeps_what_was_sent_and_says_so(page, alice, media, settings):
    settings.MEDIAIMPORT_UPLOAD_MAX_FILES = 2  # requests of two files: four for the folder
    log_in(page, alice)
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/api/upload") else None)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    # A slow home upload: each request takes a few seconds to go up.
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 400_000})

    page.set_input_files("#folder-input", str(media[0].parent))
    page.get_by_text("Stop sends no more").wait_for()  # the page says what Stop does
    page.wait_for_function("document.querySelectorAll('#upload-files [data-state=done]').length >= 4")  # two answered
    page.get_by_role("button", name="Stop").click()

    title = page.locator("#upload-title", has_text="sent and imported")
    title.wait_for()
    screenshot(page, "upload-stopped")
    job = Job.objects.get(owner=alice)
    imported = job.files.count()
    # What the answers said was stored is all there is: the request cut by Stop kept nothing.
    assert all(a.status == 201 for a in answers)
    assert imported == answers[-1].json()["file_count"] and 4 <= imported < 8
    assert title.inner_text() == f"{imported} of 8 sent and imported; {8 - imported} not sent"
    assert page.locator("#upload-files [data-state=done]").count() == imported
    assert page.locator("#upload-files [data-state=stopped]").count() == 8 - imported


def test_a_picked_folder_keeps_its_folder_names(page, alice, media):
    log_in(page, alice)

    page.set_input_files("#folder-input", str(media[0].parent))

    page.get_by_text("Uploaded 8 files").wait_for()
    job = Job.objects.get(owner=alice)
    assert set(job.files.values_list("folder", flat=True)) == {"photos"}
    assert page.locator("#upload-files .name", has_text="photos/IMG_3580.JPG").count() == 1


def test_a_larger_job_is_paused_resumed_and_cancelled_from_its_buttons(page, alice, corpus, tmp_path, settings, cluster):
    root = tmp_path / "library"
    shutil.copytree(corpus / "drewnoakes" / "jpg", root / "jpg")
    shutil.copytree(corpus / "pillow-heif", root / "heif")
    for name in ("notes.txt", "edit.psd", "jpg/edit2.PSD", "jpg/.DS_Store"):
        (root / name).write_text("not a photo")
    settings.MEDIAIMPORT_IMPORT_ROOTS = [root]
    before = snapshot(root)
    log_in(page, alice)

    page.get_by_role("tab", name="Server folder").click()
    page.get_by_label("Folder on the server").fill(str(tmp_path))
    page.get_by_role("button", name="Import folder").click()
    refusal = page.locator("#folder-error")
    refusal.wait_for()
    assert "is outside the folders this server may import from" in refusal.inner_text()  # the API's words
    page.get_by_role("button", name=str(root)).click()
    page.get_by_role("button", name="Import folder").click()
    page.wait_for_url("**/jobs/*/")
    job = Job.objects.get(owner=alice)
    assert job.progress_total > 180
    skipped = page.locator("#job-skipped")
    skipped.wait_for()
    assert job.skipped[".psd"] == 2 and job.skipped[".txt"] == 1  # and what the corpus holds beside
    shown = f"Skipped {job.skipped_count} files that are not photos or videos we import: {job.skipped_summary}"
    assert skipped.inner_text() == shown
    pause, resume, cancel = (page.get_by_role("button", name=n, exact=True) for n in ("Pause", "Resume", "Cancel"))
    cancel.wait_for()
    assert not pause.is_visible()  # pending: it can only be cancelled

    cluster(MEDIAIMPORT_WORKERS=1, MEDIAIMPORT_BATCH_SIZE=5)
    pause.wait_for(timeout=60_000)
    wait_for(lambda: Job.objects.get(id=job.id).progress_current > 0, message="some progress")
    page.wait_for_function("document.querySelector('#job-rate').textContent.includes('files/s')")
    screenshot(page, "running")
    pause.click()

    page.locator("#job-status", has_text="Paused").wait_for()
    assert resume.is_visible() and cancel.is_visible() and not pause.is_visible()
    # The worker stops at the next file boundary; after that nothing moves.
    wait_for(lambda: not File.objects.filter(job=job, status=File.Status.PROCESSING).exists(), message="the worker to stop")
    stopped = Job.objects.get(id=job.id).progress_current
    assert stopped < job.progress_total
    page.locator("#results").wait_for()
    screenshot(page, "paused")
    # The files no worker reached are counted apart, not as "No date" (read afresh, the worker
    # having stopped).
    page.reload()
    processed = File.objects.filter(job=job).exclude(status__in=File.UNFINISHED)
    waiting = job.progress_total - processed.count()
    page.locator("#rtab-pending .count", has_text=f"{waiting:,}").wait_for()
    assert page.locator("#rtab-pending").is_visible()
    undated = processed.filter(confidence=File.Confidence.NONE).count()
    assert page.locator("#rtab-none .count").inner_text() == f"{undated:,}"
    page.get_by_role("tab", name="Not processed").click()
    page.locator("#results-grid .tile").first.wait_for()
    tiles = page.locator("#results-grid .tile")
    assert tiles.count() == tiles.filter(has_text="Not processed yet").count() > 0

    resume.click()
    page.locator("#job-status", has_text="Running").wait_for()
    wait_for(lambda: Job.objects.get(id=job.id).progress_current > stopped, message="progress after resuming")
    questions = []
    page.once("dialog", lambda dialog: questions.append(dialog.message) or dialog.dismiss())
    cancel.click()
    wait_for(lambda: questions, message="the question")
    assert Job.objects.get(id=job.id).status == Job.Status.RUNNING  # said no: nothing happened
    assert "processed so far stay imported" in questions[0] and "not processed yet will not be" in questions[0]
    page.once("dialog", lambda dialog: dialog.accept())
    cancel.click()

    page.locator("#job-status", has_text="Cancelled").wait_for()
    assert page.locator("#job-actions button:visible").count() == 0
    assert Job.objects.get(id=job.id).status == Job.Status.CANCELLED
    assert snapshot(root) == before  # the imported folder is read, never changed


def test_a_library_job_shows_known_files_pairs_and_paged_named_groups(page, alice):
    earlier = Job.objects.create(owner=alice, kind=Job.Kind.PATH, status=Job.Status.COMPLETED)
    job = Job.objects.create(
        owner=alice, kind=Job.Kind.PATH, status=Job.Status.COMPLETED, progress_total=62, progress_current=62,
        already_imported_count=412,
    )  # fmt: skip
    known = File.objects.create(job=earlier, original_name="known.jpg", path="/old/known.jpg", status=File.Status.DONE)
    # 30 exact groups of two empty_gps.jpg, each in its own folder: more than one page of groups.
    File.objects.bulk_create(
        File(
            job=job, original_name="empty_gps.jpg", path=f"/trip/{n:02}/{copy}/empty_gps.jpg", folder=f"{n:02}/{copy}",
            status=File.Status.DONE, confidence=File.Confidence.HIGH, sha256=f"{n:064x}", size=1000,
        )
        for n in range(30)
        for copy in ("a", "b")
    )  # fmt: skip
    picture = File.objects.create(
        job=job, original_name="IMG_0001.HEIC", path="/trip/IMG_0001.HEIC", status=File.Status.DONE,
        confidence=File.Confidence.HIGH, sha256="f" * 64, earlier_import=known,
    )  # fmt: skip
    video = File.objects.create(
        job=job, original_name="IMG_0001.MOV", path="/trip/IMG_0001.MOV", status=File.Status.DONE,
        confidence=File.Confidence.HIGH, sha256="e" * 64, companion=picture, mime_type="video/quicktime",
    )  # fmt: skip
    File.objects.filter(id=picture.id).update(companion=video)
    # A RAW+JPEG pair whose halves have other confidences, so other tabs.
    raw = File.objects.create(
        job=job, original_name="DSC_0001.NEF", path="/trip/DSC_0001.NEF", status=File.Status.DONE,
        confidence=File.Confidence.HIGH, sha256="d" * 64, mime_type="image/x-nikon-nef",
    )  # fmt: skip
    jpeg = File.objects.create(
        job=job, original_name="DSC_0001.JPG", path="/trip/DSC_0001.JPG", status=File.Status.DONE,
        confidence=File.Confidence.MEDIUM, sha256="c" * 64, mime_type="image/jpeg", companion=raw,
    )  # fmt: skip
    File.objects.filter(id=raw.id).update(companion=jpeg)

    log_in(page, alice, url=f"/jobs/{job.id}/")

    assert page.locator("#job-library").inner_text() == "412 already in your library"
    page.locator('#results-tabs [data-view="duplicates"] .count', has_text="30").wait_for()
    page.locator('#results-tabs [data-view="high"]').click()
    # A pair is one tile, its halves side by side; read as text: tiles out of view are not
    # rendered (content-visibility), so have no inner text.
    live = page.locator("#results-grid .tile.pair", has=page.locator(f'.half[data-file-id="{picture.id}"]'))
    live.scroll_into_view_if_needed()
    assert live.locator(".tag.pair").text_content() == "Live Photo"
    halves = live.locator(".half")
    assert [halves.nth(n).get_attribute("data-file-id") for n in range(2)] == [str(picture.id), str(video.id)]
    assert "Already in your library" in halves.first.text_content() and "IMG_0001.MOV" in halves.last.text_content()
    assert live.locator(".stand-in").count() == 0  # both halves are listed here, and only here
    assert page.locator(f'#results-grid [data-file-id="{video.id}"]').count() == 1
    left, right = (halves.nth(n).bounding_box() for n in range(2))
    assert left["y"] == right["y"] and left["x"] + left["width"] <= right["x"]
    # The RAW's JPEG is under another tab: its tile shows it beside the RAW all the same.
    pair = page.locator("#results-grid .tile.pair", has=page.locator(f'.half[data-file-id="{raw.id}"]'))
    assert pair.locator(".tag.pair").text_content() == "RAW + JPEG"
    assert "DSC_0001.JPG" in pair.locator(f'.stand-in[data-file-id="{jpeg.id}"]').text_content()
    screenshot(page, "library-pairs", full_page=False)
    page.locator('#results-tabs [data-view="medium"]').click()
    pair = page.locator("#results-grid .tile.pair", has=page.locator(f'.half[data-file-id="{jpeg.id}"]'))
    assert "DSC_0001.NEF" in pair.locator(f'.stand-in[data-file-id="{raw.id}"]').text_content()

    page.locator('#results-tabs [data-view="duplicates"]').click()
    groups = page.locator("#dup-exact .dup-group")
    groups.first.wait_for()
    assert groups.first.locator(".dup-name").inner_text() == "empty_gps.jpg in 00/a"
    assert "00/b · job" in groups.first.inner_text()  # each copy says where it is
    groups.last.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('#dup-exact .dup-group').length === 30")
    assert page.locator("#dup-near").inner_text() == "No look-alikes."
    screenshot(page, "library-duplicates", full_page=False)


def test_the_consoles_file_list_fits_a_laptop_screen(page, staff):
    job = Job.objects.create(owner=staff, kind=Job.Kind.PATH, status=Job.Status.COMPLETED)
    taken = datetime(2021, 6, 1, 10, 0, 0, 123000, tzinfo=UTC)
    File.objects.bulk_create(
        File(
            job=job, original_name=f"IMG-20210601-WA{n:04}-a-rather-long-name-from-a-messenger.jpeg",
            path=f"/photos/Family archive/2021/Holidays in the mountains/WhatsApp Images/IMG-20210601-WA{n:04}.jpeg",
            folder="Family archive/2021/Holidays in the mountains/WhatsApp Images", status=File.Status.FAILED,
            confidence=File.Confidence.MEDIUM, captured_at=taken, capture_offset=120,
            capture_source="filename:whatsapp", size=2_345_678, width=4032, height=3024,
            error="Image is damaged or truncated: broken data stream when reading image file at byte 1,234,567 of 2,345,678",
        )
        for n in range(20)
    )  # fmt: skip
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, staff)
    page.goto("/admin/jobs/file/")

    page.locator("#result_list").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling
    row = page.locator("#result_list tbody tr").first
    for shown in ("2.2\xa0MB", "4032 × 3024", "broken data stream"):
        assert shown in row.inner_text()
    screenshot(page, "console-files", full_page=False)
