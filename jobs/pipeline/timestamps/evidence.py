"""What the engine returns (Evidence, CaptureTime) and what each source hands it (Reading)."""

from dataclasses import dataclass
from datetime import datetime

HIGH, MEDIUM, LOW, NONE = "high", "medium", "low", "none"
CONFIDENCES = (HIGH, MEDIUM, LOW, NONE)

# How much of a capture time its source tells. A value of a coarser precision is the first moment
# of its day, month or year, wall clock in the zone (contract, "Correcting capture times").
SECOND, DAY, MONTH, YEAR = "second", "day", "month", "year"


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
    precision: str = SECOND
    problem: str = ""  # why no value could be read
    note: str = ""  # how it was found, e.g. which sidecar matched

    @property
    def date_only(self) -> bool:
        return self.precision != SECOND


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
    precision: str = SECOND  # DAY, MONTH or YEAR: value is then that period's first moment in the zone
    # False when the value is a wall-clock time read in the zone because the file did not say
    # its offset: the page says "zone not recorded" instead of showing the zone's offset as fact.
    offset_known: bool = True

    def as_dict(self) -> dict:
        return {
            "value": self.value.isoformat() if self.value else None,
            "confidence": self.confidence,
            "source": self.source,
            "conflict": self.conflict,
            "precision": self.precision,
            "offset_known": self.offset_known,
            "evidence": [item.as_dict() for item in self.evidence],
        }
