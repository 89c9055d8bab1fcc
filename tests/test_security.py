"""A curious user on the same server, a hostile file, an HTTPS deployment: what the app keeps
closed, and that originals are never touched (docs/security.md)."""

import hashlib
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from jobs.models import File, Job
from tests import media
from tests.conftest import inherited_environ, manage


def fresh_env(tmp_path: Path, **extra) -> dict[str, str]:
    """A manage.py environment with a data dir that does not exist yet and no secret key given."""
    env = inherited_environ("DJANGO_SECRET_KEY", "DATABASE_URL")
    return {**env, "MEDIAIMPORT_DATA_DIR": str(tmp_path / "fresh"), **extra}


def settings_in(env: dict[str, str], *names: str) -> dict:
    code = f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}, default=str))"
    result = manage("shell", "-c", code, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


# --- on the server ------------------------------------------------------------------------------


def test_the_data_dir_and_the_generated_secret_key_are_their_owners_only(tmp_path):
    env = fresh_env(tmp_path)

    first = settings_in(env, "SECRET_KEY")["SECRET_KEY"]
    again = settings_in(env, "SECRET_KEY")["SECRET_KEY"]

    data_dir = tmp_path / "fresh"
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first == again == key_file.read_text().strip()
    assert len(first) >= 50
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".secret_key")] == []


def test_a_secret_key_from_the_environment_is_used_and_none_is_written(tmp_path):
    env = fresh_env(tmp_path, DJANGO_SECRET_KEY="k" * 60)

    assert settings_in(env, "SECRET_KEY") == {"SECRET_KEY": "k" * 60}
    assert not (tmp_path / "fresh" / "secret_key").exists()


HTTPS_SETTINGS = (
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_HTTPONLY", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "DEBUG",
)  # fmt: skip


def test_behind_https_cookies_are_secure_and_hsts_is_sent(tmp_path):
    assert settings_in(fresh_env(tmp_path, DJANGO_HTTPS="1"), *HTTPS_SETTINGS) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "DEBUG": False,
    }


def test_without_https_cookies_still_work_over_plain_http_on_localhost(tmp_path):
    found = settings_in(fresh_env(tmp_path), *HTTPS_SETTINGS)

    assert found["SESSION_COOKIE_SECURE"] is False and found["SECURE_HSTS_SECONDS"] == 0
    assert found["SECURE_CONTENT_TYPE_NOSNIFF"] is True and found["DEBUG"] is False


def test_djangos_deployment_check_passes_behind_https(tmp_path):
    env = fresh_env(tmp_path, DJANGO_HTTPS="1", DJANGO_ALLOWED_HOSTS="photos.example.org")

    plain = manage("check", "--deploy", env=env, timeout=60)
    # The two HSTS options that bind every subdomain too are left to the operator.
    assert plain.returncode == 0, plain.stderr
    assert set(_warnings(plain.stdout + plain.stderr)) == {"security.W005", "security.W021"}

    opted_in = {**env, "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1", "DJANGO_HSTS_PRELOAD": "1"}
    strict = manage("check", "--deploy", "--fail-level", "WARNING", env=opted_in, timeout=60)
    assert strict.returncode == 0, strict.stdout + strict.stderr


def _warnings(output: str) -> list[str]:
    return [line.split("(", 1)[1].split(")", 1)[0] for line in output.splitlines() if line.startswith("?: (")]


# --- on the web ----------------------------------------------------------------------------------

# What anyone may fetch without logging in.
PUBLIC = {"accounts/login/", "admin/login/", "static/"}
# Logging out needs no login; it sends the visitor back to a login page.
LOGOUT = {"accounts/logout/", "admin/logout/"}


def every_url(resolver=None, prefix: str = "") -> list[str]:
    """A concrete URL for every pattern the project serves, with 1 for every parameter."""
    urls = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + _concrete(pattern.pattern)
        if isinstance(pattern, URLResolver):
            urls += every_url(pattern, route)
        elif isinstance(pattern, URLPattern):
            urls.append(route)
    return urls


