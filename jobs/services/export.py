"""Exports: the clean, dated collection written out of the library.

An export is a job of kind "export". Creating it plans every file's place (jobs/export_plan.py)
and records one ExportEntry per file; the queue then works through the entries exactly as it
works through an import's files (jobs/services/processing.py): claimed, written, counted. Each
copy is made under a temporary name in its destination folder, has its capture time written by
exiftool and checked, gets the capture time as its modification time, and is then linked into
place without ever replacing a file. Undo walks the entries back. Originals are only read."""

import dataclasses
import errno
import functools
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from stat import S_ISREG
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from jobs import export_plan
from jobs.bulk import adapter
from jobs.exiftool import ExifToolError
from jobs.exiftool import shared as shared_exiftool
from jobs.models import (
    Confidence, DuplicateGroup, DuplicateKind, DuplicateMember, ExportEntry, File, Job, shown_capture_time,
)  # fmt: skip
from jobs.serializers import file_path
from jobs.services.processing import JobCannotGoOn, Work
from jobs.storage import local_path

if TYPE_CHECKING:
    from datetime import datetime

    from jobs.pipeline import writeback

log = logging.getLogger(__name__)

TEMP_PREFIX = ".mediaimport-"
EXISTS_NOTE = "An identical file was already there; nothing was touched."
CONFIDENCE_RANK = {Confidence.HIGH: 3, Confidence.MEDIUM: 2, Confidence.LOW: 1, Confidence.NONE: 0}
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# Room left beside what the copies need: metadata grows a copy a little, and folders take blocks.
SPACE_MARGIN = 1.02


class ExportRefused(Exception):
    """The export cannot start; the message says why in words a person can act on."""


class ExportForbidden(ExportRefused):
    """The destination is outside MEDIAIMPORT_EXPORT_ROOTS."""


# --- where an export may write --------------------------------------------------------------


def folder_in_export_roots(path: Path) -> Path:
    """The destination, symlinks resolved, when it lies inside an export root (it need not exist
    yet: the export makes it)."""
    if not path.is_absolute():
        raise ExportRefused(f"The destination must be an absolute path: {path}")
    roots = [Path(os.path.realpath(root)) for root in settings.MEDIAIMPORT_EXPORT_ROOTS]
    if not roots:
        raise ExportRefused("Exporting from the web is switched off: no folder is listed in MEDIAIMPORT_EXPORT_ROOTS.")
    resolved = Path(os.path.realpath(path))
    if not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise ExportForbidden(f"{path} is outside the folders this server may export into ({allowed}).")
    return resolved


# --- planning -----------------------------------------------------------------------------


