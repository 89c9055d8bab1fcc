"""Corrections of capture times by a person: planned, applied as one recorded change, undone.

Every entry point (the API, the page through it, the admin) comes here, so a correction means the
same wherever it is made. A change is recorded like Django's LogEntry (who, when, what was asked)
with one entry per file holding the values it replaced and the values it set: undo restores
exactly those, and leaves alone a file that a later change has touched since.

A correction follows the picture: the owner's other files with the same SHA-256 get the same
result, now and when a byte copy is imported later (apply_earlier_corrections)."""

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone as django_timezone

from jobs import selectors
from jobs.bulk import adapter
from jobs.models import CaptureTimeChange, CaptureTimeChangeEntry, Confidence, File, Precision, shown_capture_time

MANUAL_SOURCE = "manual"
# A file's capture values, all but its evidence: a change adds its item to the evidence (and undo
# takes it out) in the database, never reading the evidence of the files it changes.
CAPTURE_VALUES = (
    "captured_at", "capture_offset", "confidence", "capture_source", "capture_precision", "capture_conflict",
    "capture_offset_known",
)  # fmt: skip
WRITTEN_AS = "2009-12-25T10:00, 2009-12-25, 2009-12 or 2009, optionally with an offset like +01:00"
_DATE_ONLY = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


class CorrectionRefused(Exception):
    """The correction cannot be made as asked; the message says why (an API 400)."""


class NotFound(Exception):
    """A file or change the user may not correct, answered like one that does not exist (404)."""


@dataclass(frozen=True)
class Correction:
    """What a person asks for. Exactly one of set / shift_seconds / zone / reference."""

    action: str
    value: datetime | None = None  # set, reference: aware
    precision: str = Precision.SECOND  # of `value`
    wall: bool = False  # `value` was written without an offset
    seconds: int = 0
    zone: tzinfo | None = None
    reference_id: int | None = None
    confidence: str = Confidence.HIGH

    def describe(self) -> str:
        if self.action == CaptureTimeChange.Action.SET:
            return f"set to {_written(self.value, self.precision)}"
        if self.action == CaptureTimeChange.Action.SHIFT:
            return f"shifted by {signed_duration(self.seconds)}"
        if self.action == CaptureTimeChange.Action.ZONE:
            return f"read in {self.zone}"
        return f"moved with file {self.reference_id}, set to {_written(self.value, self.precision)}"


@dataclass
class Outcome:
    """A change, planned or applied: the files it moves (with their new values) and those it leaves."""

    change: CaptureTimeChange | None
    updated: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    before: dict[int, dict] = field(default_factory=dict)  # file id -> capture values now
    after: dict[int, dict] = field(default_factory=dict)  # file id -> capture values it gets
    evidence: dict[int, dict] = field(default_factory=dict)  # file id -> the item its evidence gets


# --- reading what a person asks -----------------------------------------------------------------


