"""The JSON API through Django's test client with CSRF checks enforced (docs/api.md)."""

import hashlib
import re
import threading
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from jobs.models import Confidence, DuplicateGroup, DuplicateMember, File, Job
from jobs.services.processing import process_batch
from tests.conftest import Api

pytestmark = pytest.mark.django_db

JOB_FIELDS = {
    "id", "status", "job_type", "progress_current", "progress_total", "progress_percent", "error_count",
    "created_at", "started_at", "completed_at",
}  # fmt: skip
FILE_FIELDS = {
    "id", "filename", "path", "timestamp", "confidence", "timestamp_source", "sha256", "size", "width", "height",
    "mime_type", "thumbnail_url", "error",
}  # fmt: skip
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def make_job(owner, *, files=(), status=Job.Status.PENDING, kind=Job.Kind.UPLOAD) -> Job:
    """A job with files given as (name, confidence) pairs, as if already processed."""
    job = Job.objects.create(owner=owner, kind=kind, status=status, progress_total=len(files))
    File.objects.bulk_create(
        File(job=job, original_name=name, path=f"uploads/test/{job.id}-{i}.jpg", confidence=confidence, status=File.Status.DONE)
        for i, (name, confidence) in enumerate(files)
    )
    return job


def process(job: Job) -> Job:
    """Run the job's files through the real pipeline in this process, as one batch would."""
    ids = list(job.files.values_list("id", flat=True))
    process_batch(job_id=job.id, first_id=min(ids), last_id=max(ids), token="test")
    job.refresh_from_db()
    return job


def upload_corpus(api: Api, corpus, *relative: str):
    files = [SimpleUploadedFile(rel.rsplit("/", 1)[-1], (corpus / rel).read_bytes()) for rel in relative]
    response = api.upload(files)
    assert response.status_code == 201, response.content
    return Job.objects.get(id=response.json()["job_id"])


# --- who may do what --------------------------------------------------------------------------

CALLS = [
    ("get", "/api/jobs"),
    ("get", "/api/jobs/1"),
    ("get", "/api/jobs/1/files"),
    ("get", "/api/jobs/1/duplicates"),
    ("get", "/api/files/1/thumbnail"),
    ("post", "/api/jobs/1/control"),
    ("post", "/api/import-path"),
    ("post", "/api/upload"),
]


@pytest.mark.parametrize("method,url", CALLS)
def test_anonymous_users_get_a_json_401_never_a_redirect(method, url):
    response = getattr(Api(), method)(url)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "Log in" in response.json()["error"]


@pytest.mark.parametrize("url", ["/api/jobs/1/control", "/api/import-path", "/api/upload"])
def test_unsafe_calls_without_the_csrf_token_get_a_json_403(alice, url, corpus):
    job = make_job(alice, status=Job.Status.RUNNING)
    url = url.replace("/1/", f"/{job.id}/")
    api = Api(alice)
    if url == "/api/upload":
        response = api.upload([SimpleUploadedFile("a.jpg", (corpus / "elodie/plain.jpg").read_bytes())], csrf=False)
    else:
        response = api.post(url, {"action": "pause", "path": "/tmp"}, csrf=False)

    assert response.status_code == 403
    assert "X-CSRFToken" in response.json()["error"]
    assert Job.objects.count() == 1  # nothing was created
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


def test_a_wrong_csrf_token_is_refused_too(alice):
    job = make_job(alice, status=Job.Status.RUNNING)
    api = Api(alice)
    api.token = "x" * 32

    response = api.post(f"/api/jobs/{job.id}/control", {"action": "pause"})

    assert response.status_code == 403 and "CSRF" in response.json()["error"]


def test_pages_outside_the_api_keep_djangos_csrf_page(alice):
    response = Api(alice).client.post("/accounts/logout/")

    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")


def test_unknown_calls_and_wrong_methods_answer_json(alice):
    api = Api(alice)

    for url in ["/api/nothing", "/api/jobs/abc", "/api/jobs/1/other", "/api/"]:
        response = api.get(url)
        assert response.status_code == 404 and "No such API call" in response.json()["error"], url

    response = api.get("/api/upload")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "POST" in response.json()["error"]
    assert api.post("/api/jobs").status_code == 405


