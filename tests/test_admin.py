"""The staff console: Django's admin over jobs, files and duplicate groups, as staff and as not."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from jobs.models import Confidence, DuplicateGroup, DuplicateKind, DuplicateMember, File, Job
from jobs.services.imports import create_path_job
from jobs.services.processing import start_job
from tests.importing import import_folder

PHOTO = "digicam/Apple/iPhone XR/IMG_3580.JPG"  # EXIF 2020:04:17 10:03:42, offset -06:00
PLAIN, PLAIN_COPY = "elodie/plain.jpg", "elodie/Plain With Spaces And Uppercase 123.jpg"
VIDEO = "drewnoakes/mov/with-gps.mov"
EMPTY = "broken/elodie/invalid.jpg"


@pytest.fixture
def job(copy_media) -> Job:
    """A folder of real media imported and grouped: a photo, two copies of another, a video and
    an empty file."""
    return import_folder(copy_media(PHOTO, PLAIN, PLAIN_COPY, VIDEO, EMPTY))


@pytest.fixture
def console(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_a_jobs_page_says_what_its_folder_held_beside_photos_and_videos(console, copy_media):
    folder = copy_media(PHOTO)
    for name in ("a.psd", "b.psd", "notes.txt"):
        (folder / name).write_text("not a photo")
    job = import_folder(folder)

    page = console.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()

    assert "3 (.psd 2, .txt 1)" in page


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def admin_pages(job: Job) -> list[str]:
    file = job.files.get(original_name="plain.jpg")
    group = DuplicateGroup.objects.get()
    return [
        "/admin/",
        "/admin/jobs/job/",
        f"/admin/jobs/job/{job.pk}/change/",
        "/admin/jobs/file/",
        f"/admin/jobs/file/{file.pk}/change/",
        f"/admin/jobs/file/{file.pk}/thumbnail/",
        "/admin/jobs/duplicategroup/",
        f"/admin/jobs/duplicategroup/{group.pk}/change/",
    ]


# --- who may enter -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_logged_in_user_who_is_not_staff_is_refused_everywhere(job, client, alice):
    client.force_login(alice)
    for url in admin_pages(job):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), url

    response = client.post(f"/admin/jobs/job/{job.pk}/control/", {"action": "cancel"})
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    plain = job.files.get(original_name="plain.jpg")
    response = client.post(f"/admin/jobs/file/{plain.pk}/change/", {"corrected_capture_time": "2001-01-01 12:00"})
    assert response.status_code == 302
    job.refresh_from_db()
    plain.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and plain.capture_source != "manual"


@pytest.mark.django_db
def test_staff_who_may_only_view_see_the_console_but_change_nothing(copy_media, client, make_user):
    viewer = make_user("vera")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["view_job", "view_file", "view_duplicategroup"]))
    job = import_folder(copy_media(PLAIN, PLAIN_COPY))
    start_job(create_path_job(path=copy_media(PHOTO, into="more") / "more", enqueue=False).id)
    running = Job.objects.get(status=Job.Status.RUNNING)
    plain = job.files.get(original_name="plain.jpg")
    group = DuplicateGroup.objects.get()
    client.force_login(viewer)

    for url in admin_pages(job):
        assert client.get(url).status_code == 200, url
    assert b'name="corrected_capture_time"' not in client.get(f"/admin/jobs/file/{plain.pk}/change/").content

    client.post("/admin/jobs/job/", {"action": "pause", "_selected_action": [running.pk]})
    assert client.post(f"/admin/jobs/job/{running.pk}/control/", {"action": "pause"}).status_code == 403
    response = client.post(f"/admin/jobs/file/{plain.pk}/change/", {"corrected_capture_time": "2001-01-01 12:00"})
    assert response.status_code == 403
    response = client.post(f"/admin/jobs/duplicategroup/{group.pk}/change/", {"not_duplicates": "on"})
    assert response.status_code == 403
    running.refresh_from_db()
    plain.refresh_from_db()
    group.refresh_from_db()
    assert running.status == Job.Status.RUNNING
    assert plain.capture_source != "manual" and not group.not_duplicates


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(job, client):
    for url in admin_pages(job):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/admin/login/"), url


# --- the pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_renders_for_staff_with_real_imported_files(job, console):
    for url in admin_pages(job):
        assert console.get(url).status_code == 200, url


@pytest.mark.django_db
def test_the_job_list_shows_progress_and_counts(job, console):
    page = console.get("/admin/jobs/job/").content.decode()
    assert '<progress class="console-progress" value="5" max="5"></progress> 100%' in page
    assert "5 / 5" in page
    assert "console-status-completed" in page


@pytest.mark.django_db
def test_a_jobs_page_links_to_its_files_and_groups_and_offers_only_allowed_controls(job, console):
    page = console.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert f'href="/admin/jobs/file/?job={job.pk}"' in page
    assert f'href="/admin/jobs/duplicategroup/?job={job.pk}"' in page
    assert "1 group with files of this job" in page
    # A completed job can only have its failed file retried.
    assert 'value="retry"' in page
    assert 'value="pause"' not in page and 'value="cancel"' not in page
    assert 'name="_save"' not in page

    files = console.get(f"/admin/jobs/file/?job={job.pk}").content.decode()
    for name in ("IMG_3580.JPG", "plain.jpg", "with-gps.mov", "invalid.jpg"):
        assert name in files
    groups = console.get(f"/admin/jobs/duplicategroup/?job={job.pk}")
    assert [g.pk for g in groups.context["cl"].result_list] == [DuplicateGroup.objects.get().pk]


@pytest.mark.django_db
def test_the_file_list_shows_capture_times_and_is_searchable_and_filterable(job, console):
    photo = job.files.get(original_name="IMG_3580.JPG")
    page = console.get("/admin/jobs/file/").content.decode()
    assert "2020-04-17 10:03:42.144-06:00" in page  # the burst shot's own offset and milliseconds
    assert f'src="/admin/jobs/file/{photo.pk}/thumbnail/"' in page

    def names(query: str) -> set[str]:
        response = console.get(f"/admin/jobs/file/?{query}")
        assert response.status_code == 200, query
        return {f.original_name for f in response.context["cl"].result_list}

    assert names(f"q={photo.sha256}") == {"IMG_3580.JPG"}
    assert names("q=spaces") == {"Plain With Spaces And Uppercase 123.jpg"}
    assert names(f"q={photo.path}") == {"IMG_3580.JPG"}
    assert names("has_error=yes") == {"invalid.jpg"}
    assert names("type=video") == {"with-gps.mov"}
    assert names("duplicates=exact") == {"plain.jpg", "Plain With Spaces And Uppercase 123.jpg"}
    assert names("duplicates=no") == {"IMG_3580.JPG", "with-gps.mov", "invalid.jpg"}
    assert names("confidence=none") == {f.original_name for f in job.files.filter(confidence=Confidence.NONE)}
    assert names(f"job={job.pk + 1}") == set()


@pytest.mark.django_db
def test_a_files_page_shows_a_preview_and_the_whole_evidence(job, console):
    photo = job.files.get(original_name="IMG_3580.JPG")
    assert photo.capture_evidence, "the photo's EXIF is evidence"

    page = console.get(f"/admin/jobs/file/{photo.pk}/change/").content.decode()

    assert f'<img src="/admin/jobs/file/{photo.pk}/thumbnail/" class="console-preview"' in page
    for item in photo.capture_evidence:
        assert f"<td>{item['source']}</td>" in page
    # Computed fields are shown, not offered for editing.
    assert 'name="sha256"' not in page and 'name="captured_at"' not in page
    assert 'name="corrected_capture_time"' in page


@pytest.mark.django_db
def test_thumbnails_are_served_to_staff_as_webp(job, console):
    photo = job.files.get(original_name="IMG_3580.JPG")

    response = console.get(f"/admin/jobs/file/{photo.pk}/thumbnail/")

    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.format == "WEBP" and max(image.size) == 320
    empty = job.files.get(original_name="invalid.jpg")
    assert console.get(f"/admin/jobs/file/{empty.pk}/thumbnail/").status_code == 404


@pytest.mark.django_db
def test_a_groups_page_shows_its_members_side_by_side(job, console):
    group = DuplicateGroup.objects.get()
    page = console.get(f"/admin/jobs/duplicategroup/{group.pk}/change/").content.decode()
    for file in group.files.all():
        assert file.path in page
        assert f'name="keep" value="{file.pk}"' in page
    assert page.count('<div class="console-member">') == 2

    listing = console.get("/admin/jobs/duplicategroup/").content.decode()
    assert "26.8\xa0KB" in listing  # two copies of 13,711 bytes
    assert listing.count('class="console-thumb"') == 2
    # Searching by a member's name finds the group once, its totals intact.
    found = console.get("/admin/jobs/duplicategroup/?q=plain").context["cl"].result_list
    assert [(g.pk, g.member_count, g.total_size) for g in found] == [(group.pk, 2, 2 * 13711)]
    assert not console.get("/admin/jobs/duplicategroup/?q=IMG_3580").context["cl"].result_list


@pytest.mark.django_db
def test_picking_the_copy_to_keep_from_the_groups_page(job, console, staff):
    group = DuplicateGroup.objects.get()
    keep = group.files.get(original_name="plain.jpg")

    response = console.post(
        f"/admin/jobs/duplicategroup/{group.pk}/change/", {"keep": keep.pk, "not_duplicates": ""}, follow=True
    )

    assert response.status_code == 200
    group.refresh_from_db()
    assert group.keep == keep and group.decided_by == staff and not group.not_duplicates
    refused = console.post(
        f"/admin/jobs/duplicategroup/{group.pk}/change/", {"keep": keep.pk, "not_duplicates": "on"}
    )
    assert "choose one or the other" in refused.content.decode()
    group.refresh_from_db()
    assert group.keep == keep and not group.not_duplicates


# --- actions ------------------------------------------------------------------------------------


def act(console, action: str, *jobs: Job):
    return console.post(
        "/admin/jobs/job/", {"action": action, "_selected_action": [j.pk for j in jobs]}, follow=True
    )


@pytest.mark.django_db
def test_job_actions_follow_the_state_rules(copy_media, console, django_capture_on_commit_callbacks):
    running = create_path_job(path=copy_media(PLAIN, into="a") / "a", enqueue=False)
    assert start_job(running.id)
    pending = create_path_job(path=copy_media(PLAIN, into="b") / "b", enqueue=False)

    response = act(console, "pause", running, pending)
    assert "1 job paused." in messages_of(response)
    assert f"Job {pending.pk}: A pending job cannot be paused. Allowed now: cancel." in messages_of(response)

    with django_capture_on_commit_callbacks(execute=True) as resumed:
        response = act(console, "resume", running)
    assert "1 job resumed." in messages_of(response) and len(resumed) == 1  # its files queued again

    response = act(console, "cancel", running, pending)
    assert "2 jobs cancelled." in messages_of(response)
    response = act(console, "resume", running)
    assert f"Job {running.pk}: A cancelled job cannot be resumed. Allowed now: none." in messages_of(response)

    statuses = dict(Job.objects.values_list("id", "status"))
    assert statuses == {running.pk: Job.Status.CANCELLED, pending.pk: Job.Status.CANCELLED}


@pytest.mark.django_db
def test_retrying_the_files_that_failed(job, console):
    response = act(console, "retry_failed", job)

    assert f"Job {job.pk}: 1 failed files queued again." in messages_of(response)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.error_count == 0
    assert job.files.get(original_name="invalid.jpg").status == File.Status.PENDING
    response = act(console, "retry_failed", job)
    assert f"Job {job.pk} has no failed files to retry." in messages_of(response)


@pytest.mark.django_db
def test_the_buttons_on_a_jobs_page(copy_media, console):
    running = create_path_job(path=copy_media(PLAIN), enqueue=False)
    start_job(running.id)
    page = console.get(f"/admin/jobs/job/{running.pk}/change/").content.decode()
    assert 'value="pause"' in page and 'value="cancel"' in page and 'value="resume"' not in page

    response = console.post(f"/admin/jobs/job/{running.pk}/control/", {"action": "pause"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/jobs/job/{running.pk}/change/"
    assert "1 job paused." in messages_of(response)
    response = console.post(f"/admin/jobs/job/{running.pk}/control/", {"action": "pause"}, follow=True)
    assert "A paused job cannot be paused. Allowed now: resume, cancel." in messages_of(response)[0]
    running.refresh_from_db()
    assert running.status == Job.Status.PAUSED
    assert console.get(f"/admin/jobs/job/{running.pk}/control/").status_code == 405


# --- correcting a capture time ------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_correct_a_capture_time_by_hand(job, console, staff):
    photo = job.files.get(original_name="IMG_3580.JPG")
    before = photo.capture_time
    before_evidence = photo.capture_evidence

    response = console.post(
        f"/admin/jobs/file/{photo.pk}/change/", {"corrected_capture_time": "2020-04-18T09:15:00+02:00"}, follow=True
    )

    assert response.status_code == 200
    photo.refresh_from_db()
    assert photo.capture_time == datetime(2020, 4, 18, 7, 15, tzinfo=UTC)
    assert photo.capture_time.isoformat() == "2020-04-18T09:15:00+02:00"  # shown in the offset given
    assert (photo.confidence, photo.capture_source) == (Confidence.HIGH, "manual")
    assert photo.capture_evidence[: len(before_evidence)] == before_evidence
    (manual,) = photo.capture_evidence[len(before_evidence) :]
    assert (manual["source"], manual["value"], manual["accepted"]) == ("manual", "2020-04-18T09:15:00+02:00", True)
    assert (manual["by"], manual["replaced"]) == (staff.username, before.isoformat())
    assert photo.capture_changes.get().change.by == staff  # recorded, so it can be undone
    page = console.get(f"/admin/jobs/file/{photo.pk}/change/").content.decode()
    assert "2020-04-18 09:15:00+02:00" in page
    # The JSON API tells the corrected time.
    (listed,) = [f for f in console.get(f"/api/jobs/{job.pk}/files").json()["files"] if f["id"] == photo.pk]
    assert (listed["timestamp"], listed["confidence"], listed["timestamp_source"]) == (
        "2020-04-18T09:15:00+02:00", "high", "manual"
    )  # fmt: skip


@pytest.mark.django_db
def test_a_day_is_high_at_day_precision_and_the_conflict_reads_the_right_way(job, console, settings):
    settings.TIME_ZONE = "Europe/Paris"
    photo = job.files.get(original_name="IMG_3580.JPG")
    File.objects.filter(pk=photo.pk).update(capture_conflict=True)
    page = console.get(f"/admin/jobs/file/{photo.pk}/change/").content.decode()
    assert "Capture records agree" in page and 'alt="False"' in page  # a red cross for a conflict

    console.post(f"/admin/jobs/file/{photo.pk}/change/", {"corrected_capture_time": "2020-04"})

    photo.refresh_from_db()
    assert photo.capture_time.isoformat() == "2020-04-01T00:00:00+02:00"
    assert (photo.capture_precision, photo.confidence, photo.capture_conflict) == ("month", "high", False)
    page = console.get(f"/admin/jobs/file/{photo.pk}/change/").content.decode()
    assert 'alt="True"' in page


@pytest.mark.django_db
def test_a_time_without_offset_is_read_in_the_configured_zone(job, console, settings):
    settings.TIME_ZONE = "Europe/Paris"
    plain = job.files.get(original_name="plain.jpg")

    console.post(f"/admin/jobs/file/{plain.pk}/change/", {"corrected_capture_time": "2015-12-05 08:00"})

    plain.refresh_from_db()
    assert plain.capture_time.isoformat() == "2015-12-05T08:00:00+01:00"


@pytest.mark.django_db
def test_a_correction_that_cannot_be_read_or_made_changes_nothing(job, console):
    plain = job.files.get(original_name="plain.jpg")
    before = (plain.captured_at, plain.capture_source, plain.capture_evidence)

    response = console.post(f"/admin/jobs/file/{plain.pk}/change/", {"corrected_capture_time": "yesterday"})
    assert response.status_code == 200
    assert "is not a time: write 2009-12-25T10:00" in response.content.decode()

    File.objects.filter(pk=plain.pk).update(status=File.Status.PROCESSING)
    response = console.post(
        f"/admin/jobs/file/{plain.pk}/change/", {"corrected_capture_time": "2001-01-01 12:00"}, follow=True
    )
    assert any("still being processed" in m for m in messages_of(response))

    plain.refresh_from_db()
    assert (plain.captured_at, plain.capture_source, plain.capture_evidence) == before


# --- list pages cost the same at any length -----------------------------------------------------


def make_library(rows: int) -> None:
    """`rows` jobs, files and duplicate groups (two files each), written directly."""
    owner_jobs = Job.objects.bulk_create(
        [Job(kind=Job.Kind.PATH, source_path=f"/photos/{i}", status=Job.Status.COMPLETED) for i in range(rows)]
    )
    taken = datetime(2020, 1, 1, tzinfo=UTC)
    files = File.objects.bulk_create(
        [
            File(
                job=owner_jobs[i % rows], original_name=f"IMG_{i:04d}.jpg", path=f"/photos/IMG_{i:04d}.jpg",
                status=File.Status.DONE, size=1000 + i, sha256=f"{i // 2:064x}", mime_type="image/jpeg",
                width=4032, height=3024, captured_at=taken + timedelta(hours=i), capture_offset=120,
                confidence=Confidence.HIGH, capture_source="exif:DateTimeOriginal",
                thumbnail=f"thumbnails/1/{i}.webp",
            )
            for i in range(2 * rows)
        ]
    )  # fmt: skip
    groups = DuplicateGroup.objects.bulk_create(
        [DuplicateGroup(kind=DuplicateKind.EXACT, key=f"{rows:04d}{i:060x}", keep=files[2 * i]) for i in range(rows)]
    )
    DuplicateMember.objects.bulk_create(
        [DuplicateMember(group=g, file=files[2 * i + k], identical=True) for i, g in enumerate(groups) for k in (0, 1)]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/jobs/job/", "/admin/jobs/file/", "/admin/jobs/duplicategroup/"])
def test_list_pages_make_as_many_queries_for_100_rows_as_for_10(url, console, django_assert_num_queries):
    make_library(10)
    with CaptureQueriesContext(connection) as ten:
        assert len(console.get(url).context["cl"].result_list) >= 10
    make_library(90)

    with django_assert_num_queries(len(ten)):
        assert len(console.get(url).context["cl"].result_list) == 100


# --- the library -------------------------------------------------------------------------------


def act_on_files(console, action: str, *files: File):
    return console.post("/admin/jobs/file/", {"action": action, "_selected_action": [f.pk for f in files]}, follow=True)


@pytest.mark.django_db
def test_bulk_decisions_from_the_file_list(job, console, staff, copy_media, tmp_path):
    again = import_folder(copy_media(PHOTO, PLAIN, into="again") / "again")
    plain_group = DuplicateGroup.objects.get(key=job.files.get(original_name="plain.jpg").sha256)
    photo_group = DuplicateGroup.objects.get(key=job.files.get(original_name="IMG_3580.JPG").sha256)
    copy, photo = again.files.get(original_name="plain.jpg"), again.files.get(original_name="IMG_3580.JPG")

    response = act_on_files(console, "keep_this_copy", copy, photo)

    assert "2 duplicate groups decided" in " ".join(messages_of(response))
    plain_group.refresh_from_db()
    photo_group.refresh_from_db()
    assert (plain_group.keep, photo_group.keep, plain_group.decided_by) == (copy, photo, staff)
    # Two copies of one group cannot both be the one kept: that group is left as it was.
    both = plain_group.files.exclude(id=copy.id)[:2]
    response = act_on_files(console, "keep_this_copy", *both)
    assert "keep one of them" in " ".join(messages_of(response))
    plain_group.refresh_from_db()
    assert plain_group.keep == copy

    response = act_on_files(console, "not_duplicates", photo)
    photo_group.refresh_from_db()
    assert photo_group.not_duplicates and photo_group.keep is None
    response = console.post(
        "/admin/jobs/duplicategroup/", {"action": "not_duplicates", "_selected_action": [plain_group.pk]}, follow=True
    )
    plain_group.refresh_from_db()
    assert plain_group.not_duplicates
    # Nothing was touched on disk or in the jobs: every file is still listed in its job.
    assert again.files.count() == 2 and job.files.count() == 5


@pytest.mark.django_db
def test_the_console_shows_known_files_pairs_and_groups_by_name(job, console, copy_media):
    again = import_folder(copy_media(PLAIN, into="Trip/2019") / "Trip")
    copy = again.files.get()

    listing = console.get("/admin/jobs/file/?q=plain").content.decode()
    assert "already in the library" in listing and "2019" in listing
    page = console.get(f"/admin/jobs/file/{copy.pk}/change/").content.decode()
    assert f"/admin/jobs/file/{copy.earlier_import_id}/change/" in page
    groups = console.get("/admin/jobs/duplicategroup/").content.decode()
    # Named by its first file (and folder, when it has one), not by a hex key.
    assert '<th class="field-name"><a href="/admin/jobs/duplicategroup/' in groups
    assert ">Plain With Spaces And Uppercase 123.jpg</a></th>" in groups
    # The group itself (its checkbox label, a file's links to its groups) says the same.
    group = DuplicateGroup.objects.get(key=copy.sha256)
    assert str(group) == "Exact duplicates: Plain With Spaces And Uppercase 123.jpg"
    assert group.key[:12] not in groups
    assert "Select this object for an action - Exact duplicates: Plain With Spaces And Uppercase 123.jpg" in groups
    assert '">Exact duplicates: Plain With Spaces And Uppercase 123.jpg</a>' in page

    # A pair's halves side by side on either half's page, under what the pair is.
    photo, video = job.files.get(original_name=Path(PHOTO).name), job.files.get(original_name=Path(VIDEO).name)
    File.objects.filter(id=photo.id).update(companion=video)  # as the pairing records a Live Photo
    File.objects.filter(id=video.id).update(companion=photo)
    page = console.get(f"/admin/jobs/file/{video.pk}/change/").content.decode()
    pair = page[page.index('<div class="console-pair">') :]
    assert pair.startswith('<div class="console-pair"><strong>Live Photo</strong>')
    halves = pair[: pair.index("</div></div>")]
    assert halves.count("<figure>") == 2 and halves.count('class="console-preview"') == 2
    other = f'/admin/jobs/file/{photo.pk}/change/">{photo.original_name}</a>'
    assert halves.index(f"{video.original_name} (this file)") < halves.index(other)
    job_page = console.get(f"/admin/jobs/job/{again.pk}/change/").content.decode()
    assert "Already imported count" in job_page or "already imported" in job_page.lower()

@pytest.mark.django_db
def test_staff_read_the_record_of_corrections_and_undo_one(job, console):
    plain = job.files.get(original_name="plain.jpg")
    before = plain.capture_time
    console.post(f"/admin/jobs/file/{plain.pk}/change/", {"corrected_capture_time": "2001"})
    change = plain.capture_changes.get().change

    listing = console.get("/admin/jobs/capturetimechange/").content.decode()
    assert "set to 2001" in listing and "sam" in listing
    assert console.get(f"/admin/jobs/capturetimechange/{change.pk}/change/").status_code == 200

    response = console.post(
        "/admin/jobs/capturetimechange/", {"action": "undo", "_selected_action": [change.pk]}, follow=True
    )

    # plain.jpg and its byte copy in the same job, which followed the correction.
    assert "Change 1 (set): 2 files restored." in messages_of(response)
    plain.refresh_from_db()
    assert plain.capture_time == before


def test_dates_alone_and_times_without_a_recorded_zone_are_shown_as_what_they_are(console, staff, settings):
    settings.TIME_ZONE = "Europe/Paris"
    job = Job.objects.create(owner=staff, kind=Job.Kind.PATH, status=Job.Status.COMPLETED)
    common = {"job": job, "status": File.Status.DONE, "confidence": Confidence.LOW, "capture_source": "folder"}
    File.objects.create(
        **common, original_name="scan001.jpg", path="/family/2009/Christmas 2009/scan001.jpg",
        captured_at=datetime(2008, 12, 31, 23, tzinfo=UTC), capture_offset=60, capture_precision="year",
        capture_offset_known=False,
    )  # fmt: skip
    File.objects.create(
        **common | {"confidence": Confidence.HIGH, "capture_source": "exif:DateTimeOriginal"},
        original_name="DSC_0001.JPG", path="/card/DSC_0001.JPG", captured_at=datetime(2020, 6, 1, 8, 41, tzinfo=UTC),
        capture_offset=120, capture_precision="second", capture_offset_known=False,
    )  # fmt: skip

    page = console.get(f"/admin/jobs/file/?job={job.pk}").content.decode()

    assert "<td class=\"field-capture_time\">2009</td>" in page  # the year it is, no invented 00:00
    assert "2020-06-01 10:41:00, zone not recorded" in page  # not "+02:00" as if the camera said so
    assert "00:00:00" not in page
