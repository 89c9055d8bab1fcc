"""The Export panel in a real browser: the template's live preview on the user's own files, the
plan, and an export started and followed to its manifest."""

from unittest.mock import patch

import pytest
from django_q.conf import Conf

from jobs.models import ExportEntry, Job
from tests.conftest import log_in, screenshot
from tests.importing import import_folder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alices_photos(copy_media, alice):
    # Three pictures (elodie's with-location.jpg would be plain.jpg's picture with a location added).
    job = import_folder(copy_media("elodie/plain.jpg", "drewnoakes/jpg/Nikon E5000.jpg", "elodie/no-exif.jpg"))
    Job.objects.filter(id=job.id).update(owner=alice)
    return job


def test_the_export_panel_previews_plans_and_runs_an_export(page, alice, alices_photos, settings, tmp_path):
    root = tmp_path / "exports"
    root.mkdir()
    settings.MEDIAIMPORT_EXPORT_ROOTS = [root]
    log_in(page, alice)

    preview = page.locator("#export-preview")
    preview.get_by_text("plain.jpg → 2015/20151205_005926.jpg").wait_for()
    page.get_by_label("Where each file goes").fill("{year}/{name}")
    preview.get_by_text("plain.jpg → 2015/plain.jpg").wait_for()
    page.get_by_label("Where each file goes").fill("{when}")
    preview.get_by_text("Unknown token {when}").wait_for()
    page.get_by_label("Where each file goes").fill("{year}/{name}")

    page.get_by_role("button", name="Show the plan").click()
    page.get_by_role("alert").filter(has_text="destination").wait_for()  # none given yet
    page.get_by_role("button", name=str(root)).click()
    page.get_by_label("Destination folder on the server").fill(f"{root}/family")
    page.get_by_role("button", name="Show the plan").click()
    page.locator("#export-plan-view").wait_for()
    assert page.locator('[data-count="exported"]').text_content() == "3"
    assert page.locator('[data-count="duplicates"]').text_content() == "0"
    page.locator("#export-entries").get_by_text("plain.jpg → 2015/plain.jpg").wait_for()
    assert not (root / "family").exists()  # the plan writes nothing
    screenshot(page, "export-plan")

    with patch.object(Conf, "SYNC", True):  # the queue runs in the server's own thread
        page.get_by_role("button", name="Start export").click()
        page.locator("#job-status", has_text="Completed").wait_for()
    export = Job.objects.filter(kind=Job.Kind.EXPORT, dry_run=False).get()
    assert page.url.endswith(f"/jobs/{export.id}/")
    link = page.get_by_role("link", name="Download the manifest (CSV)")
    assert link.get_attribute("href") == f"/api/jobs/{export.id}/manifest?format=csv"
    assert (root / "family/2015/plain.jpg").is_file()
    assert {e.action for e in ExportEntry.objects.filter(job=export)} == {"copied"}
    screenshot(page, "export-done")

    # The history lists the plan too, as what it was: a dry run.
    dry = Job.objects.filter(kind=Job.Kind.EXPORT, dry_run=True).get()
    page.goto(f"{page.url.split('/jobs/')[0]}/jobs/{dry.id}/")
    assert page.locator("#job-subtitle").inner_text() == "Export (dry run)"
    history = page.locator("#history-rows")
    assert history.locator(f'tr[data-job-id="{dry.id}"] th').inner_text().endswith("Export (dry run)")
    assert history.locator(f'tr[data-job-id="{export.id}"] th').inner_text().endswith("Export")
