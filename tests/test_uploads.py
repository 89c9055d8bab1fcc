"""POST /api/upload with honest and hostile input, through the real view: every bad input gets a
4xx or a per-file error, never a 5xx, a stuck job or a half-stored file."""

import hashlib
import io
import resource
import signal
import socket
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from PIL import Image

from jobs.models import File, Job
from jobs.services.processing import process_batch
from jobs.uploads import UploadGuard
from tests.conftest import ROOT, Api, wait_for

pytestmark = pytest.mark.django_db

BOUNDARY = "mediaimport-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(*files: tuple[bytes, bytes], fields: dict[str, list[str]] | None = None) -> bytes:
    """A multipart body written byte by byte, so that names can be anything a hostile client sends:
    files are (raw file name, content)."""
    out = io.BytesIO()
    for name, values in (fields or {}).items():
        for value in values:
            out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, content in files:
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="'.encode())
        out.write(filename + b'"\r\nContent-Type: application/octet-stream\r\n\r\n')
        out.write(content + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


# --- real files, written by real writers --------------------------------------------------------


def jpeg(size=(64, 48), color=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=90)
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "WEBP")
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A well-formed PNG whose header declares width x height pixels and whose data is a few bytes:
    a decompression bomb when the size is large."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose frame header is made to declare absurd dimensions."""
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def noise(size: int) -> bytes:
    """Random-looking bytes that start like no media format."""
    out = b""
    while len(out) < size:
        out += hashlib.sha256(len(out).to_bytes(8, "big")).digest()
    return b"\x00\x01" + out[: size - 2]


# --- hostile input, row by row ------------------------------------------------------------------


@dataclass
class Row:
    """One upload of one file. `rejected`: the answer is 400 and the reason holds these words.
    `failed`: stored, and processing records this error on the file. Otherwise stored and
    processed without error, under the name `kept`."""

    id: str
    name: bytes
    content: object  # bytes, or a callable(corpus) -> bytes
    rejected: str = ""
    failed: str = ""
    kept: str = ""


