"""The export calls of the JSON API: POST /api/exports, the manifest, undo, the template preview."""

import csv
import io
from unittest.mock import patch

import pytest
from django_q.conf import Conf

from jobs.models import ExportEntry, Job
from tests.importing import import_folder


@pytest.fixture
def alices_job(copy_media, alice):
    job = import_folder(copy_media("elodie/plain.jpg", "elodie/no-exif.jpg"))  # two pictures
    Job.objects.filter(id=job.id).update(owner=alice)
    return job


@pytest.fixture
def roots(settings, tmp_path):
    root = tmp_path / "exports"
    root.mkdir()
    settings.MEDIAIMPORT_EXPORT_ROOTS = [root]
    return root


@pytest.mark.django_db
def test_an_export_planned_then_run_through_the_api(api, alice, alices_job, roots, django_capture_on_commit_callbacks):
    client = api(alice)
    dry = client.post("/api/exports", {"destination": str(roots / "family"), "dry_run": True})
    assert dry.status_code == 201, dry.json()
    assert dry.json()["file_count"] == 2 and dry.json()["status"] == "queued"
    plan = client.get(f"/api/jobs/{dry.json()['job_id']}/manifest").json()
    assert plan["total"] == 2 and plan["pages"] == 1
    assert {e["action"] for e in plan["entries"]} == {"planned"}
    assert plan["entries"][0]["source"].endswith("plain.jpg")
    assert plan["summary"]["exported"] == 2 and plan["summary"]["bytes_free"] > plan["summary"]["bytes_needed"] > 0
    assert not (roots / "family").exists()
    assert client.get(f"/api/jobs/{dry.json()['job_id']}").json()["job_type"] == "export"
    # Listed with the jobs, said to be a dry run.
    listed = {j["id"]: j["dry_run"] for j in client.get("/api/jobs").json()["jobs"]}
    assert listed == {dry.json()["job_id"]: True, alices_job.id: False}

    with patch.object(Conf, "SYNC", True), django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/exports", {"destination": str(roots / "family"), "job_ids": [alices_job.id]})
    assert started.status_code == 201
    job_id = started.json()["job_id"]
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "completed"
    manifest = client.get(f"/api/jobs/{job_id}/manifest", per_page=1, page=2).json()
    assert manifest["total"] == 2 and manifest["pages"] == 2 and len(manifest["entries"]) == 1
    entry = manifest["entries"][0]
    assert entry["action"] == "copied" and len(entry["sha256"]) == 64
    assert set(entry) >= {"file_id", "source", "destination", "action", "sha256", "written", "duplicate_of"}
    assert (roots / "family" / entry["destination"]).is_file()

    as_csv = client.get(f"/api/jobs/{job_id}/manifest", format="csv")
    assert as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert {r["action"] for r in rows} == {"copied"} and len(rows) == 2

    undone = client.post(f"/api/jobs/{job_id}/undo")
    assert undone.status_code == 200
    assert sorted(undone.json()["removed"]) == sorted(e.destination for e in ExportEntry.objects.filter(job_id=job_id))
    assert undone.json()["kept"] == []
    assert list(roots.iterdir()) == []


@pytest.mark.django_db
def test_exports_are_refused_outside_the_roots_without_roots_and_for_others_jobs(api, alice, bob, alices_job, roots, settings, tmp_path):
    client = api(alice)
    outside = client.post("/api/exports", {"destination": str(tmp_path / "elsewhere")})
    assert outside.status_code == 403 and "MEDIAIMPORT_EXPORT_ROOTS" not in outside.json()["error"]
    (roots / "link").symlink_to(tmp_path)
    assert client.post("/api/exports", {"destination": str(roots / "link" / "x")}).status_code == 403
    assert client.post("/api/exports", {"destination": "relative/path"}).status_code == 400
    assert client.post("/api/exports", {"destination": str(roots), "template": "{nope}"}).status_code == 400
    assert client.post("/api/exports", {"destination": str(roots), "dry_run": "yes"}).status_code == 400

    others = api(bob).post("/api/exports", {"destination": str(roots), "job_ids": [alices_job.id]})
    assert others.status_code == 404
    nothing = api(bob).post("/api/exports", {"destination": str(roots)})
    assert nothing.status_code == 400 and "nothing done to export" in nothing.json()["error"]

    settings.MEDIAIMPORT_EXPORT_ROOTS = []
    off = client.post("/api/exports", {"destination": str(roots)})
    assert off.status_code == 400 and "MEDIAIMPORT_EXPORT_ROOTS" in off.json()["error"]
    assert Job.objects.filter(kind=Job.Kind.EXPORT).count() == 0
    assert client.post("/api/exports", {"destination": str(roots)}, csrf=False).status_code == 403


@pytest.mark.django_db
def test_the_template_preview_shows_where_the_users_own_files_would_go(api, alice, bob, alices_job):
    preview = api(alice).get("/api/exports/preview", template="{year}/{name}").json()
    assert sorted(e["destination"] for e in preview["entries"]) == ["2015/plain.jpg", "undated/no-exif.jpg"]
    assert api(bob).get("/api/exports/preview").json()["entries"] == []
    assert api(alice).get("/api/exports/preview", template="{when}").status_code == 400


@pytest.mark.django_db
def test_an_imports_manifest_and_undo_are_refused(api, alice, alices_job):
    assert api(alice).get(f"/api/jobs/{alices_job.id}/manifest").status_code == 400
    assert api(alice).post(f"/api/jobs/{alices_job.id}/undo").status_code == 400


@pytest.mark.django_db
def test_the_pages_export_panel_is_shown_only_with_export_roots(client, alice, settings, tmp_path):
    client.force_login(alice)
    settings.MEDIAIMPORT_EXPORT_ROOTS = []
    assert b'id="export-form"' not in client.get("/").content

    settings.MEDIAIMPORT_EXPORT_ROOTS = [tmp_path / "usb"]
    html = client.get("/").content.decode()
    assert 'id="export-form"' in html and f'data-export-root="{tmp_path / "usb"}"' in html
    assert 'value="{year}/{year}{month}{day}_{hour}{minute}{second}"' in html
