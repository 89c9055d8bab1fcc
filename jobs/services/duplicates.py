"""Library-wide duplicate groups, kept up to date as imports finish, and staff decisions on them.

A group is found again by its kind and key (the SHA-256 for an exact group), so regrouping adds
and removes members but never loses what staff decided: the copy to keep, or "not duplicates".
Nothing here touches a file on disk."""

from collections.abc import Iterable, Iterator

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from jobs.batching import batched
from jobs.models import DuplicateGroup, DuplicateKind, DuplicateMember, File, Job
from jobs.services.library import pair_companions

# A file that failed to decode still has its bytes hashed, and those bytes can be duplicated.
GROUPED_STATUSES = (File.Status.DONE, File.Status.FAILED)

# Rows per IN (...) list, well inside every database's limit on query parameters.
CHUNK = 500

Members = dict[int, bool]  # file id -> byte-identical to another member


class DecisionRefused(Exception):
    """The decision does not fit the group; the message says why."""


def refresh_duplicate_groups(*, job: Job | None = None) -> None:
    """Regroup after a job ended (or, without a job, the whole library): the job's pairs first
    (companions are never duplicates of each other), the exact groups of its files, then the
    library's near groups."""
    if job is not None:
        pair_companions(job=job)
    refresh_exact_groups(job=job)
    refresh_near_groups()


def refresh_exact_groups(*, job: Job | None = None) -> None:
    """A job's refresh reads only the keys its own files have, through the sha256 index, so its
    cost follows the job's size and the copies it has, not the size of the library."""
    files = File.objects.filter(status__in=GROUPED_STATUSES).exclude(sha256="")
    shared = files.values("sha256").annotate(n=Count("id")).filter(n__gt=1).values("sha256")
    existing = DuplicateGroup.objects.filter(kind=DuplicateKind.EXACT)
    if job is not None:
        shared = shared.filter(sha256__in=files.filter(job=job).values("sha256"))
        existing = existing.filter(members__file__job=job)
    found: dict[str, Members] = {}
    for sha256, file_id in files.filter(sha256__in=shared).order_by("sha256", "id").values_list("sha256", "id"):
        found.setdefault(sha256, {})[file_id] = True
    save_groups(kind=DuplicateKind.EXACT, found=found, existing=existing)


def refresh_near_groups() -> None:
    """Near groups are found over the whole library, since a new picture can join, split or
    re-key groups that hold none of its own job's files. The grouping indexes fingerprints rather
    than comparing every pair, so this stays a matter of seconds for 100,000 pictures."""
    # Imported here: numpy and the image hashes are not loaded by the web server and the import
    # command, which import this module (through the admin) but never regroup.
    from jobs.pipeline.near_duplicates import Picture, group_near_duplicates
    from jobs.pipeline.perceptual import FINGERPRINT_LENGTH

    # A file without a fingerprint still counts through its picture data's identity.
    rows = (
        File.objects.filter(status__in=GROUPED_STATUSES)
        .exclude(perceptual_hash="", picture_sha256="")
        .values_list("id", "perceptual_hash", "sha256", "shot", "picture_sha256", "companion_id")
        .iterator(chunk_size=5000)
    )
    # A fingerprint of another length was made by an earlier version; the file is compared again
    # once it is processed anew.
    pictures = [
        Picture(
            id=file_id, fingerprint=fingerprint, sha256=sha256, shot=shot or None, picture=picture or None, companion=companion
        )
        for file_id, fingerprint, sha256, shot, picture, companion in rows
        if len(fingerprint) in (0, FINGERPRINT_LENGTH)
    ]
    groups = group_near_duplicates(pictures, look=thumbnail_detail)
    found = {group.key: {m.id: m.byte_identical for m in group.members} for group in groups}
    save_groups(kind=DuplicateKind.NEAR, found=found, existing=DuplicateGroup.objects.filter(kind=DuplicateKind.NEAR))


def thumbnail_detail(file_id: int) -> bytes | None:
    """The detail of a file's thumbnail, for the grouping's closer look at a copy that is as near
    to two shots by its fingerprint (asked for those few only); None without a readable one."""
    from PIL import Image

    from jobs.pipeline.perceptual import detail

    name = File.objects.filter(pk=file_id).values_list("thumbnail", flat=True).first()
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as stored, Image.open(stored) as thumbnail:
            return detail(thumbnail)
    except OSError:  # gone from storage, or unreadable: the copy stays undecided
        return None