def _concrete(pattern) -> str:
    route = str(pattern).lstrip("^").rstrip("$").replace("\\Z", "")
    for converter in ("<int:", "<path:", "<str:", "<slug:"):
        while converter in route:
            start = route.index(converter)
            route = route[:start] + "1" + route[route.index(">", start) + 1 :]
    # Regular-expression routes (the admin's, the API's catch-all) get one plain example.
    return route.split("(?P", 1)[0].split("(", 1)[0]


@pytest.mark.django_db
def test_every_page_and_call_needs_a_login(client):
    urls = sorted(set(every_url()))
    assert "api/upload" in urls and "" in urls  # the walk found the project's own views

    for url in urls:
        if url.startswith(tuple(PUBLIC | LOGOUT)):
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(f"/{url}")
            assert response.status_code in (301, 302, 401, 403, 404, 405), (method, url, response.status_code)
            if response.status_code in (301, 302):
                assert "/login/" in response["Location"], (url, response["Location"])


@pytest.mark.django_db
def test_stored_uploads_and_thumbnails_have_no_public_url(client, alice, data_dir):
    # They are served only through the API, which checks whose they are.
    for name in ("uploads/2026/01/01/a.jpg", "thumbnails/1/1.webp", "db.sqlite3", "secret_key"):
        (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / name).write_bytes(b"private")
    client.force_login(alice)
    for name in ("uploads/2026/01/01/a.jpg", "thumbnails/1/1.webp", "db.sqlite3", "secret_key"):
        for prefix in ("/media/", "/static/", "/"):
            response = client.get(prefix + name)
            assert response.status_code == 404, prefix + name


@pytest.mark.django_db
def test_the_admin_is_for_staff_only(alice, staff):
    client = Client()
    client.force_login(alice)
    assert client.get("/admin/auth/user/").status_code == 302

    client.force_login(staff)
    assert client.get("/admin/auth/user/").status_code == 200


@pytest.mark.django_db
def test_pages_forbid_framing_and_sniffing(client, alice):
    client.force_login(alice)
    for url in ("/accounts/login/", "/", "/api/jobs"):
        response = client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Referrer-Policy"] == "same-origin", url


