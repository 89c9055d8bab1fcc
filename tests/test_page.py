"""The import page as the server renders it: who may see it, and what it starts with."""

import json

import pytest
from django.urls import reverse

from jobs.models import Job

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="page-config" type="application/json">') + len('<script id="page-config" type="application/json">')
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.mark.parametrize("url", ["/", "/jobs/1/"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_the_login_page_logs_in_and_returns_to_the_page(client, alice):
    page = client.get(reverse("login") + "?next=/")
    assert b'<label for="id_username">Username</label>' in page.content
    assert b'<label for="id_password">Password</label>' in page.content

    response = client.post(reverse("login"), {"username": "alice", "password": "correct horse battery", "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_told_in_words(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logging_out_ends_the_session(alice_client):
    alice_client.post(reverse("logout"))

    assert alice_client.get("/").status_code == 302


def test_the_page_knows_the_servers_upload_limits(alice_client, settings):
    settings.MEDIAIMPORT_UPLOAD_MAX_FILES = 7
    settings.MEDIAIMPORT_UPLOAD_MAX_BYTES = 5_000_000

    config = page_config(alice_client.get("/"))

    assert config["uploadMaxFiles"] == 7
    assert config["uploadMaxBytes"] == 5_000_000
    new_formats = {".tiff", ".webp", ".avif", ".dng", ".cr3", ".raf", ".m4v", ".mts", ".wmv"}
    assert {".jpg", ".heic", *new_formats} <= set(config["extensions"])
    assert config["actions"] == {"cancel": ["paused", "pending", "running"], "pause": ["running"], "resume": ["paused"]}


def test_the_server_folder_form_is_shown_only_with_import_roots(alice_client, settings, tmp_path):
    settings.MEDIAIMPORT_IMPORT_ROOTS = []
    assert b'id="folder-form"' not in alice_client.get("/").content

    settings.MEDIAIMPORT_IMPORT_ROOTS = [tmp_path / "photos", tmp_path / "archive"]
    html = alice_client.get("/").content.decode()

    assert 'id="folder-form"' in html
    assert f'data-root="{tmp_path / "photos"}"' in html and f'data-root="{tmp_path / "archive"}"' in html


def test_the_page_lists_every_format_it_imports(alice_client):
    html = alice_client.get("/").content.decode()

    assert "3gp, arw, avi, avif, cr2, cr3, dng, gif, heic" in html and "tif, tiff, webm, webp, wmv" in html


def test_a_folder_job_says_what_it_skipped(alice_client, alice):
    job = Job.objects.create(owner=alice, kind=Job.Kind.PATH, skipped_count=4, skipped={".txt": 1, ".psd": 3})

    html = alice_client.get(f"/jobs/{job.id}/").content.decode()

    assert "Skipped 4 files that are not photos or videos we import: .psd 3, .txt 1" in html


def test_reopening_the_page_resumes_the_users_latest_unfinished_job(alice_client, alice, bob):
    Job.objects.create(owner=alice, kind=Job.Kind.UPLOAD, status=Job.Status.PAUSED)
    latest = Job.objects.create(owner=alice, kind=Job.Kind.UPLOAD, status=Job.Status.RUNNING)
    Job.objects.create(owner=alice, kind=Job.Kind.UPLOAD, status=Job.Status.COMPLETED)
    Job.objects.create(owner=bob, kind=Job.Kind.UPLOAD, status=Job.Status.RUNNING)

    assert page_config(alice_client.get("/"))["jobId"] == latest.id


def test_with_every_job_finished_the_page_opens_on_no_job(alice_client, alice):
    Job.objects.create(owner=alice, kind=Job.Kind.UPLOAD, status=Job.Status.COMPLETED)

    assert page_config(alice_client.get("/"))["jobId"] is None


def test_a_job_from_the_history_opens_at_its_own_address(alice_client, alice):
    job = Job.objects.create(owner=alice, kind=Job.Kind.UPLOAD, status=Job.Status.COMPLETED)

    response = alice_client.get(reverse("job", args=[job.id]))

    assert response.status_code == 200
    assert page_config(response)["jobId"] == job.id


def test_nobody_opens_another_users_job(alice_client, bob, client, staff):
    bobs = Job.objects.create(owner=bob, kind=Job.Kind.UPLOAD)

    assert alice_client.get(reverse("job", args=[bobs.id])).status_code == 404
    client.force_login(staff)
    assert client.get(reverse("job", args=[bobs.id])).status_code == 200


def test_history_lists_the_users_own_jobs_with_their_counts(alice_client, alice, bob):
    mine = Job.objects.create(
        owner=alice, kind=Job.Kind.PATH, status=Job.Status.COMPLETED, progress_total=12, progress_current=12, error_count=2
    )
    theirs = Job.objects.create(owner=bob, kind=Job.Kind.UPLOAD)

    html = alice_client.get("/").content.decode()

    assert f'<tr data-job-id="{mine.id}"' in html
    assert f'data-job-id="{theirs.id}"' not in html
    assert ">12 / 12<" in html and 'data-field="errors">2<' in html


def test_history_pages_through_many_jobs(alice_client, alice):
    jobs = [Job.objects.create(owner=alice, kind=Job.Kind.UPLOAD, status=Job.Status.COMPLETED) for _ in range(25)]

    first = alice_client.get("/").content.decode()
    second = alice_client.get("/?page=2").content.decode()

    assert f'data-job-id="{jobs[-1].id}"' in first and f'data-job-id="{jobs[0].id}"' not in first
    assert f'data-job-id="{jobs[0].id}"' in second


def test_what_users_named_is_escaped(alice_client, alice):
    job = Job.objects.create(owner=alice, kind=Job.Kind.PATH, source_path="/srv/<script>alert(1)</script>")

    html = alice_client.get(reverse("job", args=[job.id])).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "js/upload.js"])
def test_the_pages_assets_are_served_from_the_project(client, name):
    response = client.get(f"/static/{name}")

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert b"http://" not in body and b"https://" not in body  # nothing from elsewhere: the machine may be offline