def test_someone_elses_job_answers_404_on_every_call(alice, bob, corpus):
    job = process(upload_corpus(Api(alice), corpus, "elodie/plain.jpg"))
    thumbnail = job.files.get().id
    as_bob = Api(bob)

    for url in [f"/api/jobs/{job.id}", f"/api/jobs/{job.id}/files", f"/api/jobs/{job.id}/duplicates", f"/api/files/{thumbnail}/thumbnail"]:
        response = as_bob.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]
    response = as_bob.post(f"/api/jobs/{job.id}/control", {"action": "cancel"})
    assert response.status_code == 404
    assert Job.objects.get(id=job.id).status == Job.Status.COMPLETED
    # ... and it answers exactly like a job that does not exist
    assert as_bob.get(f"/api/jobs/{job.id}").json() == {"error": f"No job {job.id}."}


def test_staff_see_every_job(alice, staff):
    job = make_job(alice)

    assert Api(staff).get(f"/api/jobs/{job.id}").status_code == 200
    assert [j["id"] for j in Api(staff).get("/api/jobs").json()["jobs"]] == [job.id]
    assert Api(staff).post(f"/api/jobs/{job.id}/control", {"action": "cancel"}).json()["status"] == "cancelled"


# --- jobs -------------------------------------------------------------------------------------


def test_job_answer_has_every_contract_field(alice, corpus, settings):
    settings.TIME_ZONE = "America/Chicago"
    job = process(upload_corpus(Api(alice), corpus, "elodie/plain.jpg", "elodie/with-location.jpg"))

    answer = Api(alice).get(f"/api/jobs/{job.id}").json()

    assert JOB_FIELDS <= set(answer)
    assert answer["id"] == job.id and answer["job_type"] == "upload" and answer["status"] == "completed"
    assert answer["progress_current"] == answer["progress_total"] == 2
    assert answer["progress_percent"] == 100 and answer["error_count"] == 0
    assert answer["allowed_actions"] == []
    for field in ["created_at", "started_at", "completed_at"]:
        assert ISO_WITH_OFFSET.match(answer[field]), answer[field]
        assert answer[field][-6:] in ("-06:00", "-05:00")  # Chicago's offset at that moment
        assert datetime.fromisoformat(answer[field]) == getattr(job, field)


def test_progress_percent_is_a_whole_number(alice):
    job = make_job(alice, files=[("a.jpg", "none")] * 3, status=Job.Status.RUNNING)
    Job.objects.filter(id=job.id).update(progress_current=1)

    answer = Api(alice).get(f"/api/jobs/{job.id}").json()

    assert answer["progress_percent"] == 33 and answer["started_at"] is None


def test_unknown_job_answers_404(alice):
    response = Api(alice).get("/api/jobs/999999")

    assert response.status_code == 404 and response.json() == {"error": "No job 999999."}


def test_job_history_is_the_users_own_newest_first_and_paged(alice, bob):
    mine = [make_job(alice).id for _ in range(5)]
    make_job(bob)
    api = Api(alice)

    first = api.get("/api/jobs", per_page=2).json()
    last = api.get("/api/jobs", per_page=2, page=3).json()
    past = api.get("/api/jobs", per_page=2, page=4).json()

    assert [j["id"] for j in first["jobs"]] == mine[::-1][:2]
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (5, 3, 1, 2)
    assert [j["id"] for j in last["jobs"]] == [mine[0]]
    assert past["jobs"] == [] and past["total"] == 5


# --- control ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,action,code,after",
    [
        ("running", "pause", 200, "paused"),
        ("paused", "resume", 200, "running"),
        ("running", "cancel", 200, "cancelled"),
        ("paused", "cancel", 200, "cancelled"),
        ("pending", "cancel", 200, "cancelled"),
        ("pending", "pause", 400, "pending"),
        ("running", "resume", 400, "running"),
        ("paused", "pause", 400, "paused"),
        ("completed", "cancel", 400, "completed"),
        ("cancelled", "resume", 400, "cancelled"),
        ("failed", "pause", 400, "failed"),
        ("running", "explode", 400, "running"),
    ],
)
def test_control_follows_the_state_machine(alice, status, action, code, after):
    job = make_job(alice, status=status)

    response = Api(alice).post(f"/api/jobs/{job.id}/control", {"action": action})

    assert response.status_code == code, response.content
    job.refresh_from_db()
    assert job.status == after
    if code == 200:
        assert response.json()["status"] == after and JOB_FIELDS <= set(response.json())
    else:
        assert response.json()["allowed_actions"] == job.allowed_actions()
        assert response.json()["error"].endswith(f"Allowed now: {', '.join(job.allowed_actions()) or 'none'}.")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"{}", b'{"action": 3}'])
