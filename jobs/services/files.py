"""Changes staff make to a file's record by hand. The file itself is never touched."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from jobs.models import Confidence, File

MANUAL_SOURCE = "manual"


class CorrectionRefused(Exception):
    """The correction cannot be made now; the message says why."""


def correct_capture_time(*, file: File, value: datetime, by) -> File:
    """Set the file's capture time by hand: source `manual`, confidence high. What the file said
    before stays in the evidence, marked as replaced, so the correction can be understood and
    undone by hand."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CorrectionRefused("A corrected capture time needs its UTC offset.")
    offset_minutes = int(value.utcoffset().total_seconds() // 60)
    if not -1080 <= offset_minutes <= 1080:
        raise CorrectionRefused("A UTC offset lies between -18:00 and +18:00.")
    with transaction.atomic():
        # Read again under the write lock: a correction must not be lost to one made at the same time.
        current = File.objects.select_for_update().get(id=file.id)
        if current.status not in (File.Status.DONE, File.Status.FAILED):
            raise CorrectionRefused("This file is still being processed; correct its capture time once it is done.")
        now = timezone.now()
        previous = current.capture_time
        evidence = list(current.capture_evidence)
        evidence.append(
            {
                "source": f"replaced:{current.capture_source or 'none'}",
                "raw": previous.isoformat() if previous else "",
                "value": previous.isoformat() if previous else None,
                "accepted": False,
                "note": f"The capture time before {by} corrected it on {now:%Y-%m-%d %H:%M} UTC "
                f"(confidence {current.confidence}).",
            }
        )
        evidence.append(
            {
                "source": MANUAL_SOURCE,
                "raw": value.isoformat(),
                "value": value.isoformat(),
                "accepted": True,
                "note": f"Set by {by}.",
            }
        )
        current.captured_at = value
        current.capture_offset = offset_minutes
        current.confidence = Confidence.HIGH
        current.capture_source = MANUAL_SOURCE
        current.capture_evidence = evidence
        # Staff settled whatever the file's clues disagreed on, to the second and in the offset given.
        current.capture_conflict = False
        current.capture_precision = File.Precision.SECOND
        current.capture_offset_known = True
        current.save(
            update_fields=[
                "captured_at", "capture_offset", "confidence", "capture_source", "capture_evidence", "capture_conflict",
                "capture_precision", "capture_offset_known",
            ]
        )  # fmt: skip
    return current