def create_export_job(
    *,
    destination: Path,
    owner=None,
    job_ids: list[int] | None = None,
    template: str = export_plan.DEFAULT_TEMPLATE,
    dry_run: bool = False,
    link: bool = False,
    write_metadata: bool = True,
    enqueue: bool = True,
) -> Job:
    """Plan an export of the done files of `job_ids` (without: every job of `owner`, or of the
    whole library when there is no owner) into `destination`, and queue it. A dry run records the
    plan and completes at once, writing nothing."""
    if not destination.is_absolute():
        raise ExportRefused(f"The destination must be an absolute path: {destination}")
    destination = Path(os.path.realpath(destination))
    if destination.exists() and not destination.is_dir():
        raise ExportRefused(f"The destination is not a folder: {destination}")
    try:
        template = export_plan.check_template(template or export_plan.DEFAULT_TEMPLATE)
    except export_plan.TemplateError as e:
        raise ExportRefused(str(e)) from None
    files = _plan_rows(_files_to_export(owner=owner, job_ids=job_ids))
    if not files:
        raise ExportRefused("There is nothing done to export: import some photos first, or name jobs that finished.")
    left_out = duplicates_left_out(files)
    exported = [f for f in files if f.id not in left_out]
    by_id = {f.id: f for f in files}
    placed = export_plan.place((plan_file(f) for f in exported), template)
    at_destination = _AtDestination(destination, by_id, write_metadata=write_metadata)
    if destination.exists():
        placed = export_plan.settle(placed, at_destination)
    if not dry_run:
        exists = {p.file_id for p in placed if p.exists}
        check_free_space(destination, [f for f in exported if f.id not in exists], link=link and not write_metadata)
    with transaction.atomic():
        job = Job.objects.create(
            kind=Job.Kind.EXPORT,
            owner=owner,
            destination=str(destination),
            template=template,
            source_job_ids=sorted(set(job_ids or [])),
            dry_run=dry_run,
            link=link,
            write_metadata=write_metadata,
        )
        done = {"status": File.Status.DONE, "processed_at": timezone.now()}
        folders = {} if dry_run else _folders_to_make(destination, placed)
        entries = [
            dict(
                file_id=p.file_id,
                source=_source(by_id[p.file_id]),
                destination=p.destination,
                made_folders=folders.get(p.file_id, []),
                **(done if dry_run or p.exists else {}),
                # Already there, identical: nothing to write, in a dry run or not.
                **(dict(action=ExportEntry.Action.EXISTS, sha256=at_destination.sha256[p.file_id], note=EXISTS_NOTE) if p.exists else {}),
            )
            for p in placed
        ]
        destinations = {p.file_id: p.destination for p in placed}
        entries += [
            dict(
                file_id=file_id,
                source=_source(by_id[file_id]),
                destination=destinations[kept],
                action=ExportEntry.Action.DUPLICATE,
                duplicate_of_id=kept,
                **done,
            )
            for file_id, kept in sorted(left_out.items())
        ]
        _insert_entries(job, entries)
        finished = len(entries) if dry_run else len(left_out) + sum(p.exists for p in placed)
        Job.objects.filter(id=job.id).update(progress_total=len(entries), progress_current=finished)
        if dry_run:
            now = timezone.now()
            Job.objects.filter(id=job.id).update(status=Job.Status.COMPLETED, started_at=now, completed_at=now)
        elif enqueue:
            from jobs.services.imports import enqueue_job

            transaction.on_commit(lambda: enqueue_job(job))
    job.refresh_from_db()
    return job


@dataclass(frozen=True, slots=True)
class _Row:
    """What planning reads of a file: a row of PLAN_FIELDS, not a model instance (building one
    per file was a third of a plan's time)."""

    id: int
    original_name: str
    folder: str
    path: str
    captured_at: "datetime | None"
    capture_offset: int | None
    capture_precision: str
    capture_offset_known: bool
    confidence: str
    camera: str
    job_id: int
    companion_id: int | None
    mime_type: str
    sha256: str
    width: int | None
    height: int | None
    shot: str
    size: int | None
    job_kind: str

    @property
    def capture_time(self):
        return shown_capture_time(self.captured_at, self.capture_offset)


PLAN_FIELDS = [f.name for f in dataclasses.fields(_Row)][:-1] + ["job__kind"]


def _plan_rows(files) -> list[_Row]:
    return [_Row(*row) for row in files.values_list(*PLAN_FIELDS)]


class _AtDestination:
    """What is already at a planned path, for export_plan.settle: nothing, a file identical to
    what this export would write there (SAME; its SHA-256 kept in `sha256`), or another file.

    Identical, without writing anything: when nothing would be written into the copy, a file of
    the original's size and SHA-256 (a file an earlier export of ours put there, unchanged since,
    is known by its record instead of hashed); when the capture time would be written, only the
    copy an earlier export of ours wrote there with the same time and still unchanged (exiftool
    writes the same bytes from the same file and fields). A copy with our fields that we did not
    write is taken for another file: the real export would find its bytes differ all the same."""

    def __init__(self, destination: Path, rows: dict[int, "_Row"], *, write_metadata: bool):
        self.destination = destination
        self.rows = rows
        self.write_metadata = write_metadata
        self.sha256: dict[int, str] = {}
        self._earlier = None

    def __call__(self, placed: export_plan.Placed, path: str) -> str | None:
        target = self.destination / path
        try:
            stat = target.lstat()
        except FileNotFoundError:
            return None
        except OSError:
            return export_plan.OTHER
        row = self.rows[placed.file_id]
        sha256 = self._identical(row, path, target, stat)
        if sha256 is None:
            return export_plan.OTHER
        self.sha256[row.id] = sha256
        return export_plan.SAME

    def _identical(self, row: "_Row", path: str, target: Path, stat: os.stat_result) -> str | None:
        if not S_ISREG(stat.st_mode):
            return None
        earlier = self.earlier.get((row.id, path))
        unchanged = earlier is not None and (stat.st_size, stat.st_mtime_ns) == (earlier["size"], earlier["mtime_ns"])
        if self._writes(row, path):
            chosen = _chosen(row)
            if unchanged and earlier["written"] and earlier["mtime_ns"] == _stamp(chosen):
                return earlier["sha256"]
            return None
        if unchanged and earlier["sha256"] == row.sha256:
            return row.sha256
        if stat.st_size == row.size and _sha256(target) == row.sha256:
            return row.sha256
        return None

    def _writes(self, row: "_Row", path: str) -> bool:
        """Whether the export would write the capture time into this file's copy."""
        chosen = _chosen(row)
        how = _writeback().how_to_write(PurePosixPath(path).suffix)
        if not (chosen and self.write_metadata) or how == _writeback().SIDECAR:
            return False
        stub = File(id=row.id, path=row.path, job=Job(id=row.job_id, kind=row.job_kind))
        with local_path(stub) as source:
            return bool(_fields_to_write(chosen, how, source, write_metadata=True))

    @property
    def earlier(self) -> dict[tuple[int, str], dict]:
        """{(file id, path): what an earlier export into this folder created there}, read once."""
        if self._earlier is None:
            rows = ExportEntry.objects.filter(
                job__destination=str(self.destination), job__undone_at__isnull=True,
                action__in=[ExportEntry.Action.COPIED, ExportEntry.Action.LINKED],
            ).values_list("file_id", "created", "sha256", "written")  # fmt: skip
            self._earlier = {
                (file_id, created[0]["path"]): {**created[0], "sha256": sha256, "written": [w for w in written if not w.endswith("(sidecar)")]}
                for file_id, created, sha256, written in rows
                if created
            }
        return self._earlier