def test_control_needs_a_json_action(alice, body):
    job = make_job(alice, status=Job.Status.RUNNING)

    response = Api(alice).raw(f"/api/jobs/{job.id}/control", body, "application/json")

    assert response.status_code == 400 and response.json()["error"]
    assert Job.objects.get(id=job.id).status == Job.Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_of_two_pauses_at_once_exactly_one_wins(alice):
    job = make_job(alice, status=Job.Status.RUNNING)
    clients = [Api(alice), Api(alice)]
    start = threading.Barrier(2)
    codes = []

    def pause(api):
        start.wait()
        try:
            codes.append(api.post(f"/api/jobs/{job.id}/control", {"action": "pause"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=pause, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(codes) == [200, 400]
    assert Job.objects.get(id=job.id).status == Job.Status.PAUSED


# --- import-path ------------------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path, settings):
    """An import root holding a folder of photos, and a folder outside it."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "photos" / "2019").mkdir(parents=True)
    outside.mkdir()
    settings.MEDIAIMPORT_IMPORT_ROOTS = [root]
    return root, outside


def test_import_path_creates_a_job_and_leaves_the_files_where_they_are(alice, roots, copy_media, corpus):
    root, _ = roots
    for name in ["plain.jpg", "with-location.jpg"]:
        (root / "photos" / "2019" / name).write_bytes((corpus / "elodie" / name).read_bytes())
    (root / "photos" / "notes.txt").write_text("not a photo")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}

    response = Api(alice).post("/api/import-path", {"path": str(root / "photos")})

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["file_count"] == 2 and answer["status"] == "queued"
    job = Job.objects.get(id=answer["job_id"])
    assert job.owner == alice and job.kind == Job.Kind.PATH
    assert sorted(job.files.values_list("path", flat=True)) == sorted(str(p) for p in (root / "photos" / "2019").iterdir())
    process(job)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()} == before
    files = Api(alice).get(f"/api/jobs/{job.id}/files").json()["files"]
    assert {f["path"] for f in files} == {str(root / "photos" / "2019" / n) for n in ["plain.jpg", "with-location.jpg"]}


def test_a_folder_import_counts_and_names_what_it_skips(alice, roots, corpus):
    folder = roots[0] / "photos"
    (folder / "2019" / "plain.jpg").write_bytes((corpus / "elodie" / "plain.jpg").read_bytes())
    (folder / "2019" / "scan.TIF").write_bytes((corpus / "pillow-heif/non_heif/xmp.tiff").read_bytes())
    for name in ["notes.txt", "2019/edit.psd", "2019/Edit2.PSD", "2019/more.psd", "README"]:
        (folder / name).write_text("not a photo")
    for litter in [".DS_Store", "Thumbs.db", "2019/._plain.jpg", "desktop.ini"]:
        (folder / litter).write_bytes(b"litter")
    api = Api(alice)

    answer = api.post("/api/import-path", {"path": str(folder)}).json()

    assert answer["file_count"] == 2
    job = api.get(f"/api/jobs/{answer['job_id']}").json()
    assert job["skipped_count"] == 5
    assert job["skipped"] == {".psd": 3, ".txt": 1, "(no extension)": 1}


def test_a_folder_with_nothing_to_import_is_refused_with_what_it_holds(alice, roots):
    folder = roots[0] / "photos"
    for name in ["a.psd", "b.psd", "notes.txt"]:
        (folder / name).write_text("not a photo")
    (folder / ".DS_Store").write_bytes(b"litter")

    response = Api(alice).post("/api/import-path", {"path": str(folder)})

    assert response.status_code == 400
    answer = response.json()
    assert answer["skipped_count"] == 3 and answer["skipped"] == {".psd": 2, ".txt": 1}
    assert "Nothing to import" in answer["error"] and "(.psd 2, .txt 1)" in answer["error"]
    assert not Job.objects.exists()


def test_import_path_refusals(alice, roots):
    root, outside = roots
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root / "loop")
    api = Api(alice)
    cases = [
        ("photos", 400, "absolute"),
        (str(root / "missing"), 400, "No such folder"),
        (str(root / "photo.jpg"), 400, "Not a folder"),
        (str(root / "loop"), 400, "No such folder"),
        (str(outside), 403, "outside"),
        (str(root / "escape"), 403, "outside"),
        (str(root / ".." / "outside"), 403, "outside"),
        (str(root / "photos" / ".." / ".." / "outside"), 403, "outside"),
        ("/etc", 403, "outside"),
        ("/nowhere/at/all", 403, "outside"),  # outside is refused before anything is looked up
    ]
    for path, code, words in cases:
        response = api.post("/api/import-path", {"path": path})
        assert response.status_code == code, (path, response.content)
        assert words in response.json()["error"], (path, response.json())
    for body in [{}, {"path": ""}, {"path": 7}, {"folder": str(root)}]:
        assert api.post("/api/import-path", body).status_code == 400
    assert api.raw("/api/import-path", b"{nope", "application/json").status_code == 400
    assert not Job.objects.exists()


def test_import_path_is_refused_when_no_roots_are_set(alice, settings, tmp_path):
    settings.MEDIAIMPORT_IMPORT_ROOTS = []

    response = Api(alice).post("/api/import-path", {"path": str(tmp_path)})

    assert response.status_code == 403
    assert "MEDIAIMPORT_IMPORT_ROOTS" in response.json()["error"]


# --- files ------------------------------------------------------------------------------------


def test_files_carry_the_contract_fields_and_a_working_thumbnail(alice, bob, corpus):
    job = process(upload_corpus(Api(alice), corpus, "digicam/Apple/iPhone XR/IMG_3580.JPG", "elodie/no-exif.jpg"))
    api = Api(alice)

    files = api.get(f"/api/jobs/{job.id}/files").json()["files"]

    assert [f["filename"] for f in files] == ["IMG_3580.JPG", "no-exif.jpg"]
    iphone = files[0]
    assert FILE_FIELDS <= set(iphone)
    recorded = job.files.get(original_name="IMG_3580.JPG")
    assert iphone["timestamp"] == recorded.capture_time.isoformat()
    assert iphone["timestamp"].startswith("2020-04-17T10:03:42")  # DateTimeOriginal's wall-clock time
    assert iphone["confidence"] == recorded.confidence and iphone["timestamp_source"] == recorded.capture_source
    assert iphone["sha256"] == "ed4b49b80c816a4fae82907d53034c73d729208a2944c50c23f4bb3028d9cd6e"
    assert (iphone["size"], iphone["width"], iphone["height"]) == (1927757, 4032, 3024)
    assert iphone["mime_type"] == "image/jpeg" and iphone["error"] == "" and iphone["path"] == "IMG_3580.JPG"

    thumbnail = api.client.get(iphone["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/webp"
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    assert b"".join(thumbnail.streaming_content)[8:12] == b"WEBP"
    assert Api(bob).client.get(iphone["thumbnail_url"]).status_code == 404
    assert Api().client.get(iphone["thumbnail_url"]).status_code == 401


def test_a_capture_time_is_given_in_its_own_offset(alice):
    job = make_job(alice, files=[("a.jpg", "high"), ("b.jpg", "none")])
    File.objects.filter(original_name="a.jpg").update(
        captured_at=datetime.fromisoformat("2020-04-17T16:03:42.144+00:00"), capture_offset=-360
    )

    a, b = Api(alice).get(f"/api/jobs/{job.id}/files").json()["files"]

    assert a["timestamp"] == "2020-04-17T10:03:42.144000-06:00"
    assert b["timestamp"] is None


def test_a_file_without_a_thumbnail_has_none(alice):
    job = make_job(alice, files=[("a.jpg", "none")])
    file = job.files.get()

    assert Api(alice).get(f"/api/jobs/{job.id}/files").json()["files"][0]["thumbnail_url"] is None
    assert Api(alice).get(f"/api/files/{file.id}/thumbnail").status_code == 404


@pytest.fixture
def mixed(alice):
    """Seven files: three high, two medium, one low, one none, in this id order."""
    order = ["high", "medium", "high", "low", "none", "medium", "high"]
    return make_job(alice, files=[(f"{i}.jpg", c) for i, c in enumerate(order)], status=Job.Status.COMPLETED)


def test_files_are_paged_in_a_stable_order(alice, mixed):
    api = Api(alice)
    url = f"/api/jobs/{mixed.id}/files"
    ids = list(mixed.files.order_by("id").values_list("id", flat=True))

    pages = [api.get(url, per_page=3, page=p).json() for p in (1, 2, 3, 4)]

    assert [[f["id"] for f in p["files"]] for p in pages] == [ids[:3], ids[3:6], ids[6:], []]
    assert all((p["total"], p["pages"], p["per_page"]) == (7, 3, 3) for p in pages)
    default = api.get(url).json()
    assert (default["page"], default["per_page"], len(default["files"])) == (1, 50, 7)
    assert api.get(url, per_page=1000).json()["per_page"] == 200  # capped
    assert api.get(url, per_page=7).json()["pages"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": "1.5"}, {"page": ""}, {"page": "²"},
        {"per_page": "0"}, {"per_page": "x"}, {"page": "99999999999999999999"},
        {"confidence": "certain"}, {"confidence": ""}, {"group_by": "camera"}, {"status": "broken"},
    ],
)  # fmt: skip
def test_invalid_file_queries_answer_400(alice, mixed, params):
    response = Api(alice).get(f"/api/jobs/{mixed.id}/files", **params)

    assert response.status_code == 400 and response.json()["error"]


def test_files_filtered_by_confidence(alice, mixed):
    api = Api(alice)

    high = api.get(f"/api/jobs/{mixed.id}/files", confidence="high").json()
    medium = api.get(f"/api/jobs/{mixed.id}/files", confidence="medium", per_page=1, page=2).json()

    assert [f["filename"] for f in high["files"]] == ["0.jpg", "2.jpg", "6.jpg"] and high["total"] == 3
    assert [f["filename"] for f in medium["files"]] == ["5.jpg"] and medium["pages"] == 2


def test_files_filtered_by_status(alice, mixed):
    mixed.files.filter(original_name__in=["1.jpg", "4.jpg"]).update(status=File.Status.FAILED, error="Damaged")

    failed = Api(alice).get(f"/api/jobs/{mixed.id}/files", status="failed").json()

    assert [(f["filename"], f["error"]) for f in failed["files"]] == [("1.jpg", "Damaged"), ("4.jpg", "Damaged")]
    assert failed["total"] == 2


def test_files_grouped_by_confidence(alice, mixed):
    api = Api(alice)
    url = f"/api/jobs/{mixed.id}/files"

    first = api.get(url, group_by="confidence", per_page=2).json()
    second = api.get(url, group_by="confidence", per_page=2, page=2).json()
    only_low = api.get(url, group_by="confidence", confidence="low").json()

    names = lambda answer: {c: [f["filename"] for f in files] for c, files in answer["groups"].items()}  # noqa: E731
    assert names(first) == {
        "high": ["0.jpg", "2.jpg"], "medium": ["1.jpg", "5.jpg"], "low": ["3.jpg"], "none": ["4.jpg"], "pending": []
    }  # fmt: skip
    assert names(second) == {"high": ["6.jpg"], "medium": [], "low": [], "none": [], "pending": []}
    assert first["counts"] == {"high": 3, "medium": 2, "low": 1, "none": 1, "pending": 0}
    assert (first["total"], first["pages"]) == (7, 2)
    assert names(only_low) == {"high": [], "medium": [], "low": ["3.jpg"], "none": [], "pending": []}
    assert (only_low["total"], only_low["pages"]) == (1, 1)
    assert set(first["groups"]) == {*Confidence.values, "pending"}


def test_files_not_processed_yet_are_counted_apart_not_as_undated(alice, mixed):
    """A paused or cancelled job's files that no worker reached have no confidence yet: they are
    `pending`, not `none` (a file read and found to tell no date)."""
    waiting = make_job(alice, files=[("w1.jpg", "none"), ("w2.jpg", "none")])
    File.objects.filter(job=waiting).update(job=mixed, status=File.Status.PENDING)
    File.objects.filter(job=mixed, original_name="w2.jpg").update(status=File.Status.PROCESSING)
    api = Api(alice)
    url = f"/api/jobs/{mixed.id}/files"

    grouped = api.get(url, group_by="confidence").json()
    undated = api.get(url, confidence="none").json()

    assert grouped["counts"] == {"high": 3, "medium": 2, "low": 1, "none": 1, "pending": 2}
    assert [f["filename"] for f in grouped["groups"]["none"]] == ["4.jpg"]
    assert [(f["filename"], f["status"]) for f in grouped["groups"]["pending"]] == [("w1.jpg", "pending"), ("w2.jpg", "processing")]
    assert grouped["total"] == 9
    assert [f["filename"] for f in undated["files"]] == ["4.jpg"]


# --- duplicates -------------------------------------------------------------------------------


def test_exact_duplicates_are_files_with_the_same_sha256(alice, corpus):
    job = process(
        upload_corpus(
            Api(alice), corpus, "elodie/plain.jpg", "elodie/Plain With Spaces And Uppercase 123.jpg", "elodie/no-exif.jpg"
        )
    )
    api = Api(alice)

    groups = api.get(f"/api/jobs/{job.id}/duplicates").json()["groups"]

    assert len(groups) == 1
    assert groups[0]["kind"] == "exact" and groups[0]["key"] == hashlib.sha256((corpus / "elodie/plain.jpg").read_bytes()).hexdigest()
    assert [f["filename"] for f in groups[0]["files"]] == ["plain.jpg", "Plain With Spaces And Uppercase 123.jpg"]
    assert FILE_FIELDS <= set(groups[0]["files"][0])
    assert api.get(f"/api/jobs/{job.id}/duplicates", kind="exact").json()["groups"] == groups
    assert api.get(f"/api/jobs/{job.id}/duplicates", kind="near").json() == {"groups": []}
    assert api.get(f"/api/jobs/{job.id}/duplicates", kind="bogus").status_code == 400


def test_near_duplicates_show_only_the_jobs_own_files(alice, bob):
    job = make_job(alice, files=[("a.jpg", "high"), ("b.jpg", "high"), ("c.jpg", "high")])
    other = make_job(bob, files=[("bobs.jpg", "high")])
    a, b, c = job.files.order_by("id")
    near = DuplicateGroup.objects.create(kind="near", key="n1")
    for file in (a, b, other.files.get()):
        DuplicateMember.objects.create(group=near, file=file)
    lonely = DuplicateGroup.objects.create(kind="near", key="n2")  # one of the job's files only
    for file in (c, other.files.get()):
        DuplicateMember.objects.create(group=lonely, file=file)
    refused = DuplicateGroup.objects.create(kind="near", key="n3", not_duplicates=True)
    for file in (a, c):
        DuplicateMember.objects.create(group=refused, file=file)
    api = Api(alice)

    near_groups = api.get(f"/api/jobs/{job.id}/duplicates", kind="near").json()["groups"]
    every = api.get(f"/api/jobs/{job.id}/duplicates", kind="all").json()["groups"]

    assert [(g["kind"], g["key"], [f["filename"] for f in g["files"]]) for g in near_groups] == [("near", "n1", ["a.jpg", "b.jpg"])]
    assert every == near_groups  # no exact duplicates here


def test_duplicates_are_paged_over_groups_when_asked(alice):
    job = make_job(alice, files=[(f"{i}.jpg", "high") for i in range(9)])
    files = list(job.files.order_by("id"))
    for n, pair in enumerate([files[0:2], files[2:4], files[4:6]]):  # three exact groups
        job.files.filter(id__in=[f.id for f in pair]).update(sha256=f"{n}" * 64)
    job.files.filter(id=files[2].id).update(folder="Trip/2019")
    for key, members in (("n1", files[6:8]), ("n2", [files[7], files[8]])):
        group = DuplicateGroup.objects.create(kind="near", key=key)
        DuplicateMember.objects.bulk_create(DuplicateMember(group=group, file=f) for f in members)
    api = Api(alice)
    url = f"/api/jobs/{job.id}/duplicates"

    pages = [api.get(url, kind="all", per_page=2, page=n).json() for n in (1, 2, 3)]
    whole = api.get(url, kind="all").json()

    names = lambda answer: [(g["kind"], g["name"]) for g in answer["groups"]]  # noqa: E731
    # Exact groups first, then near, paged together; each named by its first file and its folder.
    assert [names(p) for p in pages] == [
        [("exact", "0.jpg"), ("exact", "2.jpg in Trip/2019")],
        [("exact", "4.jpg"), ("near", "6.jpg")],
        [("near", "7.jpg")],
    ]
    assert {(p["page"], p["per_page"], p["total"], p["pages"]) for p in pages[:1]} == {(1, 2, 5, 3)}
    assert whole.keys() == {"groups"} and [g for p in pages for g in p["groups"]] == whole["groups"]
    past = api.get(url, kind="all", page=9).json()
    assert (past["groups"], past["total"], past["pages"], past["per_page"]) == ([], 5, 1, 50)
    near = api.get(url, kind="near", per_page=1, page=2).json()
    assert (names(near), near["total"]) == ([("near", "7.jpg")], 2)
    # Each member says where it is: its folder and its job.
    member = pages[0]["groups"][1]["files"][0]
    assert (member["folder"], member["job_id"]) == ("Trip/2019", job.id)
    assert api.get(url, per_page="0").status_code == 400


def test_listings_cost_the_same_few_queries_however_many_files(alice, django_assert_max_num_queries):
    job = make_job(alice, files=[(f"{i}.jpg", Confidence.values[i % 4]) for i in range(60)])
    job.files.update(sha256="a" * 64)  # one big exact-duplicate group
    api = Api(alice)

    for params in [{}, {"group_by": "confidence"}, {"confidence": "low"}]:
        with django_assert_max_num_queries(12):
            assert len(str(api.get(f"/api/jobs/{job.id}/files", **params).json())) > 1000
    with django_assert_max_num_queries(12):
        assert len(api.get(f"/api/jobs/{job.id}/duplicates").json()["groups"][0]["files"]) == 60
    near = DuplicateGroup.objects.create(kind="near", key="n1")
    DuplicateMember.objects.bulk_create(DuplicateMember(group=near, file=f) for f in job.files.all())
    with django_assert_max_num_queries(12):
        assert [len(g["files"]) for g in api.get(f"/api/jobs/{job.id}/duplicates", kind="all").json()["groups"]] == [60, 60]


# --- one selection, several requests, one job -------------------------------------------------


def test_later_requests_with_job_id_join_the_first_requests_job(alice, corpus):
    api = Api(alice)
    first = upload_corpus(api, corpus, "elodie/plain.jpg")
    process(first)
    assert first.status == Job.Status.COMPLETED

    later = api.upload(
        [SimpleUploadedFile("IMG_0002.JPG", (corpus / "elodie/with-location.jpg").read_bytes())],
        job_id=str(first.id),
    )

    assert later.status_code == 201 and later.json()["job_id"] == first.id
    first.refresh_from_db()
    assert (first.status, first.progress_total, first.progress_current) == (Job.Status.RUNNING, 2, 1)
    assert process(first).status == Job.Status.COMPLETED
    assert sorted(first.files.values_list("original_name", flat=True)) == ["IMG_0002.JPG", "plain.jpg"]


@pytest.mark.parametrize("job_id", ["someone else's", "a path job", "cancelled", "x", "²", "9" * 25, "0", "-1"])
def test_files_cannot_join_a_job_that_is_not_the_users_open_upload_job(alice, bob, corpus, data_dir, job_id):
    jobs = {
        "someone else's": make_job(bob),
        "a path job": make_job(alice, kind=Job.Kind.PATH),
        "cancelled": make_job(alice, status=Job.Status.CANCELLED),
    }
    target = str(jobs[job_id].id) if job_id in jobs else job_id

    response = Api(alice).upload(
        [SimpleUploadedFile("a.jpg", (corpus / "elodie/plain.jpg").read_bytes())], job_id=target
    )

    assert response.status_code == 400 and response.json()["error"]
    assert not File.objects.exists()
    assert not any((data_dir / "uploads").rglob("*.jpg"))  # nothing kept without its record
