"""Uploads and thumbnails go through Django's storage only, so several machines can share object
storage: an upload is processed from a storage that has no local paths at all."""

import hashlib

import pytest
from django.core.files import File as DjangoFile
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from PIL import Image

from jobs.models import File, Job
from jobs.services.imports import StoredUpload, create_upload_job
from jobs.services.processing import process_batch
from jobs.storage import local_path


class NameOnlyStorage(Storage):
    """Storage as object storage looks to the code: files go in and out by name; path(), which
    only storage on this machine's disks has, raises NotImplementedError (Storage's own)."""

    def __init__(self, location):
        self.files = FileSystemStorage(location=location)

    def _open(self, name, mode="rb"):
        return self.files._open(name, mode)

    def _save(self, name, content):
        return self.files._save(name, content)

    def exists(self, name):
        return self.files.exists(name)

    def delete(self, name):
        self.files.delete(name)

    def size(self, name):
        return self.files.size(name)


@pytest.fixture
def name_only_storage(settings, data_dir):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.NameOnlyStorage", "OPTIONS": {"location": str(data_dir)}},
    }
    with pytest.raises(NotImplementedError):
        default_storage.path("anything")
    return default_storage


@pytest.mark.django_db
def test_an_upload_is_processed_from_storage_without_local_paths(name_only_storage, copy_media, alice):
    originals = {
        "IMG_3580.JPG": copy_media("digicam/Apple/iPhone XR/IMG_3580.JPG", single=True),
        "IMG_3589.HEIC": copy_media("digicam/Apple/iPhone XR/IMG_3589.HEIC", single=True),
    }
    uploads = []
    for name, path in originals.items():
        with open(path, "rb") as f:
            uploads.append(StoredUpload(name_only_storage.save(f"uploads/{name}", DjangoFile(f)), name))
    job = create_upload_job(owner=alice, uploads=uploads, enqueue=False)
    ids = list(job.files.order_by("id").values_list("id", flat=True))

    process_batch(job_id=job.id, first_id=ids[0], last_id=ids[-1], token="remote")

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.error_count == 0
    for file in job.files.all():
        assert file.status == File.Status.DONE, file.error
        original = originals[file.original_name].read_bytes()
        assert file.sha256 == hashlib.sha256(original).hexdigest()
        assert (file.width, file.height) == (4032, 3024)
        with name_only_storage.open(file.path) as stored:
            assert stored.read() == original  # the upload itself is left as it was
        with name_only_storage.open(file.thumbnail.name) as thumbnail, Image.open(thumbnail) as im:
            assert im.format == "WEBP" and max(im.size) == 320


@pytest.mark.django_db
@pytest.mark.parametrize("storage", ["on this machine", "without local paths"])
def test_an_error_inside_the_local_copy_reaches_the_caller_unchanged(storage, request, data_dir, alice):
    if storage == "without local paths":
        request.getfixturevalue("name_only_storage")
    content = b"\xff\xd8\xff" + b"not decoded here" * 10
    name = default_storage.save("uploads/a.jpg", ContentFile(content))
    job = create_upload_job(owner=alice, uploads=[StoredUpload(name, "a.jpg")], enqueue=False)

    # A decoder's NotImplementedError is the decoder's, not a sign of storage without paths.
    with pytest.raises(NotImplementedError, match="the decoder's own"), local_path(job.files.get()) as path:
        assert path.read_bytes() == content
        raise NotImplementedError("the decoder's own")
