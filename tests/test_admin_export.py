"""Exports in the staff console: their settings and manifest on the job's page, and undo."""

import pytest

from jobs.models import Job
from jobs.services.export import create_export_job
from jobs.services.processing import process_batch
from tests.importing import import_folder
from tests.test_admin import act, messages_of


@pytest.fixture
def console(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def finished_export(copy_media, tmp_path) -> Job:
    job = import_folder(copy_media("elodie/plain.jpg", "elodie/no-exif.jpg"))  # two pictures
    export = create_export_job(destination=tmp_path / "out", job_ids=[job.id], enqueue=False)
    ids = list(export.export_entries.values_list("id", flat=True))
    process_batch(job_id=export.id, first_id=min(ids), last_id=max(ids), token="admin-test")
    export.refresh_from_db()
    assert export.status == Job.Status.COMPLETED
    return export


@pytest.mark.django_db
def test_an_exports_page_shows_its_destination_and_manifest(finished_export, console, tmp_path):
    page = console.get(f"/admin/jobs/job/{finished_export.pk}/change/").content.decode()
    assert str(tmp_path / "out") in page
    assert f"/api/jobs/{finished_export.pk}/manifest?format=csv" in page
    assert "duplicate groups" not in page  # an import's results, not an export's
    assert console.get("/admin/jobs/job/?kind=export").status_code == 200


@pytest.mark.django_db
def test_undoing_an_export_from_the_job_list(finished_export, console, tmp_path):
    changed = next((tmp_path / "out").rglob("*.jpg"))
    changed.write_bytes(b"edited by hand")
    imported = Job.objects.exclude(kind=Job.Kind.EXPORT).get()

    response = act(console, "undo_export", finished_export, imported)

    shown = messages_of(response)
    assert f"Export {finished_export.pk}: 1 files removed." in shown
    relative = changed.relative_to(tmp_path / "out")
    assert any(m.startswith(f"Export {finished_export.pk} kept {relative}: changed since the export") for m in shown)
    assert f"Job {imported.pk}: Job {imported.pk} is not an export." in shown
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == [changed]


@pytest.mark.django_db
def test_a_dry_run_is_listed_as_a_dry_run(finished_export, console, tmp_path):
    dry = create_export_job(destination=tmp_path / "plan", dry_run=True, enqueue=False)

    listing = console.get("/admin/jobs/job/?kind=export").content.decode()

    assert listing.count("Export (dry run)") == 1
    assert f'/admin/jobs/job/{dry.pk}/change/' in listing and f'/admin/jobs/job/{finished_export.pk}/change/' in listing
