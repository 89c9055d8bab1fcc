"""Library-wide duplicate groups: found across jobs as imports finish, with staff decisions that
survive regrouping."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from django_q.models import OrmQ

from jobs.models import DuplicateGroup, DuplicateKind, File, Job
from jobs.services.duplicates import DecisionRefused, decide, refresh_duplicate_groups
from jobs.services.imports import create_path_job
from jobs.services import processing
from jobs.services.processing import finish_job_if_done
from tests import media
from tests.conftest import manage, wait_for
from tests.importing import import_folder

PLAIN = "elodie/plain.jpg"
PLAIN_COPY = "elodie/Plain With Spaces And Uppercase 123.jpg"
ROCKS = ("immich/albums/nature/el_torcal_rocks.jpg", "immich/formats/jpeg/el_torcal_rocks.jpeg")
EMPTY = ("broken/elodie/invalid.jpg", "broken/pillow-heif/heif_corrupted/empty.heic")
UNIQUE = "digicam/Apple/iPhone XR/IMG_3580.JPG"
PHOTO = "digicam/Apple/iPhone 13 Pro/IMG_8568.JPG"
# Three shots of one second, told apart by their sub-seconds.
BURST = tuple(f"digicam/Apple/iPhone XR/IMG_{n}.JPG" for n in (3580, 3581, 3582))


def exact_groups() -> dict[str, list[str]]:
    """Every exact group of the library: its key and its members' paths."""
    return {
        group.key: sorted(m.file.path for m in group.members.select_related("file"))
        for group in DuplicateGroup.objects.filter(kind=DuplicateKind.EXACT)
    }


def sha256(corpus, rel: str) -> str:
    return hashlib.sha256((corpus / rel).read_bytes()).hexdigest()


@pytest.mark.django_db
def test_an_import_groups_its_copies_when_it_completes(corpus, copy_media):
    folder = copy_media(PLAIN, PLAIN_COPY, *EMPTY, UNIQUE)
    copy_media(*ROCKS, into="nature")

    job = import_folder(folder)

    assert job.status == Job.Status.COMPLETED
    assert exact_groups() == {
        sha256(corpus, PLAIN): [str(folder / "Plain With Spaces And Uppercase 123.jpg"), str(folder / "plain.jpg")],
        sha256(corpus, ROCKS[0]): [str(folder / "nature/el_torcal_rocks.jpeg"), str(folder / "nature/el_torcal_rocks.jpg")],
        # Two empty files fail to decode, yet their bytes are the same.
        sha256(corpus, EMPTY[0]): [str(folder / "empty.heic"), str(folder / "invalid.jpg")],
    }
    assert all(m.identical for g in DuplicateGroup.objects.all() for m in g.members.all())
    # A group is named by its first file and that file's folder, not by its key.
    rocks = DuplicateGroup.objects.get(key=sha256(corpus, ROCKS[0]))
    first = rocks.files.order_by("id").first()
    assert str(rocks) == f"Exact duplicates: {first.original_name} in nature"


@pytest.mark.django_db
def test_groups_span_jobs(corpus, copy_media, tmp_path):
    first = import_folder(copy_media(PLAIN, UNIQUE))
    assert exact_groups() == {}  # one copy is no group

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy2(corpus / PLAIN, other / "holiday.jpg")
    second = import_folder(other)

    (group,) = DuplicateGroup.objects.all()
    assert {f.job_id for f in group.files.all()} == {first.id, second.id}
    assert group.key == sha256(corpus, PLAIN)


@pytest.mark.django_db
def test_not_duplicates_survives_a_second_import_of_the_same_files(copy_media, staff, client):
    folder = copy_media(PLAIN, PLAIN_COPY)
    import_folder(folder)
    (group,) = DuplicateGroup.objects.all()
    client.force_login(staff)

    response = client.post(f"/admin/jobs/duplicategroup/{group.pk}/change/", {"keep": "", "not_duplicates": "on"})
    assert response.status_code == 302

    second = import_folder(folder)

    (group,) = DuplicateGroup.objects.all()
    assert group.not_duplicates and group.decided_by == staff
    assert group.files.count() == 4
    assert group.files.filter(job=second).count() == 2