def parse_correction(body: dict) -> Correction:
    """The correction a request asks for (the API's JSON, the admin's field)."""
    asked = [name for name in ("set", "shift_seconds", "zone", "reference") if name in body]
    if len(asked) != 1:
        raise CorrectionRefused("Send exactly one of set, shift_seconds, zone or reference with file_ids.")
    confidence = body.get("confidence", Confidence.HIGH)
    if confidence not in (Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW):
        raise CorrectionRefused("confidence, when given, is high, medium or low.")
    action = asked[0]
    if action == "set":
        value, precision, wall = parse_time(body["set"])
        return Correction(CaptureTimeChange.Action.SET, value, precision, wall, confidence=confidence)
    if action == "shift_seconds":
        seconds = body["shift_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or abs(seconds) > 200 * 365 * 86400:
            raise CorrectionRefused("shift_seconds is a whole number of seconds, such as 3600 or -7200.")
        if seconds == 0:
            raise CorrectionRefused("shift_seconds of 0 would change nothing.")
        return Correction(CaptureTimeChange.Action.SHIFT, seconds=seconds, confidence=confidence)
    if action == "zone":
        return Correction(CaptureTimeChange.Action.ZONE, zone=parse_zone(body["zone"]), confidence=confidence)
    reference = body["reference"]
    if not isinstance(reference, dict) or not isinstance(reference.get("file_id"), int) or "timestamp" not in reference:
        raise CorrectionRefused('reference is {"file_id": <one of file_ids>, "timestamp": "2009-07-14T14:03"}.')
    value, precision, wall = parse_time(reference["timestamp"])
    if precision != Precision.SECOND:
        raise CorrectionRefused("A reference time needs its time of day: every other file moves by the difference.")
    return Correction(
        CaptureTimeChange.Action.REFERENCE,
        value,
        precision,
        wall,
        reference_id=reference["file_id"],
        confidence=confidence,
    )


def parse_time(text) -> tuple[datetime, str, bool]:
    """A time as a person writes it: `2009-12-25T10:00:00+01:00`, `2009-12-25 10:00` (wall clock in
    MEDIAIMPORT_TIME_ZONE), or only `2009-12-25`, `2009-12`, `2009`, which are the first moment of
    that day, month or year with that precision. Returns (aware value, precision, without offset)."""
    if not isinstance(text, str) or not text.strip():
        raise CorrectionRefused(f"Write the time as {WRITTEN_AS}.")
    text = text.strip()
    zone = ZoneInfo(settings.TIME_ZONE)
    if match := _DATE_ONLY.match(text):
        year, month, day = match.groups()
        precision = Precision.DAY if day else Precision.MONTH if month else Precision.YEAR
        try:
            wall = datetime(int(year), int(month or 1), int(day or 1))
        except ValueError as e:
            raise CorrectionRefused(f"{text} is not a date: {e}.") from None
        value, wall_clock = _placed(wall, zone), True
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CorrectionRefused(
                f"'{text[:40]}' is not a time: write {WRITTEN_AS}."
            ) from None
        precision, wall_clock = Precision.SECOND, parsed.tzinfo is None
        value = _placed(parsed, zone) if wall_clock else parsed
    _check_range(value)
    return value, precision, wall_clock


def parse_zone(name) -> ZoneInfo:
    if not isinstance(name, str) or name not in _zone_names():
        raise CorrectionRefused(f"zone is a time zone name such as Asia/Tokyo or Europe/Paris: got '{str(name)[:40]}'.")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # listed yet not loadable: a broken tzdata
        raise CorrectionRefused(f"The time zone {name} is not available on this server.") from None


@functools.cache
def _zone_names() -> set[str]:
    return available_timezones()  # reads the zone database's folders: once


def _check_range(value: datetime, now: datetime | None = None) -> None:
    offset = value.utcoffset()
    if abs(offset) > timedelta(hours=18):
        raise CorrectionRefused("A UTC offset lies between -18:00 and +18:00.")
    if offset.total_seconds() % 60:
        raise CorrectionRefused("A UTC offset is whole minutes.")
    if value.year < 1800 or value > (now or django_timezone.now()) + timedelta(days=1):
        raise CorrectionRefused(f"{value.isoformat()} cannot be a capture time: it is before 1800 or in the future.")


def _placed(wall: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in the zone, with that moment's fixed offset."""
    placed = wall.replace(tzinfo=zone)
    return placed.replace(tzinfo=timezone(placed.utcoffset()))


# --- who may correct what -----------------------------------------------------------------------


def correctable_files(*, user, file_ids) -> list[dict]:
    """The files (rows of their capture values, with their job's owner) the user may correct, in
    the order asked; NotFound when any is unknown or someone else's, CorrectionRefused when the
    list is empty or one is still being processed."""
    ids_given = isinstance(file_ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in file_ids)
    if not ids_given or not file_ids:
        raise CorrectionRefused("file_ids is a non-empty list of file ids.")
    wanted = list(dict.fromkeys(file_ids))
    found = selectors.files_for(user).filter(id__in=_listed(wanted, File._meta.pk)).order_by()
    rows = {row["id"]: row for row in found.values("id", "status", "sha256", "job_id", "job__owner_id", *CAPTURE_VALUES)}
    if missing := [i for i in wanted if i not in rows]:
        raise NotFound(f"No file {missing[0]}" + (f" (nor {len(missing) - 1} more)" if len(missing) > 1 else "") + ".")
    if busy := [i for i in wanted if rows[i]["status"] in File.UNFINISHED]:
        raise CorrectionRefused(f"File {busy[0]} is still being processed; correct its capture time once it is done.")
    return [rows[i] for i in wanted]


def _listed(values: list, field) -> RawSQL:
    """The values, for `field__in=`, as one parameter (a JSON list) the database reads as rows:
    Django prepares each value of a list on its own, a fifth of a 10,000-file change, and SQLite
    takes at most 32,766 parameters a statement."""
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT CAST(jsonb_array_elements_text(CAST(%s AS jsonb)) AS {field.db_type(connection)})", [json.dumps(values)])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])


def _owner_key(row: dict) -> tuple:
    # Jobs without an owner (import_path without --user) are each an owner of their own.
    return ("user", row["job__owner_id"]) if row["job__owner_id"] else ("job", row["job_id"])


# --- planning and applying ----------------------------------------------------------------------


def plan_correction(*, user, file_ids, correction: Correction) -> Outcome:
    """What the correction would do, changing nothing: the page's preview, and the first half of
    correct_capture_times."""
    rows = correctable_files(user=user, file_ids=file_ids)
    outcome = Outcome(change=None)
    difference = None
    if correction.action == CaptureTimeChange.Action.REFERENCE:
        reference = next((r for r in rows if r["id"] == correction.reference_id), None)
        if reference is None:
            raise CorrectionRefused("The reference file must be one of file_ids.")
        if reference["captured_at"] is None:
            raise CorrectionRefused("The reference file has no capture time to measure the difference from.")
        difference = correction.value - reference["captured_at"]
    by = getattr(user, "username", "") or str(user)
    at = django_timezone.now()
    described = correction.describe()
    manual = {"source": MANUAL_SOURCE, "raw": described, "accepted": True, "by": by, "at": at.isoformat()}
    note = f"{described.capitalize()} by {by}"
    for row in rows:
        new = _corrected(row, correction, difference)
        if new is None:
            outcome.skipped.append(row["id"])
            continue
        value = shown_capture_time(new["captured_at"], new["capture_offset"])
        try:
            _check_range(value, at)
        except CorrectionRefused as refused:  # a shift too far, for one of them
            raise CorrectionRefused(f"File {row['id']}: {refused}") from None
        zone = new.pop("zone")
        outcome.updated.append(row["id"])
        outcome.before[row["id"]] = _values_of(row)
        # The person settled whatever the file's clues disagreed on.
        outcome.after[row["id"]] = {
            **new, "confidence": correction.confidence, "capture_source": MANUAL_SOURCE, "capture_conflict": False
        }  # fmt: skip
        said = note
        if not new["capture_offset_known"]:
            said += f"; offset unknown: read in {zone}" if zone else "; offset unknown"
        outcome.evidence[row["id"]] = {
            **manual,
            "value": value.isoformat(),
            "note": said,
            "replaced": _shown(row),
            "precision": new["capture_precision"],
        }
    _follow_the_picture(rows, outcome)
    return outcome


def correct_capture_times(*, user, file_ids, correction: Correction) -> Outcome:
    """Apply the correction as one recorded change."""
    with transaction.atomic():
        outcome = plan_correction(user=user, file_ids=file_ids, correction=correction)
        change = CaptureTimeChange.objects.create(
            by=user, action=correction.action, parameters=_parameters(correction, file_ids)
        )
        outcome.change = change
        for item in outcome.evidence.values():
            item["change"] = change.id
        _write(outcome.after, outcome.evidence)
        _record(change.id, outcome.before, outcome.after)
    return outcome


def _corrected(row: dict, correction: Correction, difference: timedelta | None) -> dict | None:
    """The file's new captured_at / capture_offset / capture_precision / capture_offset_known, and
    the zone a wall-clock time was read in, or None when the correction does not apply to it."""
    Action = CaptureTimeChange.Action
    at, offset = row["captured_at"], row["capture_offset"] or 0
    is_reference = correction.action == Action.REFERENCE and row["id"] == correction.reference_id
    if correction.action == Action.SET or is_reference:
        return _values(correction.value, correction.precision, not correction.wall, settings.TIME_ZONE)
    if at is None:
        return None  # nothing to shift, nothing to read again
    precision = row["capture_precision"] or Precision.SECOND
    if correction.action in (Action.SHIFT, Action.REFERENCE):
        moved = at + (timedelta(seconds=correction.seconds) if difference is None else difference)
        return {
            "captured_at": moved, "capture_offset": offset, "capture_precision": precision,
            "capture_offset_known": row["capture_offset_known"], "zone": "",
        }  # fmt: skip
    if row["capture_offset_known"]:
        return None  # the file told its offset (or a UTC instant): no zone can change it
    # The same wall clock, in the other zone: the instant moves.
    wall = shown_capture_time(at, offset).replace(tzinfo=None)
    return _values(_placed(wall, correction.zone), precision, False, str(correction.zone))


def _values(value: datetime, precision: str, offset_known: bool, zone: str) -> dict:
    return {
        "captured_at": value.astimezone(UTC),
        "capture_offset": int(value.utcoffset().total_seconds() // 60),
        "capture_precision": precision,
        "capture_offset_known": offset_known,
        "zone": zone,
    }


def _values_of(row: dict) -> dict:
    return {name: row[name] for name in CAPTURE_VALUES}


def _recorded(before: dict) -> dict:
    """What an entry keeps of the values a change replaced, for undo to read in the database. Not
    the evidence: undo gets that back by taking the change's own item out of the file's evidence."""
    at = before["captured_at"]
    return {**before, "captured_at": at.astimezone(UTC).isoformat() if at else None}  # UTC: _recorded_value


def _follow_the_picture(rows: list[dict], outcome: Outcome) -> None:
    """The owner's other files with the same bytes get what their picture got."""
    corrected = {}
    for row in rows:
        if row["sha256"] and row["id"] in outcome.after:
            corrected.setdefault((_owner_key(row), row["sha256"]), row["id"])
    if not corrected:
        return
    chosen = {row["id"] for row in rows}
    owners = {key[0] for key in corrected}
    by_owner = Q(job__owner_id__in=[o[1] for o in owners if o[0] == "user"]) | Q(
        job_id__in=[o[1] for o in owners if o[0] == "job"], job__owner__isnull=True
    )
    done = File.objects.filter(by_owner, status=File.Status.DONE).order_by()
    shas = _listed(sorted({key[1] for key in corrected}), File._meta.get_field("sha256"))
    # Most pictures of a large selection have no copy: read the files of those that have one.
    shared = done.filter(sha256__in=shas).values("sha256").annotate(files=Count("id")).filter(files__gt=1)
    found = done.filter(sha256__in=shared.values("sha256")).values("id", "sha256", "job_id", "job__owner_id", *CAPTURE_VALUES)
    for copy in found:
        source = corrected.get((_owner_key(copy), copy["sha256"]))
        if source is None or copy["id"] in chosen:
            continue
        outcome.updated.append(copy["id"])
        outcome.before[copy["id"]] = _values_of(copy)
        outcome.after[copy["id"]] = dict(outcome.after[source])
        outcome.evidence[copy["id"]] = _copied(outcome.evidence[source], to=copy, source_id=source)


def _copied(manual: dict, *, to: dict, source_id: int) -> dict:
    """The manual evidence of a picture's correction, for a byte copy of it."""
    return {**manual, "replaced": _shown(to), "note": manual["note"] + f"; the same picture as file {source_id}"}


def _shown(row: dict) -> str | None:
    value = shown_capture_time(row["captured_at"], row["capture_offset"])
    return value.isoformat() if value else None


def _write(values_by_file: dict[int, dict], items: dict[int, dict]) -> None:
    """The files' capture values, and each its item added to its evidence, in a few statements of
    ROWS files each: `UPDATE … FROM (VALUES …)`, which SQLite (3.33+) and PostgreSQL both run.
    Django's bulk_update builds a CASE expression per file and field, and took 50 s for 10,000
    files here; reading each file's evidence to write it back one item longer was half of what
    was left."""
    quote = connection.ops.quote_name
    fields = [File._meta.get_field(name) for name in CAPTURE_VALUES]
    adapters = [(f.name, adapter(f)) for f in fields]
    table = quote(File._meta.db_table)
    column = quote(File._meta.get_field("capture_evidence").column)
    assignments = [f"{quote(f.column)} = {_typed(f'v.column{n + 2}', f)}" for n, f in enumerate(fields)]
    added = _ADD_ITEM[connection.vendor].format(evidence=f"{table}.{column}", item=f"v.column{len(fields) + 2}")
    assignments.append(f"{column} = {added}")
    row = "(" + ", ".join(["%s"] * (len(fields) + 2)) + ")"
    files = list(values_by_file.items())
    for start in range(0, len(files), ROWS):
        part = files[start : start + ROWS]
        params = []
        for file_id, values in part:
            params.append(file_id)
            params.extend(adapt(values[name]) for name, adapt in adapters)
            params.append(json.dumps(items[file_id]))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} FROM (VALUES {', '.join([row] * len(part))}) AS v "
                f"WHERE {table}.id = {_typed('v.column1', File._meta.pk)}",
                params,
            )


def _restore(change_id: int, file_ids: list[int]) -> None:
    """The values the change's entries recorded, back on those files, and the change's item taken
    out of their evidence, in one statement that reads them from the entries."""
    if not file_ids:
        return
    quote = connection.ops.quote_name
    table, entries = quote(File._meta.db_table), quote(CaptureTimeChangeEntry._meta.db_table)
    column = quote(File._meta.get_field("capture_evidence").column)
    before = f"{entries}.{quote('before')}"
    assignments = [f"{quote(f.column)} = {_recorded_value(before, f)}" for f in map(File._meta.get_field, CAPTURE_VALUES)]
    assignments.append(f"{column} = {_TAKE_OUT[connection.vendor].format(evidence=f'{table}.{column}')}")
    listed = _listed(file_ids, File._meta.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(assignments)} FROM {entries} WHERE {entries}.change_id = %s "
            f"AND {table}.id = {entries}.file_id AND {table}.id IN ({listed.sql})",
            [change_id, change_id, *listed.params],
        )