def _insert_entries(job: Job, entries: list[dict]) -> None:
    """The plan's entries in one executemany: bulk_create builds a model instance and prepares
    every field of every row, half of a plan's time."""
    fields = [f for f in ExportEntry._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {connection.ops.quote_name(ExportEntry._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    adapters = [(f.attname, adapter(f)) for f in fields]
    rows = []
    for entry in entries:
        values = {**defaults, "job_id": job.id, **entry}
        rows.append([adapt(values[name]) for name, adapt in adapters])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _files_to_export(*, owner, job_ids: list[int] | None):
    files = File.objects.filter(status=File.Status.DONE).exclude(job__kind=Job.Kind.EXPORT)
    if job_ids:
        return files.filter(job_id__in=job_ids)
    return files.filter(job__owner=owner) if owner is not None else files


def _folders_to_make(destination: Path, placed: list[export_plan.Placed]) -> dict[int, list[str]]:
    """{file id: the folders its entry will make}, each missing folder given to the first entry
    that needs it. Recorded with the plan, so that undo knows them even when the worker that made
    them died before writing its result."""
    seen: set[Path] = set()
    folders: dict[int, list[str]] = {}
    for p in placed:
        missing = []
        folder = (destination / p.destination).parent
        while folder not in seen and not folder.exists():
            seen.add(folder)
            missing.append(str(folder))
            folder = folder.parent
        if missing:
            folders[p.file_id] = missing[::-1]
    return folders


def plan_file(file: "File | _Row") -> export_plan.PlanFile:
    return export_plan.PlanFile(
        id=file.id,
        name=file.original_name,
        folder=file.folder,
        captured=file.capture_time,
        precision=file.capture_precision or "second",
        dated=file.confidence != Confidence.NONE,
        camera=file.camera,
        job=file.job_id,
        companion_id=file.companion_id,
        is_video=file.mime_type.startswith("video/"),
    )


def duplicates_left_out(files: list[_Row]) -> dict[int, int]:
    """{file id: id of the file exported instead} for the copies an export leaves out: one copy
    per exact group (staff's keep, else the first imported) and per near group (staff's keep,
    else most pixels, then a camera record, then confidence, then size); groups staff marked as
    not duplicates are exported whole."""
    by_id = {f.id: f for f in files}
    decided = {
        g.key: g
        for g in DuplicateGroup.objects.filter(kind=DuplicateKind.EXACT, key__in={f.sha256 for f in files})
        .filter(Q(keep__isnull=False) | Q(not_duplicates=True))
    }
    left_out: dict[int, int] = {}
    by_sha: dict[str, list[int]] = {}
    for f in files:
        by_sha.setdefault(f.sha256, []).append(f.id)
    for sha256, ids in by_sha.items():
        group = decided.get(sha256)
        if len(ids) < 2 or (group and group.not_duplicates):
            continue
        keep = group.keep_id if group and group.keep_id in ids else min(ids)
        left_out.update({i: keep for i in ids if i != keep})

    def kept(i: int) -> int:
        return left_out.get(i, i)

    near: dict[int, tuple[int | None, set[int]]] = {}
    members = DuplicateMember.objects.filter(
        group__kind=DuplicateKind.NEAR, group__not_duplicates=False, file__in=[f.id for f in files]
    ).values_list("group_id", "group__keep_id", "file_id")
    for group_id, keep_id, file_id in members:
        near.setdefault(group_id, (keep_id, set()))[1].add(file_id)
    for keep_id, ids in near.values():
        candidates = {kept(i) for i in ids if i in by_id}
        if len(candidates) < 2:
            continue
        if keep_id in by_id:
            keep = kept(keep_id)
        else:
            keep = max(candidates, key=lambda i: _richness(by_id[i]))
        for i in ids:
            # The two halves of a pair are one shot, never duplicates of each other.
            if i in by_id and kept(i) != keep and not _companions(by_id[kept(i)], by_id[keep]):
                left_out[kept(i)] = keep
                left_out[i] = keep
    # A copy left out for one that is itself left out points at the file really exported.
    for i in list(left_out):
        seen = {i}
        while left_out[i] in left_out and left_out[i] not in seen:
            seen.add(left_out[i])
            left_out[i] = left_out[left_out[i]]
    return {i: k for i, k in left_out.items() if i != k}


def _companions(a: _Row, b: _Row) -> bool:
    return a.companion_id == b.id or b.companion_id == a.id


def _richness(file: _Row) -> tuple:
    return ((file.width or 0) * (file.height or 0), bool(file.shot), CONFIDENCE_RANK[file.confidence], file.size or 0, -file.id)


def _source(file: _Row) -> str:
    if file.job_kind == Job.Kind.PATH:
        return file.path
    return file_path({"path": file.path, "folder": file.folder, "original_name": file.original_name}, job=Job(kind=file.job_kind))


def check_free_space(destination: Path, files: list[_Row], *, link: bool) -> None:
    """Refuse an export whose copies do not fit on the destination's file system."""
    needed = 0 if link else int(sum(f.size or 0 for f in files) * SPACE_MARGIN)
    existing, free = free_space(destination)
    if needed > free:
        raise ExportRefused(
            f"The export needs {_size(needed)} and {existing} has {_size(free)} free. Free some space or choose another destination."
        )


def plan_summary(job: Job) -> dict:
    """What the page shows of a plan: counts, and the space the copies need against what is free."""
    entries = ExportEntry.objects.filter(job=job)
    counts = {
        "files": entries.count(),
        "duplicates": entries.filter(action=ExportEntry.Action.DUPLICATE).count(),
        "undated": entries.filter(destination__startswith=export_plan.UNDATED + "/").exclude(action=ExportEntry.Action.DUPLICATE).count(),
    }
    counts["exported"] = counts["files"] - counts["duplicates"]
    sizes = entries.exclude(action=ExportEntry.Action.DUPLICATE).values_list("file__size", flat=True)
    needed = sum(size or 0 for size in sizes)
    return {**counts, "bytes_needed": needed, "bytes_free": free_space(Path(job.destination))[1]}


def free_space(destination: Path) -> tuple[Path, int]:
    """The free bytes where `destination` is or will be made: its nearest existing folder's."""
    existing = destination
    while not existing.exists():
        existing = existing.parent
    return existing, shutil.disk_usage(existing).free


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return str(n)


# --- writing one entry --------------------------------------------------------------------


def export_entry(entry: ExportEntry) -> str:
    """An export's unit of work: write the entry's file into place. Returns an error for the
    entry ("" when it went well); raises JobCannotGoOn when the destination is full."""
    job, file = entry.job, entry.file
    if file is None:
        return "The original's record was deleted before it could be exported"
    root = Path(job.destination)
    final = root / entry.destination
    try:
        # Folders the plan did not foresee (someone removed one meanwhile) are recorded too.
        entry.made_folders = sorted({*entry.made_folders, *_make_folders(final.parent)})
        with local_path(file) as source:
            _write(entry, job, file, source, final)
    except FileNotFoundError:
        return "The original is no longer there"
    except PermissionError as e:
        return f"Permission denied: {e.filename or e}"
    except OSError as e:
        if e.errno in DISK_FULL:
            raise JobCannotGoOn(
                f"The destination {root} is full: {entry.destination} could not be written. Nothing half-written was "
                "kept; free some space, then retry the failed files."
            ) from None
        return f"Could not write {entry.destination}: {e.strerror or e}"
    except ExifToolError as e:
        return f"exiftool could not write the capture time: {e}"
    return ""


@dataclass
class _Copy:
    temp: Path
    sidecar: Path | None = None  # a temporary sidecar to place beside the copy
    written: list[str] = field(default_factory=list)
    note: str = ""
    sha256: str = ""
    linked: bool = False


def _write(entry: ExportEntry, job: Job, file: File, source: Path, final: Path) -> None:
    from jobs.pipeline.timestamps.sidecars import xmp_sidecar_of  # loaded with the writer (see _writeback)

    temp = final.parent / f"{TEMP_PREFIX}{entry.id}.tmp{final.suffix}"
    sidecar_temp = temp.with_name(temp.name + ".xmp")
    if entry.attempts > 1:
        _remove(temp, sidecar_temp)  # left by a worker that died on this entry
    copy = _Copy(temp=temp)
    try:
        # Uploads are stored under generated names and have no sidecars beside them.
        travelling = xmp_sidecar_of(source) if file.job.kind == Job.Kind.PATH else None
        chosen = _chosen(file)
        how = _writeback().how_to_write(final.suffix)
        fields = _fields_to_write(chosen, how, source, write_metadata=job.write_metadata)
        if travelling is not None:
            shutil.copyfile(travelling, sidecar_temp)
            copy.sidecar = sidecar_temp
        if fields and how != _writeback().SIDECAR:
            _write_into_copy(copy, source, fields, chosen, how)
        else:
            # Nothing is written into the file itself: it may be a hard link of the original.
            _plain_copy(copy, source, file, link=job.link)
            if fields and copy.sidecar is None:
                _write_sidecar(copy, chosen)
        if not copy.linked and chosen is not None:
            os.utime(temp, ns=(_stamp(chosen),) * 2)
        _place(entry, copy, final)
    finally:
        _remove(temp, sidecar_temp)


def _fields_to_write(chosen: "writeback.Chosen | None", how: str, source: Path, *, write_metadata: bool) -> dict:
    """The fields the export writes for a file: the chosen time's, less those the original already
    holds (all of them when they go into a sidecar)."""
    fields = _writeback().wanted_fields(chosen, how) if chosen and write_metadata else {}
    if fields and how != _writeback().SIDECAR:
        fields = _writeback().missing_fields(fields, _current_fields(source, fields, how))
    return fields


def _stamp(chosen: "writeback.Chosen") -> int:
    """The modification time a copy is given: its capture time, in nanoseconds."""
    return int(chosen.time.timestamp() * 1e9)


def _current_fields(source: Path, fields: dict, how: str) -> dict:
    if how == _writeback().PHOTO:
        try:
            return _writeback().photo_fields(source)
        except (OSError, SyntaxError, ValueError):  # Pillow cannot read it: exiftool can
            pass
    return shared_exiftool().read(source, list(fields))


def _write_into_copy(copy: _Copy, source: Path, fields: dict, chosen: "writeback.Chosen", how: str) -> None:
    shared_exiftool().write(source, copy.temp, fields)
    zone = ZoneInfo(settings.TIME_ZONE)
    if _writeback().same_media(source, copy.temp, how=how) and _writeback().reads_back(copy.temp, chosen, how=how, zone=zone):
        copy.written = list(fields)
        copy.sha256 = _sha256(copy.temp)
        return
    # exiftool changed the picture or sound, or the time does not read back: the unwritten copy
    # goes out instead, with the time in a sidecar.
    log.warning("Writing the capture time changed %s or did not read back; exporting it unwritten", source)
    copy.temp.unlink()
    shutil.copyfile(source, copy.temp)
    copy.sha256 = _sha256(copy.temp)
    copy.note = "The capture time could not be written into the copy without changing it; it is in the XMP sidecar."
    if copy.sidecar is None:
        _write_sidecar(copy, chosen)


def _plain_copy(copy: _Copy, source: Path, file: File, *, link: bool) -> None:
    if link:
        try:
            os.link(source, copy.temp)
            copy.linked = True
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            copy.note = "Copied: the original is on another file system, so it cannot be hard-linked."
    if not copy.linked:
        shutil.copyfile(source, copy.temp)
    # A byte-for-byte copy of a file whose SHA-256 the import recorded.
    copy.sha256 = file.sha256 if os.path.getsize(copy.temp) == file.size else _sha256(copy.temp)


def _write_sidecar(copy: _Copy, chosen: "writeback.Chosen") -> None:
    sidecar = copy.temp.with_name(copy.temp.name + ".xmp")
    fields = _writeback().wanted_fields(chosen, _writeback().SIDECAR)
    args = [f"-{tag}={value}" for tag, value in fields.items()]
    out, err = shared_exiftool().execute(*args, "-o", str(sidecar))
    if not sidecar.exists():
        raise ExifToolError(err.strip() or out.strip() or "no sidecar was written")
    copy.sidecar = sidecar
    copy.written = [f"{tag} (sidecar)" for tag in fields]


def _place(entry: ExportEntry, copy: _Copy, final: Path) -> None:
    """Link the finished temporary file in under the planned name, or the next free `_N`;
    never over a file. A file identical to ours already there is `exists`."""
    root = Path(entry.job.destination)
    size = os.path.getsize(copy.temp)
    n, lost = 0, False
    while True:
        candidate = Path(export_plan.numbered(str(final), n))
        try:
            os.link(copy.temp, candidate)
            break
        except FileExistsError:
            if not _same_content(candidate, size, copy.sha256):
                n += 1
                while _planned_for_another(entry, Path(export_plan.numbered(str(final), n)).relative_to(root)):
                    n += 1
                continue
        if lost := _placed_by_a_lost_attempt(entry, candidate):
            break  # the export's own copy, recorded now
        entry.action = ExportEntry.Action.EXISTS
        entry.destination = str(candidate.relative_to(root))
        entry.sha256 = copy.sha256
        entry.note = EXISTS_NOTE
        return
    created = [_created(candidate, root)]
    if copy.sidecar is not None:
        sidecar = candidate.with_name(candidate.name + ".xmp")
        try:
            os.link(copy.sidecar, sidecar)
            created.append(_created(sidecar, root))
        except FileExistsError:
            if lost and _same_content(sidecar, os.path.getsize(copy.sidecar), _sha256(copy.sidecar)):
                created.append(_created(sidecar, root))
            else:
                copy.note = _join(copy.note, f"{sidecar.name} was already there and was left as it is.")
    entry.action = ExportEntry.Action.LINKED if copy.linked else ExportEntry.Action.COPIED
    entry.destination = str(candidate.relative_to(root))
    entry.sha256 = copy.sha256
    entry.written = copy.written
    entry.created = created
    entry.note = copy.note


def _placed_by_a_lost_attempt(entry: ExportEntry, path: Path) -> bool:
    """Whether an identical file under the entry's name was put there by this entry's own earlier
    attempt, whose worker died before its result was written (results are written a few at a
    time): the entry was taken before, and the file's inode changed after the export started.
    Such a file is the export's own, and undo must know it."""
    return entry.attempts > 1 and path.stat().st_ctime >= entry.job.started_at.timestamp()


def _planned_for_another(entry: ExportEntry, destination: Path) -> bool:
    """Whether another file of this export is to go under that name: a file moved aside by one
    already on disk does not take the name its neighbour in the same second was given."""
    return ExportEntry.objects.filter(job_id=entry.job_id, destination=str(destination)).exclude(id=entry.id).exists()


def _created(path: Path, root: Path) -> dict:
    stat = path.stat()
    return {"path": str(path.relative_to(root)), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _same_content(path: Path, size: int, sha256: str) -> bool:
    try:
        return path.is_file() and path.stat().st_size == size and _sha256(path) == sha256
    except OSError:
        return False


def _chosen(file: File) -> "writeback.Chosen | None":
    if file.capture_time is None or file.confidence == Confidence.NONE:
        return None
    return _writeback().Chosen(
        time=file.capture_time, precision=file.capture_precision or "second", offset_known=file.capture_offset_known
    )


def _make_folders(folder: Path) -> list[str]:
    """Make `folder` and any folder above it that is missing; the ones this call made (absolute
    paths, outermost first), for undo."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current == current.parent:
            break
        current = current.parent
    made = []
    for path in reversed(missing):
        try:
            path.mkdir()
            made.append(str(path))
        except FileExistsError:  # another worker made it meanwhile: not ours to remove
            pass
    return made


def _remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@functools.cache
def _writeback():
    """The capture-time writer and readers, loaded at a worker's first entry (the cluster has
    loaded the readers before forking): planning an export, the web server and the commands
    need none of them, and they were a tenth of every such process's start."""
    from jobs.pipeline import writeback

    return writeback


def _sha256(path: Path) -> str:
    from jobs.pipeline.hashing import sha256_of

    return sha256_of(path)[0]


def _join(*notes: str) -> str:
    return " ".join(n for n in notes if n)


# What writing an entry reads: the entry, and of its file only where it is and what time to write.
# The rest of a file's row (its evidence above all, a JSON document) was most of a batch's read.
ENTRY_FIELDS = (
    *(f.name for f in ExportEntry._meta.concrete_fields),
    *(f"file__{name}" for name in (
        "path", "size", "sha256", "mime_type", "captured_at", "capture_offset", "capture_precision",
        "capture_offset_known", "confidence", "job__kind",
    )),
)  # fmt: skip

EXPORT_WORK = Work(
    model=ExportEntry,
    result_fields=("status", "processed_at", "error", "action", "destination", "sha256", "written", "created", "made_folders", "note"),
    do=export_entry,
    rows=lambda rows: rows.select_related("file__job").only(*ENTRY_FIELDS),
    # An entry takes milliseconds where an import's file takes a tenth of a second: in batches of
    # MEDIAIMPORT_BATCH_SIZE the queue's own cost per task would be most of an export's time.
    batch_size=50,
    claim_ahead=10,
)


# --- undo ---------------------------------------------------------------------------------


@dataclass
class UndoReport:
    removed: list[str] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"removed": self.removed, "kept": self.kept}


def undo_export(*, job: Job) -> UndoReport:
    """Remove what the export created and is unchanged since (same size and modification time as
    written, or the same SHA-256), then the folders it made that are left empty. Anything else
    is kept and reported with the reason; nothing the export did not create is touched."""
    if job.kind != Job.Kind.EXPORT:
        raise ExportRefused(f"Job {job.id} is not an export.")
    if not job.is_finished:
        raise ExportRefused(f"Export {job.id} is {job.status}: cancel it or let it finish before undoing it.")
    root = Path(job.destination)
    report = UndoReport()
    folders: set[str] = set()
    for entry in ExportEntry.objects.filter(job=job).order_by("id").iterator():
        # Folders made by entries that wrote nothing (an error, a crash) are candidates too.
        folders.update(entry.made_folders)
        for n, created in enumerate(entry.created):
            path = root / created["path"]
            reason = _changed(path, created, entry.sha256 if n == 0 else "")
            if reason:
                report.kept.append({"destination": created["path"], "reason": reason})
                continue
            path.unlink()
            report.removed.append(created["path"])
    for folder in sorted(folders, key=lambda f: f.count(os.sep), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:
            pass  # not empty (kept files, or files someone else put there), or gone already
    Job.objects.filter(id=job.id).update(undone_at=timezone.now())
    return report


def _changed(path: Path, created: dict, sha256: str) -> str:
    try:
        stat = path.lstat()
    except FileNotFoundError:
        return "no longer there"
    if not path.is_file() or path.is_symlink():
        return "no longer the file the export wrote"
    if stat.st_size == created["size"] and stat.st_mtime_ns == created["mtime_ns"]:
        return ""
    if sha256 and stat.st_size == created["size"] and _sha256(path) == sha256:
        return ""
    return "changed since the export (its size or modification time differ from what was written)"


# --- the template preview ----------------------------------------------------------------

PREVIEW_FILES = 8


def preview(*, owner, template: str) -> list[dict]:
    """Where the owner's most recent done files would go under `template` (names only: the plan
    of a real export also numbers collisions and leaves duplicates out)."""
    try:
        template = export_plan.check_template(template)
    except export_plan.TemplateError as e:
        raise ExportRefused(str(e)) from None
    files = _plan_rows(_files_to_export(owner=owner, job_ids=None).order_by("-id")[:PREVIEW_FILES])
    placed = {p.file_id: p.destination for p in export_plan.place((plan_file(f) for f in files), template)}
    return [{"file_id": f.id, "source": _source(f), "destination": placed[f.id]} for f in files]


