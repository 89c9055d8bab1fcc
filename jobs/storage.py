"""Where files live: uploads and thumbnails in Django's storage, path imports where they are."""

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from jobs.models import File, Job
from jobs.pipeline import thumbnails


@contextmanager
def local_path(file: File):
    """A path on this machine holding the file's bytes, for the decoders. Storage that has no
    local paths (object storage) is copied to a temporary file for the duration."""
    if file.job.kind == Job.Kind.PATH:
        yield Path(file.path)
        return
    try:
        # Asked before yielding, so that an error in the caller's block is never taken for
        # storage without local paths.
        local = Path(default_storage.path(file.path))
    except NotImplementedError:
        local = None
    if local is not None:
        yield local
        return
    with default_storage.open(file.path, "rb") as source, tempfile.NamedTemporaryFile(
        suffix=Path(file.path).suffix
    ) as copy:
        shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        yield Path(copy.name)


def save_thumbnail(file: File, data: bytes) -> str:
    """Store the file's thumbnail under a name of its own, replacing an earlier one."""
    name = f"thumbnails/{file.job_id}/{file.id}{thumbnails.EXTENSION}"
    if default_storage.exists(name):
        default_storage.delete(name)
    try:
        return default_storage.save(name, ContentFile(data))
    except OSError:
        # A write cut short (disk full) must not leave half a picture under the file's name.
        default_storage.delete(name)
        raise
