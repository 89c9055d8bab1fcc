"""What the engine returns (Evidence, CaptureTime) and what each source hands it (Reading)."""

from dataclasses import dataclass
from datetime import datetime

HIGH, MEDIUM, LOW, NONE = "high", "medium", "low", "none"
CONFIDENCES = (HIGH, MEDIUM, LOW, NONE)

SECOND, DATE = "second", "date"


@dataclass(frozen=True)
class Reading:
    """One date a source gave, before it is judged.

    `value` is naive when the source does not say its offset (a wall-clock time), aware when it
    does. `instant` marks sources that record a moment in UTC (MP4 creation_time, GPS, Takeout,
    Pixel file names): those are shown in the configured zone rather than at +00:00."""

    source: str
    raw: str
    value: datetime | None = None
    instant: bool = False
    date_only: bool = False
    problem: str = ""  # why no value could be read
    note: str = ""  # how it was found, e.g. which sidecar matched


@dataclass(frozen=True)
class Evidence:
    source: str  # stable machine name, e.g. "exif:DateTimeOriginal", "sidecar:takeout", "filename"
    raw: str  # the value as found
    value: datetime | None  # parsed, aware, with the offset it is shown with; None when unreadable
    accepted: bool
    note: str = ""  # why rejected, or how it was read ("offset unknown: read in Europe/Paris")

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "raw": self.raw,
            "value": self.value.isoformat() if self.value else None,
            "accepted": self.accepted,
            "note": self.note,
        }


@dataclass(frozen=True)
class CaptureTime:
    value: datetime | None  # aware; its offset is the one to show
    confidence: str  # one of CONFIDENCES
    source: str  # the winning Evidence.source, "" when none
    evidence: tuple[Evidence, ...]
    conflict: bool = False  # the device's own records disagree by more than a day
    precision: str = SECOND  # DATE when only a day is known: value is then midnight in the zone

    def as_dict(self) -> dict:
        return {
            "value": self.value.isoformat() if self.value else None,
            "confidence": self.confidence,
            "source": self.source,
            "conflict": self.conflict,
            "precision": self.precision,
            "evidence": [item.as_dict() for item in self.evidence],
        }
