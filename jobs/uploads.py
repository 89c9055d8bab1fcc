"""Receiving uploaded photos and videos: counted while they stream in, checked by name and by
content, and stored whole under names we make up.

Django streams every uploaded file to a temporary file (FILE_UPLOAD_MAX_MEMORY_SIZE = 0) in the
data dir; storing it is then a rename into place, so a file is stored whole or not at all. A
request is stored whole or not at all too: one that did not arrive whole (WatchedBody) keeps
nothing, not even the files that came before the cut, and Django removes its temporary files."""

import errno
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import PurePath

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils import timezone
from django.utils.http import parse_header_parameters

from jobs.pipeline import formats
from jobs.services.imports import StoredUpload

# What a full disk (or quota, or file-size limit) looks like to a writer.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class InvalidUpload(Exception):
    """The request is malformed; the message says how."""


class UploadNotStored(Exception):
    """The server's disk is full; nothing of the upload was kept."""


class UploadGuard(FileUploadHandler):
    """Watches the files of one request as they stream in: stops reading once their bytes pass
    the size limit, and notices an upload cut off in the middle of a file (Django then drops that
    file quietly and keeps the ones before it). Put it before the handler that writes the files."""

    def __init__(self, request, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.interrupted = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # connection_reset: the rest of the body is not read at all.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler hands over the file

    def upload_interrupted(self):
        self.interrupted = True


class WatchedBody:
    """A multipart request body as the parser reads it: counted, and watched for the closing
    delimiter. Django's parser takes a body that just ends after some whole parts (the connection
    dropped between two files, Stop pressed in the page) for a whole one, and would keep the
    files before the cut; `cut` tells the two apart."""

    def __init__(self, stream, *, length: int, boundary: str):
        self.stream = stream
        self.length = length
        self.closing = f"--{boundary}--".encode()
        self.received = 0
        self.closed = False
        self.tail = b""

    def read(self, size=-1):
        data = self.stream.read(size)
        self.received += len(data)
        if not self.closed:
            # The delimiter may straddle two reads.
            seen = self.tail + data
            self.closed = self.closing in seen
            self.tail = seen[1 - len(self.closing) :]
        return data

    @property
    def cut(self) -> bool:
        """Read from, and ended before the bytes it announced or without its closing delimiter."""
        return self.received > 0 and (self.received < self.length or not self.closed)


def watched_body(request) -> WatchedBody | None:
    """The request's body to parse through a WatchedBody, or None when it is not a multipart body
    with a boundary (Django's own parsing then says what is wrong with it)."""
    content_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    boundary = params.get("boundary", "")
    if content_type != "multipart/form-data" or not boundary:
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return WatchedBody(request, length=length, boundary=boundary)


@dataclass(frozen=True)
class Rejected:
    filename: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def receive(
    files: Sequence[UploadedFile], *, last_modified: Sequence[str] = (), relative_paths: Sequence[str] = ()
) -> tuple[list[StoredUpload], list[Rejected]]:
    """Store the files that are photos or videos we import, by name and by content; say why of
    the others. `last_modified` (the browser's File.lastModified, ms since 1970) and
    `relative_paths` (webkitRelativePath, for a dropped folder) are given in the order of `files`,
    or not at all. Raises InvalidUpload for a malformed request and UploadNotStored when the disk
    is full, in which case nothing of this upload is kept."""
    modified = _parallel(last_modified, files, "last_modified", _parse_last_modified)
    folders = _parallel(relative_paths, files, "relative_path", folder_of)
    stored: list[StoredUpload] = []
    rejected: list[Rejected] = []
    try:
        for upload, client_modified_at, folder in zip(files, modified, folders):
            name = clean_name(upload.name)
            if reason := check(upload, name):
                rejected.append(Rejected(name, reason))
                continue
            storage_name = _store(upload, name)
            stored.append(StoredUpload(storage_name, name, folder, client_modified_at))
    except OSError as e:
        discard(stored)
        if e.errno not in DISK_FULL:
            raise
        raise UploadNotStored(f"The server's disk is full ({e.strerror}); nothing of the upload was kept.") from e
    return stored, rejected


def check(upload: UploadedFile, name: str) -> str:
    """Why the file is refused, or "" when both its name and its first bytes are of a type we
    import. A file that passes and is broken inside becomes that file's error later."""
    if formats.by_name(name) is None:
        suffix = PurePath(name).suffix
        kind = f"'{suffix}' files are" if suffix else "a file without an extension is"
        return f"Not a photo or video we import: {kind} not accepted (accepted: {formats.ALLOWED_NAMES})"
    if upload.size == 0:
        return "The file is empty"
    upload.seek(0)
    header = upload.read(formats.HEADER_SIZE)
    upload.seek(0)
    if formats.sniff(header) is None:
        return f"Its content is not a photo or video we import, whatever its name says ({formats.ALLOWED_NAMES})"
    return ""


def clean_name(name: str | None) -> str:
    """The uploaded name, kept only as data (it never names a stored file): control characters
    removed. Django has already dropped any folders from it and cut it to 255 characters."""
    return "".join(c for c in (name or "") if c.isprintable()).strip() or "unnamed"


def folder_of(relative_path: str) -> str:
    """The folders of a dropped file's relative path ('Trip/Day 1/IMG_1.JPG' → 'Trip/Day 1'), with
    anything that could climb or confuse ('..', '.', empty parts, backslashes, control
    characters) dropped; it is only ever shown, never used to build a path."""
    parts = relative_path.replace("\\", "/").split("/")[:-1]
    kept = ("".join(c for c in part if c.isprintable()).strip() for part in parts)
    return "/".join(p for p in kept if p and p not in {".", ".."})


def discard(uploads: Sequence[StoredUpload]) -> None:
    """Remove stored uploads that will not be recorded."""
    for upload in uploads:
        try:
            default_storage.delete(upload.storage_name)
        except OSError:
            pass


def _store(upload: UploadedFile, name: str) -> str:
    """Save under a generated name: two uploads of IMG_0001.JPG both survive, and no uploaded name
    can reach outside the uploads folder. Only the extension, already checked against our list,
    is kept from the uploaded name."""
    storage_name = f"uploads/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}{PurePath(name).suffix.lower()}"
    try:
        return default_storage.save(storage_name, upload)
    except OSError:
        # Storage that copies (from another file system) may leave a partial file behind.
        if default_storage.exists(storage_name):
            default_storage.delete(storage_name)
        raise


def _parallel(values: Sequence[str], files: Sequence, field: str, parse) -> list:
    if not values:
        return [parse("")] * len(files)
    if len(values) != len(files):
        raise InvalidUpload(
            f"Send one {field} value per file, in the order of the files: got {len(values)} for {len(files)} files."
        )
    return [parse(v) for v in values]


def _parse_last_modified(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidUpload(
            f"last_modified must be milliseconds since 1970, like 1700000000000: got '{value[:40]}'."
        ) from None