def _recorded_value(before: str, field) -> str:
    """SQL for the value of `field` an entry's `before` (JSON, written by _recorded) holds."""
    if connection.vendor == "postgresql":
        return f"CAST({before} ->> '{field.name}' AS {field.db_type(connection)})"
    value = f"json_extract({before}, '$.{field.name}')"
    if field.get_internal_type() == "DateTimeField":
        # "2009-07-14T10:02:00+00:00" as Django keeps it in SQLite: "2009-07-14 10:02:00".
        return f"replace(substr({value}, 1, length({value}) - 6), 'T', ' ')"
    return value


# SQLite allows 32,766 parameters a statement: 3,000 files of 9 values. Fewer, larger statements
# cost less to build and run than many small ones.
ROWS = 3000

# A file's evidence gets an item (JSON text), or loses the item that a change (%s) added, in the
# database. Both keep the evidence's other items as they are.
_ADD_ITEM = {
    "sqlite": "json_insert({evidence}, '$[#]', json({item}))",
    "postgresql": "{evidence} || jsonb_build_array(CAST({item} AS jsonb))",
}
_TAKE_OUT = {
    "sqlite": (
        "COALESCE(json_remove({evidence}, '$[' || (SELECT item.key FROM json_each({evidence}) AS item"
        " WHERE json_extract(item.value, '$.change') = %s LIMIT 1) || ']'), {evidence})"
    ),
    "postgresql": (
        "COALESCE({evidence} - (SELECT CAST(item.n - 1 AS integer) FROM jsonb_array_elements({evidence})"
        " WITH ORDINALITY AS item(value, n) WHERE item.value ->> 'change' = CAST(%s AS text) LIMIT 1), {evidence})"
    ),
}