@pytest.mark.django_db
def test_the_copy_to_keep_survives_regrouping(copy_media, staff, tmp_path, corpus):
    folder = copy_media(PLAIN, PLAIN_COPY)
    job = import_folder(folder)
    (group,) = DuplicateGroup.objects.all()
    keep = job.files.get(original_name="plain.jpg")
    decide(group=group, keep=keep, not_duplicates=False, by=staff)

    refresh_duplicate_groups()  # the whole library

    group.refresh_from_db()
    assert group.keep == keep and group.decided_by == staff and group.decided_at is not None


@pytest.mark.django_db
def test_decisions_that_do_not_fit_are_refused(copy_media, staff):
    job = import_folder(copy_media(PLAIN, PLAIN_COPY, UNIQUE))
    (group,) = DuplicateGroup.objects.all()
    outsider = job.files.get(original_name="IMG_3580.JPG")
    member = group.files.first()

    with pytest.raises(DecisionRefused, match="not in this group"):
        decide(group=group, keep=outsider, not_duplicates=False, by=staff)
    with pytest.raises(DecisionRefused, match="one or the other"):
        decide(group=group, keep=member, not_duplicates=True, by=staff)
    group.refresh_from_db()
    assert group.keep is None and not group.not_duplicates and group.decided_by is None


@pytest.mark.django_db
def test_a_group_that_vanishes_goes_unless_decided(copy_media, staff):
    job = import_folder(copy_media(PLAIN, PLAIN_COPY, *EMPTY))
    empty_group = DuplicateGroup.objects.get(members__file__original_name="invalid.jpg")
    plain_group = DuplicateGroup.objects.get(members__file__original_name="plain.jpg")
    decide(group=plain_group, keep=None, not_duplicates=True, by=staff)
    # Both groups lose a member: a file is put back to be processed again.
    job.files.filter(original_name__in=["invalid.jpg", "plain.jpg"]).update(status=File.Status.PENDING)

    refresh_duplicate_groups(job=job)

    assert not DuplicateGroup.objects.filter(pk=empty_group.pk).exists()
    plain_group.refresh_from_db()
    assert plain_group.not_duplicates  # staff's decision waits for the files to be grouped again


@pytest.mark.django_db
def test_a_jobs_refresh_leaves_other_jobs_groups_alone(corpus, copy_media, tmp_path):
    import_folder(copy_media(PLAIN, PLAIN_COPY))
    other = tmp_path / "other"
    shutil.copytree(corpus / "immich/formats/jpeg", other)
    shutil.copy2(corpus / ROCKS[0], other / "again.jpg")
    job = import_folder(other)

    before = exact_groups()
    refresh_duplicate_groups(job=job)

    assert exact_groups() == before
    assert set(before) == {sha256(corpus, PLAIN), sha256(corpus, ROCKS[0])}


@pytest.mark.django_db
def test_completing_a_job_queues_the_regrouping(copy_media, django_capture_on_commit_callbacks):
    job = create_path_job(path=copy_media(PLAIN, PLAIN_COPY), enqueue=False)
    job.files.update(status=File.Status.DONE)

    with django_capture_on_commit_callbacks(execute=True):
        assert finish_job_if_done(job.id)

    queued = [row.task for row in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in queued] == [("jobs.tasks.refresh_duplicate_groups", (job.id,))]