def save_groups(*, kind: str, found: dict[str, Members], existing: QuerySet[DuplicateGroup]) -> None:
    """Make the groups of `kind` match `found` (key -> members). Groups among `existing` that
    were not found again are removed, unless staff decided on them: a decided group keeps its row
    and its last members, so the decision is there again if regrouping finds the same key."""
    with transaction.atomic():
        DuplicateGroup.objects.bulk_create(
            [DuplicateGroup(kind=kind, key=key) for key in found], ignore_conflicts=True, batch_size=CHUNK
        )
        group_ids = dict(_chunked_rows(DuplicateGroup.objects.filter(kind=kind), "key", found, ("key", "id")))
        wanted = {(group_ids[key], f): identical for key, members in found.items() for f, identical in members.items()}
        current = {
            (group_id, file_id): (member_id, identical)
            for member_id, group_id, file_id, identical in _chunked_rows(
                DuplicateMember.objects.all(), "group_id", group_ids.values(), ("id", "group_id", "file_id", "identical")
            )
        }
        gone = [member_id for pair, (member_id, _) in current.items() if pair not in wanted]
        for chunk in batched(gone, CHUNK):
            DuplicateMember.objects.filter(id__in=chunk).delete()
        # Two jobs finishing together may both add a file that is in both of their groups.
        DuplicateMember.objects.bulk_create(
            [DuplicateMember(group_id=g, file_id=f, identical=i) for (g, f), i in wanted.items() if (g, f) not in current],
            batch_size=CHUNK,
            ignore_conflicts=True,
        )
        changed = [
            DuplicateMember(id=current[pair][0], identical=identical)
            for pair, identical in wanted.items()
            if pair in current and current[pair][1] != identical
        ]
        DuplicateMember.objects.bulk_update(changed, ["identical"], batch_size=CHUNK)
        undecided = existing.filter(keep=None, not_duplicates=False).values_list("id", flat=True).distinct()
        vanished = set(undecided) - set(group_ids.values())
        for chunk in batched(vanished, CHUNK):
            DuplicateGroup.objects.filter(id__in=chunk).delete()


def decide(*, group: DuplicateGroup, keep: File | None, not_duplicates: bool, by) -> DuplicateGroup:
    """Record staff's decision on a group: the copy to keep, or that its files are not duplicates.
    Only a decision is recorded; no file is moved or deleted."""
    check_decision(group=group, keep=keep, not_duplicates=not_duplicates)
    group.keep = keep
    group.not_duplicates = not_duplicates
    undecided = keep is None and not not_duplicates
    group.decided_by = None if undecided else by
    group.decided_at = None if undecided else timezone.now()
    group.save(update_fields=["keep", "not_duplicates", "decided_by", "decided_at", "updated_at"])
    return group


def keep_copies(*, files: Iterable[File], by) -> tuple[list[DuplicateGroup], list[str]]:
    """Staff's "keep this copy" for many files at once: each file becomes the copy to keep in the
    groups it is in. A group that two of the files share is left as it was, since only one copy can
    be kept. Returns the groups decided and the reasons for the ones left alone."""
    files = list(files)
    chosen: dict[int, list[File]] = {}
    for member in DuplicateMember.objects.filter(file__in=files).select_related("group", "file"):
        chosen.setdefault(member.group_id, []).append(member.file)
    decided, refused = [], []
    for group in DuplicateGroup.objects.filter(id__in=chosen).order_by("id"):
        keep = chosen[group.id]
        if len(keep) > 1:
            names = ", ".join(sorted(str(f) for f in keep))
            refused.append(f"{group}: {names} are all in it; keep one of them.")
            continue
        decided.append(decide(group=group, keep=keep[0], not_duplicates=False, by=by))
    return decided, refused


def mark_not_duplicates(*, groups: Iterable[DuplicateGroup], by) -> list[DuplicateGroup]:
    """Staff's "not duplicates" for many groups at once."""
    return [decide(group=group, keep=None, not_duplicates=True, by=by) for group in groups]


def check_decision(*, group: DuplicateGroup, keep: File | None, not_duplicates: bool) -> None:
    """Raise DecisionRefused, saying why, for a decision that does not fit the group."""
    if keep is not None and not_duplicates:
        raise DecisionRefused("Files that are not duplicates have no copy to keep; choose one or the other.")
    if keep is not None and not group.members.filter(file=keep).exists():
        raise DecisionRefused(f"{keep} is not in this group; pick one of its own files to keep.")


def _chunked_rows(queryset: QuerySet, field: str, values: Iterable, columns: tuple[str, ...]) -> Iterator[tuple]:
    for chunk in batched(iter(values), CHUNK):
        yield from queryset.filter(**{f"{field}__in": chunk}).values_list(*columns)