def _typed(column: str, field) -> str:
    # PostgreSQL types a VALUES list from its parameters, which arrive untyped: say what they are.
    # SQLite stores what it is given, and a CAST there would turn a date into a number.
    return f"CAST({column} AS {field.db_type(connection)})" if connection.vendor == "postgresql" else column


def _record(change_id: int, before: dict[int, dict], after: dict[int, dict]) -> None:
    """The change's entries, the values before and after of each file in `before`, in one
    executemany: bulk_create builds a model instance per row, a third of the time of a 10,000-file
    change."""
    entry = CaptureTimeChangeEntry._meta
    columns = ["change_id", "file_id", "before", "after_at", "after_offset", "after_precision"]
    recorded, after_at = adapter(entry.get_field("before")), adapter(entry.get_field("after_at"))
    rows = [
        (
            change_id,
            file_id,
            recorded(_recorded(values)),
            after_at(after[file_id]["captured_at"]),
            after[file_id]["capture_offset"],
            after[file_id]["capture_precision"],
        )
        for file_id, values in before.items()
    ]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {connection.ops.quote_name(entry.db_table)} ({names}) VALUES ({placeholders})", rows)


def _parameters(correction: Correction, file_ids: list[int]) -> dict:
    parameters = {
        "file_count": len(file_ids), "confidence": correction.confidence, "description": correction.describe()
    }  # fmt: skip
    if correction.value is not None:
        parameters["value"] = correction.value.isoformat()
        parameters["precision"] = correction.precision
    if correction.seconds:
        parameters["shift_seconds"] = correction.seconds
    if correction.zone is not None:
        parameters["zone"] = str(correction.zone)
    if correction.reference_id is not None:
        parameters["reference_file_id"] = correction.reference_id
    return parameters