@pytest.mark.cluster
def test_a_cluster_regroups_the_library_when_a_job_completes(corpus, copy_media, cluster, cluster_env):
    cluster()
    first = manage("import_path", str(copy_media(PLAIN, into="first") / "first"), env=cluster_env, timeout=120)
    assert first.returncode == 0, first.stderr

    second = manage("import_path", str(copy_media(PLAIN_COPY, into="second") / "second"), env=cluster_env, timeout=120)
    assert second.returncode == 0, second.stderr

    # The group and its members are written in one transaction.
    group = wait_for(lambda: DuplicateGroup.objects.first(), timeout=60, message="the duplicate group")
    assert group.key == sha256(corpus, PLAIN)
    assert group.files.count() == 2
    assert {f.job_id for f in group.files.all()} == set(Job.objects.values_list("id", flat=True))


def messenger_copy(source: Path, target: Path, quality: int = 70) -> Path:
    """What a messenger makes of a photo: smaller, recompressed, its metadata gone."""
    with Image.open(source) as image:
        copy = ImageOps.exif_transpose(image)
        copy.thumbnail((1024, 1024))
        copy.save(target, "JPEG", quality=quality)
    return target


@pytest.mark.django_db
def test_a_recompressed_copy_joins_its_photo_in_a_near_group(corpus, copy_media, tmp_path):
    job = import_folder(copy_media(PHOTO))
    later = tmp_path / "from the messenger"
    later.mkdir()
    messenger_copy(corpus / PHOTO, later / "IMG-20210927-WA0001.jpg")

    import_folder(later)

    (group,) = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR)
    original = job.files.get(original_name="IMG_8568.JPG")
    assert group.key == original.sha256  # the first imported file names the group
    assert sorted(group.files.values_list("original_name", flat=True)) == ["IMG-20210927-WA0001.jpg", "IMG_8568.JPG"]
    assert not any(group.members.values_list("identical", flat=True))


@pytest.mark.django_db
def test_a_burst_is_three_shots_not_a_near_group(copy_media):
    job = import_folder(copy_media(*BURST))

    assert len({f.shot for f in job.files.all()}) == 3
    assert not DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR).exists()


@pytest.mark.django_db
def test_a_copy_of_one_frame_of_a_burst_joins_that_frame_at_a_closer_look(corpus, copy_media):
    folder = copy_media(*BURST)
    # A messenger's copies of the last frame: by their fingerprints they are as near the other
    # two frames (2 bits) as their own (0 or 2); their thumbnails in grey are nearest their own.
    for number, quality in ((1, 70), (2, 20)):
        messenger_copy(corpus / BURST[2], folder / f"IMG-20200417-WA000{number}.jpg", quality)

    job = import_folder(folder)

    (group,) = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR)
    assert sorted(group.files.values_list("original_name", flat=True)) == [
        "IMG-20200417-WA0001.jpg", "IMG-20200417-WA0002.jpg", "IMG_3582.JPG"
    ]  # fmt: skip
    assert len(job.files.all()) == 5  # the other two frames stay shots of their own


@pytest.mark.django_db
def test_a_black_frame_and_its_metadata_only_copy_are_one_picture(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    # A lens-cap shot: too featureless for a fingerprint, so near no other picture.
    Image.new("RGB", (640, 480), (3, 3, 3)).save(folder / "DSC_0001.JPG", quality=90)
    media.exiftool(folder / "DSC_0001.JPG", "-DateTimeOriginal=2020:04:17 10:03:42")
    shutil.copy2(folder / "DSC_0001.JPG", folder / "zone-fixed.jpg")
    media.exiftool(folder / "zone-fixed.jpg", "-AllDates+=1")
    Image.new("RGB", (640, 480), (5, 5, 5)).save(folder / "DSC_0002.JPG", quality=90)  # another black frame

    job = import_folder(folder)

    assert not any(job.files.values_list("perceptual_hash", flat=True))
    (group,) = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR)
    assert sorted(group.files.values_list("original_name", flat=True)) == ["DSC_0001.JPG", "zone-fixed.jpg"]


