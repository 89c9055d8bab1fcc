"""The capture-time engine: when each photo or video was taken, how sure we are, and why.

Pure: it imports nothing from Django. The pipeline gathers Clues once per file and calls
read_capture_time(); docs/timestamps.md describes the rules."""

from .clues import Clues, image_iptc
from .containers import container_tags, container_xmp
from .decide import read_capture_time
from .evidence import CONFIDENCES, CaptureTime, Evidence

__all__ = ["CONFIDENCES", "CaptureTime", "Clues", "Evidence", "container_tags", "container_xmp", "image_iptc", "read_capture_time"]