# --- undo ---------------------------------------------------------------------------------------


def changes_for(user):
    """The changes a user may see and undo: their own, or every change for staff."""
    changes = CaptureTimeChange.objects.all()
    return changes if user.is_staff else changes.filter(by=user)


def undo_change(*, user, change_id: int) -> tuple[list[int], list[int]]:
    """Give every file of the change back the values it had before, unless a later change touched
    it since (those are kept). Returns (restored, kept)."""
    with transaction.atomic():
        change = changes_for(user).filter(id=change_id).first()
        if change is None:
            raise NotFound(f"No change {change_id}.")
        if change.undone_at is not None:
            raise CorrectionRefused(f"Change {change_id} was already undone.")
        # A file goes back when it still shows what the change set and no later change (not
        # undone) touched it; the database decides, from the entries, without a row in Python.
        later = CaptureTimeChangeEntry.objects.filter(
            file_id=OuterRef("file_id"), change_id__gt=change.id, change__undone_at__isnull=True
        )
        untouched = Q(
            file__captured_at=F("after_at"), file__capture_offset=F("after_offset"),
            file__capture_precision=F("after_precision"),
        ) & ~Exists(later)  # fmt: skip
        entries = change.entries.order_by("id").annotate(untouched=ExpressionWrapper(untouched, BooleanField()))
        restored, kept = [], []
        for file_id, restorable in entries.values_list("file_id", "untouched"):
            (restored if restorable else kept).append(file_id)
        _restore(change.id, restored)
        change.undone_at, change.undone_by = django_timezone.now(), user
        change.save(update_fields=["undone_at", "undone_by"])
    return restored, kept