@pytest.mark.django_db
def test_unsafe_calls_need_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    credentials = {"username": "alice", "password": "correct horse battery"}

    assert client.post("/accounts/login/", credentials).status_code == 403
    client.get("/accounts/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert client.post("/accounts/login/", credentials, headers={"X-CSRFToken": token}).status_code == 302


# --- hostile files ---------------------------------------------------------------------------------


def png(width: int, height: int, rows: int | None = None) -> bytes:
    """A greyscale PNG declaring width x height, with pixel data for `rows` rows (all of them by
    default): the real thing a decompression bomb is, a few hundred kilobytes on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    data = b"".join(pixels.compress(row) for _ in range(height if rows is None else rows)) + pixels.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real 8x8 JPEG whose frame header is made to claim another size."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_declaring(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    data = bytearray(out.getvalue())
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen
    frame = data.index(b"\x2c")
    data[frame + 5 : frame + 9] = struct.pack("<HH", width, height)  # the image descriptor
    return bytes(data)


def tiff_declaring(width: int, height: int) -> bytes:
    """A TIFF whose one strip holds a few bytes while its header claims width x height."""
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 9 * 12 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 64),
    ]  # fmt: skip
    return b"II*\0" + struct.pack("<I", 8) + media.tiff_directory("<", entries) + b"\0" * 64


def webp_declaring(width: int, height: int) -> bytes:
    """A real animated WebP of two 8x8 frames whose canvas is made to claim another size."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "WEBP", save_all=True, append_images=[Image.new("RGB", (8, 8))])
    data = bytearray(out.getvalue())
    vp8x = data.index(b"VP8X")
    data[vp8x + 12 : vp8x + 18] = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return bytes(data)


def lzw_tiff() -> bytes:
    out = io.BytesIO()
    media.picture(1200, 800).save(out, "TIFF", compression="tiff_lzw")
    return out.getvalue()


# Random-looking bytes that are the same in every run, so each decoder's words are too.
NOISE = b"".join(hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(256))


def scan_16bit(tmp_path: Path) -> bytes:
    """A 16-bit scan as scanners write it: its directory first, then the pixels."""
    return media.tiff_16bit(tmp_path / "scan.tif", media.picture()).read_bytes()


def cut(corpus: Path, relative: str, fraction: float) -> bytes:
    data = (corpus / relative).read_bytes()
    return data[: int(len(data) * fraction)]


def broken_dng(tmp_path: Path) -> bytes:
    preview = media.jpeg(media.picture())
    return media.dng(tmp_path / "broken.dng", media.picture(), preview=preview[: len(preview) // 3]).read_bytes()


@pytest.fixture
def hostile_folder(corpus, tmp_path):
    """Every kind of bad file a folder can hold, beside good files with awkward names; each bad
    file with the words its error should contain."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    bad = {
        "empty.jpg": (b"", "empty"),
        "random.jpg": (os.urandom(64 * 1024), "Not a photo or video"),
        "random.mov": (os.urandom(64 * 1024), "Not a photo or video"),
        "text.png": (b"hello, I am not a picture\n" * 10, "Not a photo or video"),
        "half.jpg": (cut(corpus, "digicam/Canon/EOS RP/_MG_0635.JPG", 0.5), "Image is cut off"),
        "header-only.jpg": (cut(corpus, "elodie/plain.jpg", 0.02), "Image is cut off"),
        "half.png": (cut(corpus, "elodie/photo.png", 0.5), "Image is cut off"),
        "half.mov": (cut(corpus, "elodie/video.mov", 0.3), "Video is damaged"),
        "header-only.mp4": (cut(corpus, "drewnoakes/mp4/with-gps.mp4", 0.01), "Video is damaged"),
        # 256 megapixels: over MEDIAIMPORT_MAX_IMAGE_PIXELS (200 M), under twice it (Pillow's warning).
        "bomb.png": (png(16_000, 16_000), "too large to decode safely"),
        "bomb-header.png": (png(100_000, 100_000, rows=1), "too large to decode safely"),
        "absurd.jpg": (jpeg_declaring(65_500, 65_500), "too large to decode safely"),
        "absurd.gif": (gif_declaring(65_535, 65_535), "too large to decode safely"),
        "zero.png": (png(0, 0, rows=0), "no decoder could read past its header"),
        "half.tif": (scan_16bit(tmp_path)[:200_000], "Image is cut off"),
        "tail-cut.tif": (lzw_tiff()[:20_000], "Image is damaged"),  # its directory, written last, is gone
        "bomb.tif": (tiff_declaring(16_000, 16_000), "too large to decode safely"),
        "absurd.tiff": (tiff_declaring(100_000, 100_000), "too large to decode safely"),
        "bomb.webp": (webp_declaring(16_384, 16_384), "too large to decode safely"),
        "half.webp": (cut(corpus, "immich/formats/webp/denali.webp", 0.5), "Image is damaged"),
        "half.avif": (cut(corpus, "exif-py/avif/mountains.avif", 0.5), "Image is damaged"),
        "random.dng": (b"II*\0\x08\0\0\0" + NOISE, "RAW file could not be read"),
        "random.raf": (b"FUJIFILMCCD-RAW 0201FF383501" + NOISE, "RAW file could not be read"),
        "random.cr3": (b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom" + NOISE, "RAW file could not be read"),
        "half.dng": (broken_dng(tmp_path)[:3000], "cut off or damaged"),
        "random.wmv": (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + NOISE, "Video is damaged"),
        # Transport packets of stuffing only (PID 0x1FFF): no picture before the file ends.
        "stuffing.mts": ((b"\0\0\0\0\x47\x1f\xff\x10" + b"\xff" * 184) * 40, "Video is cut off"),
    }
    for name, (data, _) in bad.items():
        (folder / name).write_bytes(data)
    good = ["Été 2019 ☀.jpg", "a" * 251 + ".jpg", "new\nline.jpg", "two..dots.jpg", "-rf.jpg"]
    for name in good:
        (folder / name).write_bytes((corpus / "elodie/plain.jpg").read_bytes())
    # A RAW whose preview is broken, or named outside the file: its sensor data is developed instead.
    good.append("broken-preview.dng")
    (folder / "broken-preview.dng").write_bytes(broken_dng(tmp_path))
    for name, at_offset in (("preview-past-the-end.nef", True), ("preview-running-past-the-end.nef", False)):
        good.append(name)
        nef = media.camera_raw(folder / name, media.picture(), preview=media.jpeg(media.picture()))
        media.preview_pointing_outside(nef, at_offset=at_offset)
    # Damaged files that decoders may still show in part (libheif fills missing tiles in grey).
    damaged = ["half.heic", *(p.name for p in (corpus / "broken").rglob("*") if p.is_file())]
    (folder / "half.heic").write_bytes(cut(corpus, "digicam/Apple/iPhone XR/IMG_3589.HEIC", 0.5))
    for path in (corpus / "broken").rglob("*"):
        if path.is_file():
            shutil.copy(path, folder / path.name)
    return folder, {name: words for name, (_, words) in bad.items()}, good, damaged


@pytest.mark.django_db
def test_hostile_files_end_as_clear_per_file_errors_and_the_job_completes(hostile_folder):
    folder, bad, good, damaged = hostile_folder

    call_command("import_path", str(folder), "--sync", verbosity=0, stdout=io.StringIO())

    job = Job.objects.get()
    files = {f.original_name: f for f in job.files.all()}
    assert job.status == Job.Status.COMPLETED
    assert job.progress_current == job.progress_total == len(bad) + len(good) + len(damaged)
    assert sorted(files) == sorted([*bad, *good, *damaged])
    unclear = {name: files[name].error for name, words in bad.items() if words not in files[name].error}
    assert unclear == {}
    assert all(files[name].status == File.Status.FAILED and len(files[name].sha256) == 64 for name in bad)
    assert {files[name].status for name in good} == {File.Status.DONE}
    # Whatever a decoder makes of a damaged file, it is an outcome, never an unforeseen failure.
    assert not [f.error for f in files.values() if f.error.startswith("Unexpected")]
    assert job.error_count == sum(f.status == File.Status.FAILED for f in files.values())


# --- originals are never touched --------------------------------------------------------------


def fingerprint(folder: Path) -> dict[str, tuple]:
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def read_only_copy(corpus, tmp_path):
    """A copy of part of the corpus, seen through a read-only bind mount: any write through it
    fails with EROFS, as on a share mounted read-only."""
    source = tmp_path / "source"
    for part in ("elodie", "digicam/Apple", "immich/albums"):
        shutil.copytree(corpus / part, source / part)
    view = tmp_path / "read-only"
    view.mkdir()
    bind = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(view)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"this test needs a read-only bind mount (run as root): {bind.stderr.decode().strip()}")
    # Older mount(8) ignore "ro" on the first bind; the remount makes it so.
    subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=False)
    yield view
    subprocess.run(["umount", str(view)], check=True)


@pytest.mark.django_db
def test_a_folder_import_only_reads_its_originals(read_only_copy):
    with pytest.raises(OSError):
        (read_only_copy / "elodie" / "probe").write_bytes(b"")  # the mount is read-only indeed
    before = fingerprint(read_only_copy)

    call_command("import_path", str(read_only_copy), "--sync", verbosity=0, stdout=io.StringIO())

    job = Job.objects.get()
    assert job.status == Job.Status.COMPLETED and job.progress_total > 20
    # No file failed for want of writing (the only failure is the corpus's undecodable HEIC).
    assert {f.original_name for f in job.files.filter(status=File.Status.FAILED)} == {"photo.heic"}
    assert fingerprint(read_only_copy) == before