@pytest.mark.django_db
def test_not_duplicates_on_a_near_group_survives_importing_the_copy_again(corpus, copy_media, tmp_path, staff):
    import_folder(copy_media(PHOTO))
    later = tmp_path / "later"
    later.mkdir()
    messenger_copy(corpus / PHOTO, later / "small.jpg")
    import_folder(later)
    (group,) = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR)
    decide(group=group, keep=None, not_duplicates=True, by=staff)

    import_folder(later)

    (again,) = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR)
    assert again.pk == group.pk and again.not_duplicates
    assert again.files.count() == 3
    # The two byte-identical copies of the small one are marked so.
    assert sorted(again.members.values_list("identical", flat=True)) == [False, True, True]


@pytest.mark.django_db
def test_copies_that_differ_in_metadata_alone_join_their_shot(copy_media):
    folder = copy_media(*BURST)
    # A time-zone fix and stripped EXIF, made with exiftool as people make them, of the first frame.
    first_frame = folder / Path(BURST[0]).name
    for name, arguments in {"zone-fixed.jpg": ["-AllDates+=1"], "stripped.jpg": ["-all="]}.items():
        shutil.copy2(first_frame, folder / name)
        subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", *arguments, str(folder / name)], check=True)

    job = import_folder(folder)

    files = {file.original_name: file for file in job.files.all()}
    assert files["zone-fixed.jpg"].shot != files["IMG_3580.JPG"].shot and not files["stripped.jpg"].shot
    assert len({file.picture_sha256 for file in files.values()}) == 3  # the three frames
    (group,) = DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR)
    # The first frame's copies are its group; the other two frames of the burst stay apart.
    assert sorted(group.files.values_list("original_name", flat=True)) == [
        "IMG_3580.JPG", "stripped.jpg", "zone-fixed.jpg"
    ]  # fmt: skip
    assert group.key == files["IMG_3580.JPG"].sha256


@pytest.mark.django_db
def test_a_cancelled_jobs_files_join_the_library_groups(corpus, copy_media, api, alice, django_capture_on_commit_callbacks):
    import_folder(copy_media(PLAIN, into="first") / "first")
    job = create_path_job(path=copy_media(PLAIN_COPY, PHOTO, into="second") / "second", owner=alice, enqueue=False)
    # One file done when the person cancels; the other never will be.
    copy = job.files.get(original_name=Path(PLAIN_COPY).name)
    job.files.filter(id=copy.id).update(status=File.Status.DONE, sha256=sha256(corpus, PLAIN))
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, progress_current=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert api(alice).post(f"/api/jobs/{job.id}/control", {"action": "cancel"}).status_code == 200
    queued = [row.task for row in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in queued] == [("jobs.tasks.refresh_duplicate_groups", (job.id,))]
    refresh_duplicate_groups(job=job)  # what the cluster runs for that task

    assert exact_groups()[sha256(corpus, PLAIN)] == sorted(
        [str(copy_media(PLAIN, into="first") / "first" / "plain.jpg"), copy.path]
    )


@pytest.mark.django_db
def test_files_finished_after_a_cancel_are_regrouped_too(corpus, copy_media, monkeypatch, django_capture_on_commit_callbacks):
    job = create_path_job(path=copy_media(PLAIN, PLAIN_COPY, PHOTO), enqueue=False)
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING)
    real_analyse = processing.analyse_file

    def cancelled_while_reading(file):
        # The person cancels while the first file is being read: it is finished and written.
        analysis = real_analyse(file)
        Job.objects.filter(id=job.id).update(status=Job.Status.CANCELLED)
        return analysis

    monkeypatch.setattr(processing, "analyse_file", cancelled_while_reading)
    ids = list(job.files.order_by("id").values_list("id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        processing.process_batch(job_id=job.id, first_id=ids[0], last_id=ids[-1], token="t")

    assert job.files.filter(status=File.Status.DONE).count() == 1
    queued = [row.task for row in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in queued] == [("jobs.tasks.refresh_duplicate_groups", (job.id,))]