ROWS = [
    Row("empty file", b"IMG_0001.JPG", b"", rejected="The file is empty"),
    Row("random bytes named .jpg", b"IMG_0002.JPG", noise(4096), rejected="content is not a photo or video"),
    Row("text named .jpg", b"photo.jpg", b"hello, I am a photo", rejected="content is not a photo or video"),
    Row("photo named .txt", b"notes.txt", jpeg(), rejected="'.txt' files are not accepted"),
    Row("photo without extension", b"IMG_0003", jpeg(), rejected="without an extension"),
    Row("Photoshop file", b"edit.psd", b"8BPS\0\1" + noise(4096), rejected="'.psd' files are not accepted"),
    Row("WebP", b"photo.webp", webp(), kept="photo.webp"),
    Row("WebP named .jpg", b"photo.jpg", webp(), kept="photo.jpg"),  # read as what its content is
    Row("random bytes named .dng", b"IMG_1.dng", noise(4096), rejected="content is not a photo or video"),
    Row("random bytes behind a TIFF header named .nef", b"DSC_1.NEF", b"MM\0*\0\0\0\x08" + noise(4096),
        failed="RAW file could not be read"),
    Row("random bytes behind an ASF header", b"clip.wmv", bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + noise(4096),
        failed="Video is damaged"),
    Row("truncated JPEG", b"cut.jpg", lambda c: (c / "drewnoakes/jpg/Issue 80.jpg").read_bytes()[:20000],
        failed="Image is cut off"),
    Row("truncated MP4", b"cut.mp4", lambda c: (c / "drewnoakes/mp4/with-gps.mp4").read_bytes()[:60000],
        failed="Video is damaged"),
    Row("random bytes behind an MP4 header", b"fake.mp4", b"\x00\x00\x00\x18ftypmp42" + noise(5000),
        failed="Video is damaged"),
    Row("PNG bomb declaring 900 megapixels", b"bomb.png", png_declaring(30000, 30000), failed="too large to decode safely"),
    Row("PNG 2^31-1 pixels wide", b"wide.png", png_declaring(2**31 - 1, 1), failed="too large to decode safely"),
    Row("JPEG declaring 65500 x 65500", b"huge.jpg", jpeg_declaring(65500, 65500), failed="too large to decode safely"),
    Row("PNG declaring 0 x 0", b"zero.png", png_declaring(0, 0), failed="no decoder could read past its header"),
    Row("name with ../", b"../../../etc/passwd.jpg", jpeg(), kept="passwd.jpg"),
    Row("absolute name", b"/etc/cron.d/evil.jpg", jpeg(), kept="evil.jpg"),
    Row("Windows path", b"C:\\\\Windows\\\\System32\\\\evil.jpg", jpeg(), kept="evil.jpg"),
    Row("HTML-escaped slashes", b"x&#47;..&#47;..&#47;y.jpg", jpeg(), kept="y.jpg"),
    Row("NUL in the name", b"a\x00b.jpg", jpeg(), kept="ab.jpg"),
    Row("control characters", b"a\x1b[31mred\x07.jpg", jpeg(), kept="a[31mred.jpg"),
    Row("255-byte name", b"n" * 251 + b".jpg", jpeg(), kept="n" * 251 + ".jpg"),
    Row("Unicode name", "Фото 照片 été 🎉.JPG".encode(), jpeg(), kept="Фото 照片 été 🎉.JPG"),
    Row("name that is only an extension", b".jpg", jpeg(), rejected="without an extension"),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_hostile_file(row, alice, corpus, data_dir):
    content = row.content(corpus) if callable(row.content) else row.content

    response = Api(alice).raw("/api/upload", multipart((row.name, content)), MULTIPART)

    if row.rejected:
        assert response.status_code == 400, response.content
        [rejection] = response.json()["rejected"]
        assert row.rejected in rejection["reason"]
        assert not Job.objects.exists()
        assert not (data_dir / "uploads").exists()  # nothing was stored
        return
    assert response.status_code == 201, response.content
    assert response.json()["file_count"] == 1 and response.json()["rejected"] == []
    job = Job.objects.get(id=response.json()["job_id"])
    file = job.files.get()
    stored = data_dir / file.path
    assert file.path.startswith("uploads/") and stored.resolve().is_relative_to(data_dir / "uploads")
    assert stored.read_bytes() == content  # stored whole

    process_batch(job_id=job.id, first_id=file.id, last_id=file.id, token="t")

    job.refresh_from_db()
    file.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.progress_current == 1  # never stuck
    if row.failed:
        assert file.status == File.Status.FAILED and row.failed in file.error, file.error
        assert job.error_count == 1
    else:
        assert file.status == File.Status.DONE and file.error == "", file.error
        assert file.original_name == row.kept
        answer = Api(alice).get(f"/api/jobs/{job.id}/files").json()["files"][0]
        assert answer["filename"] == answer["path"] == row.kept


def test_a_name_that_is_not_utf8_is_refused_with_a_4xx(alice):
    """Django cannot read such a part's header and leaves the file out; the upload answers 400."""
    response = Api(alice).raw("/api/upload", multipart((b"\xff\xfe\xfd.jpg", jpeg())), MULTIPART)

    assert response.status_code == 400 and response.json()["error"]
    assert not Job.objects.exists()


def test_a_name_longer_than_a_part_header_may_be_is_refused(alice, data_dir):
    response = Api(alice).raw("/api/upload", multipart((b"n" * 2000 + b".jpg", jpeg())), MULTIPART)

    assert response.status_code == 400 and "could not be read" in response.json()["error"]
    assert not (data_dir / "uploads").exists()


def test_good_files_are_kept_and_bad_ones_listed(alice):
    response = Api(alice).raw(
        "/api/upload", multipart((b"good.jpg", jpeg()), (b"bad.jpg", b"nope"), (b"list.txt", b"x")), MULTIPART
    )

    assert response.status_code == 201
    answer = response.json()
    assert answer["file_count"] == 1 and answer["status"] == "queued"
    assert [r["filename"] for r in answer["rejected"]] == ["bad.jpg", "list.txt"]
    assert list(Job.objects.get(id=answer["job_id"]).files.values_list("original_name", flat=True)) == ["good.jpg"]


def test_two_files_called_the_same_both_survive(alice, data_dir):
    api = Api(alice)
    red, blue = jpeg(color=(255, 0, 0)), jpeg(color=(0, 0, 255))

    first = api.upload([SimpleUploadedFile("IMG_0001.JPG", red), SimpleUploadedFile("IMG_0001.JPG", blue)])
    second = api.upload([SimpleUploadedFile("IMG_0001.JPG", red)])

    assert first.status_code == second.status_code == 201
    files = File.objects.order_by("id")
    assert [f.original_name for f in files] == ["IMG_0001.JPG"] * 3
    assert len({f.path for f in files}) == 3
    assert [(data_dir / f.path).read_bytes() for f in files] == [red, blue, red]


def test_the_browsers_dates_and_folders_come_along(alice):
    api = Api(alice)
    files = [SimpleUploadedFile("IMG_1.JPG", jpeg()), SimpleUploadedFile("IMG_2.JPG", jpeg()), SimpleUploadedFile("IMG_3.JPG", jpeg())]

    response = api.upload(
        files,
        last_modified=["1587139422000", "", "1587139422500"],
        relative_path=["Trip/Day 1/IMG_1.JPG", "", "../../Trip\\..\\Day 2/./IMG_3.JPG"],
    )

    assert response.status_code == 201, response.content
    job = Job.objects.get(id=response.json()["job_id"])
    one, two, three = job.files.order_by("id")
    assert one.client_modified_at == datetime(2020, 4, 17, 16, 3, 42, tzinfo=UTC) and one.folder == "Trip/Day 1"
    assert two.client_modified_at is None and two.folder == ""
    assert three.client_modified_at == datetime(2020, 4, 17, 16, 3, 42, 500000, tzinfo=UTC)
    assert three.folder == "Trip/Day 2"
    paths = [f["path"] for f in api.get(f"/api/jobs/{job.id}/files").json()["files"]]
    assert paths == ["Trip/Day 1/IMG_1.JPG", "IMG_2.JPG", "Trip/Day 2/IMG_3.JPG"]


@pytest.mark.parametrize(
    "fields,words",
    [
        ({"last_modified": ["1587139422000"]}, "one last_modified value per file"),
        ({"last_modified": ["yesterday", "1"]}, "milliseconds since 1970"),
        ({"last_modified": ["1e300", "1"]}, "milliseconds since 1970"),
        ({"relative_path": ["a/x.jpg"]}, "one relative_path value per file"),
    ],
)
def test_malformed_dates_or_folders_answer_400(alice, data_dir, fields, words):
    files = [SimpleUploadedFile("a.jpg", jpeg()), SimpleUploadedFile("b.jpg", jpeg())]

    response = Api(alice).upload(files, **fields)

    assert response.status_code == 400 and words in response.json()["error"]
    assert not Job.objects.exists() and not (data_dir / "uploads").exists()


# --- whole requests -----------------------------------------------------------------------------


def test_more_files_than_allowed_answers_400_naming_the_limit(alice, settings, data_dir):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3

    response = Api(alice).raw("/api/upload", multipart(*[(f"{i}.jpg".encode(), jpeg()) for i in range(4)]), MULTIPART)

    assert response.status_code == 400
    assert "at most 3" in response.json()["error"] and "MEDIAIMPORT_UPLOAD_MAX_FILES" in response.json()["error"]
    assert not Job.objects.exists() and not (data_dir / "uploads").exists()


def test_a_thousand_files_with_their_dates_are_within_the_default_limits(alice, settings):
    count = settings.MEDIAIMPORT_UPLOAD_MAX_FILES
    assert count >= 1000
    photo = jpeg(size=(8, 8))
    body = multipart(
        *[(f"{i}.jpg".encode(), photo) for i in range(count)],
        fields={"last_modified": ["1587139422000"] * count, "relative_path": [f"a/{i}.jpg" for i in range(count)]},
    )

    response = Api(alice).raw("/api/upload", body, MULTIPART)

    assert response.status_code == 201, response.content
    assert response.json()["file_count"] == count


def test_a_body_larger_than_allowed_answers_413_before_it_is_read(alice, settings, data_dir):
    settings.MEDIAIMPORT_UPLOAD_MAX_BYTES = 10_000

    response = Api(alice).raw("/api/upload", multipart((b"big.jpg", jpeg(size=(400, 400)) + noise(20_000))), MULTIPART)

    assert response.status_code == 413
    assert "MEDIAIMPORT_UPLOAD_MAX_BYTES" in response.json()["error"]
    assert not Job.objects.exists() and not (data_dir / "uploads").exists()


def test_the_size_limit_also_holds_while_the_body_streams(settings, tmp_path):
    """A request whose length is not known up front is counted as it is read: the parser stops
    at the limit and keeps none of the file that crossed it."""
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "incoming"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    body = multipart((b"small.jpg", b"x" * 1000), (b"large.jpg", b"y" * 50_000))
    meta = {"CONTENT_TYPE": MULTIPART, "CONTENT_LENGTH": str(len(body))}
    guard = UploadGuard(None, limit=20_000)
    handlers = [guard, TemporaryFileUploadHandler(None)]

    _, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()

    assert guard.exceeded and guard.received <= 20_000 + 64 * 1024
    assert [f.name for f in files.getlist("files")] == ["small.jpg"]
    for f in files.getlist("files"):
        f.close()
    assert list(settings.FILE_UPLOAD_TEMP_DIR.iterdir()) == []  # the crossing file's temporary copy is gone


def test_an_upload_cut_off_mid_file_keeps_nothing(alice, settings, tmp_path, data_dir):
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "incoming"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    body = multipart((b"a.jpg", jpeg()), (b"b.jpg", jpeg(size=(300, 300))))

    response = Api(alice).raw("/api/upload", body[: len(body) - 400], MULTIPART)

    assert response.status_code == 400 and "cut off" in response.json()["error"]
    assert not Job.objects.exists() and not (data_dir / "uploads").exists()
    assert list(settings.FILE_UPLOAD_TEMP_DIR.iterdir()) == []


def test_a_full_disk_answers_a_clear_error_and_records_nothing(alice, data_dir):
    """The file-size limit of this process stands in for a full disk: writes past it fail with
    a real OSError (EFBIG) exactly where a full disk's ENOSPC would."""
    body = multipart((b"small.jpg", jpeg()), (b"large.jpg", jpeg(size=(50, 50)) + noise(300_000)))
    api = Api(alice)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, hard))
    try:
        response = api.raw("/api/upload", body, MULTIPART)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)

    assert response.status_code == 507
    assert "disk is full" in response.json()["error"]
    assert not Job.objects.exists()
    assert not [p for p in data_dir.rglob("*") if p.is_file() and "uploads" in p.parts]


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b'{"files": []}', "application/json"),
        (multipart(), MULTIPART),
        (b"--nothing-here", MULTIPART),
        (b"files=a.jpg", "application/x-www-form-urlencoded"),
    ],
)
def test_no_files_answers_400(alice, body, content_type):
    response = Api(alice).raw("/api/upload", body, content_type)

    assert response.status_code == 400 and response.json()["error"]
    assert not Job.objects.exists()