# --- later imports ------------------------------------------------------------------------------


def apply_earlier_corrections(file_ids: list[int]) -> list[int]:
    """Files just imported whose picture (SHA-256) the owner corrected before get that correction,
    recorded in the same change so that undoing it takes them back too. Returns their ids."""
    # Asked first because this runs on every written batch and is nearly always false: reading the
    # batch's rows and then looking for their pictures' corrections, for every ten files, was a
    # few percent of a re-import of known files.
    if not CaptureTimeChangeEntry.objects.filter(change__undone_at__isnull=True).exists():
        return []
    rows = list(
        File.objects.filter(id__in=file_ids, status=File.Status.DONE)
        .exclude(sha256="")
        .values("id", "sha256", "job_id", "job__owner_id", *CAPTURE_VALUES)
    )
    if not rows:
        return []
    # The latest correction still in force of each picture: its entry, on a file that still shows it.
    entries = (
        CaptureTimeChangeEntry.objects.filter(
            file__sha256__in={r["sha256"] for r in rows},
            file__capture_source=MANUAL_SOURCE,
            change__undone_at__isnull=True,
        )
        .exclude(file_id__in=file_ids)
        .order_by("-change_id", "-id")
        .values(
            "change_id", "after_at", "after_offset", "after_precision", "file_id", "file__sha256", "file__job_id",
            "file__job__owner_id", "file__captured_at", "file__capture_offset", "file__capture_precision",
            "file__confidence", "file__capture_offset_known", "file__capture_evidence",
        )
    )  # fmt: skip
    latest = {}
    for e in entries:
        still = (e["file__captured_at"], e["file__capture_offset"], e["file__capture_precision"]) == (
            e["after_at"], e["after_offset"], e["after_precision"]
        )  # fmt: skip
        key = (_owner_key({"job__owner_id": e["file__job__owner_id"], "job_id": e["file__job_id"]}), e["file__sha256"])
        if still:
            latest.setdefault(key, e)
    updates, items, by_change = {}, {}, {}
    for row in rows:
        e = latest.get((_owner_key(row), row["sha256"]))
        if e is None:
            continue
        manual = next(item for item in reversed(e["file__capture_evidence"]) if item.get("source") == MANUAL_SOURCE)
        items[row["id"]] = _copied(manual, to=row, source_id=e["file_id"])
        updates[row["id"]] = {
            "captured_at": e["after_at"], "capture_offset": e["after_offset"], "capture_precision": e["after_precision"],
            "confidence": e["file__confidence"], "capture_source": MANUAL_SOURCE, "capture_conflict": False,
            "capture_offset_known": e["file__capture_offset_known"],
        }  # fmt: skip
        by_change.setdefault(e["change_id"], {})[row["id"]] = _values_of(row)
    _write(updates, items)
    for change_id, before in by_change.items():
        _record(change_id, before, updates)
    return list(updates)


# --- words --------------------------------------------------------------------------------------


def signed_duration(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "−"
    rest = abs(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    return sign + " ".join(f"{n} {unit}" for n, unit in parts if n)


def _written(value: datetime | None, precision: str) -> str:
    if value is None:
        return ""
    if precision == Precision.YEAR:
        return f"{value:%Y}"
    if precision == Precision.MONTH:
        return f"{value:%Y-%m}"
    if precision == Precision.DAY:
        return f"{value:%Y-%m-%d}"
    return value.isoformat()