def test_a_malformed_multipart_header_answers_400(alice):
    response = Api(alice).raw("/api/upload", multipart((b"a.jpg", jpeg())), "multipart/form-data")  # no boundary

    assert response.status_code == 400 and response.json()["error"]


# --- a request that does not arrive whole, over a real socket to a real server --------------------


@pytest.fixture
def server(cluster_env, tmp_path):
    """gunicorn as `make run` starts it, on this test's database and data folder; its access log
    says when a request has been answered."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "mediaimport.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "2", "--access-logfile", "-"],
            cwd=ROOT, env=cluster_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_for(lambda: "Booting worker" in log.read_text(), timeout=30, message="the server")
    yield port, log
    process.terminate()
    process.wait(30)


def raw_upload(port: int, user, body: bytes, *, announced: int, close: bool = False) -> bytes:
    """POST /api/upload over a socket, as `user`: headers announcing `announced` bytes, then
    `body`, then the sending side shut (or the connection closed, as a page that stops does).
    The answer, if any."""
    api = Api(user)
    session = api.client.cookies[settings.SESSION_COOKIE_NAME].value
    head = (
        f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={api.token}\r\n"
        f"X-CSRFToken: {api.token}\r\nContent-Type: {MULTIPART}\r\nContent-Length: {announced}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode() + body)
        if close:
            return b""
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


SIX = [(f"IMG_{n}.JPG".encode(), jpeg(size=(300 + n, 200))) for n in range(6)]


def first_three_parts(tail: bytes) -> bytes:
    """The six-file body up to the end of its third file, then `tail`."""
    whole = multipart(*SIX)
    fourth = whole.index(f"--{BOUNDARY}".encode(), whole.index(b'filename="IMG_3.JPG"') - 200)
    return whole[: fourth - 2] + tail  # without the CRLF that ends the third file's data


def answered(log, status: int) -> None:
    wait_for(lambda: f'"POST /api/upload HTTP/1.1" {status}' in log.read_text(), timeout=30, message="the answer")


@pytest.mark.parametrize(
    "tail",
    [b"\r\n", f"\r\n--{BOUNDARY}".encode(), f"\r\n--{BOUNDARY}\r\n".encode()],
    ids=["after the third file", "after the next delimiter", "after the next delimiter's line"],
)
def test_a_request_cut_after_three_of_six_files_stores_nothing(server, alice, data_dir, tail):
    port, log = server
    body = first_three_parts(tail)

    answer = raw_upload(port, alice, body, announced=len(multipart(*SIX)))

    assert answer.startswith(b"HTTP/1.1 400") and b"cut off" in answer
    assert not Job.objects.exists() and not File.objects.exists()
    assert not (data_dir / "uploads").exists()
    assert list((data_dir / "incoming").iterdir()) == []


def test_a_request_whose_connection_drops_after_three_of_six_files_stores_nothing(server, alice, data_dir):
    port, log = server

    raw_upload(port, alice, first_three_parts(f"\r\n--{BOUNDARY}\r\n".encode()), announced=len(multipart(*SIX)), close=True)

    answered(log, 400)
    assert not Job.objects.exists() and not (data_dir / "uploads").exists()
    assert list((data_dir / "incoming").iterdir()) == []


def test_a_request_of_all_its_bytes_without_the_closing_delimiter_stores_nothing(server, alice, data_dir):
    port, log = server
    body = first_three_parts(f"\r\n--{BOUNDARY}\r\n".encode())

    answer = raw_upload(port, alice, body, announced=len(body))

    assert answer.startswith(b"HTTP/1.1 400") and b"cut off" in answer
    assert not Job.objects.exists() and not (data_dir / "uploads").exists()


def test_the_same_request_whole_stores_its_six_files(server, alice, data_dir):
    port, log = server
    body = multipart(*SIX)

    answer = raw_upload(port, alice, body, announced=len(body))

    assert answer.startswith(b"HTTP/1.1 201"), answer
    job = Job.objects.get()
    assert sorted(job.files.values_list("original_name", flat=True)) == [name.decode() for name, _ in SIX]
    assert len(list((data_dir / "uploads").rglob("*.jpg"))) == 6
