"""analyse() runs the pipeline for one file, with one read for the hash and one decode for
everything a picture gives (size, EXIF, thumbnail, fingerprint)."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from jobs.pipeline import formats
from jobs.pipeline.companions import apple_content_identifier, video_content_identifier
from jobs.pipeline.errors import MediaError
from jobs.pipeline.hashing import sha256_of
from jobs.pipeline.images import open_photo
from jobs.pipeline.perceptual import MAKE, MODEL, camera_name, fingerprint, shot_identity
from jobs.pipeline.picture_identity import photo_identity
from jobs.pipeline.raw import open_raw
from jobs.pipeline.salvage import salvaged_metadata
from jobs.pipeline.thumbnails import render_thumbnail
from jobs.pipeline.timestamps import CaptureTime, Clues, container_tags, container_xmp, read_capture_time
from jobs.pipeline.video import probe_video


@dataclass
class Analysis:
    sha256: str
    size: int
    mime_type: str = ""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    camera: str = ""
    shot: str = ""
    capture: CaptureTime | None = None
    fingerprint: str = ""
    picture_sha256: str = ""  # the picture data's own hash (jobs.pipeline.picture_identity)
    content_identifier: str = ""  # Apple's: ties a Live Photo's picture to its video
    thumbnail: bytes | None = None  # WebP
    error: str = ""


def configure_decoders(*, max_image_pixels: int) -> None:
    """Once per process: the decompression-bomb limit, which Pillow keeps as a global."""
    Image.MAX_IMAGE_PIXELS = max_image_pixels


def analyse(
    path: Path,
    *,
    name: str,
    zone: ZoneInfo,
    folders: tuple[str, ...] = (),
    file_modified: datetime | None = None,
    client_modified: datetime | None = None,
    imported_at: datetime | None = None,
    sidecars: bool = True,
    digest: tuple[str, int] | None = None,
) -> Analysis:
    """Everything we learn about one file. A file that cannot be decoded still gets its hash,
    size and whatever capture time its name, folder and dates tell, with the error recorded.
    `digest` is the file's (sha256, size) when the caller has hashed it already."""
    sha256, size = digest or sha256_of(path)
    result = Analysis(sha256=sha256, size=size)
    clues = {
        "name": name,
        "folders": folders,
        "path": path if sidecars else None,
        "file_modified": file_modified,
        "client_modified": client_modified,
        "imported_at": imported_at,
    }
    image = None
    try:
        if size == 0:
            raise MediaError("The file is empty")
        media_type = formats.sniff(formats.read_header(path), name)
        if media_type is None:
            raise MediaError(f"Not a photo or video we import: its content is none of {formats.ALLOWED_NAMES}")
        result.mime_type = media_type.mime_type
        if media_type.is_video:
            # Dates PyAV does not show (MP4 udta, AVCHD, Matroska DateUTC) are read from the
            # container first, so they count even when the video itself cannot be opened.
            clues["video_tags"] = container_tags(path)
            clues["xmp"] = container_xmp(path)
            video = probe_video(path)
            result.width, result.height, result.duration = video.width, video.height, video.duration
            result.camera = camera_name(video.tags.get("com.apple.quicktime.make"), video.tags.get("com.apple.quicktime.model"))
            clues["video_tags"] = {**clues["video_tags"], **video.tags}
            result.content_identifier = video_content_identifier(video.tags)
            image = video.poster
        elif media_type is formats.HEIF_SEQUENCE:
            # Its first picture, read from the track as a video's first frame is.
            sequence = probe_video(path)
            result.width, result.height = sequence.width, sequence.height
            image = sequence.poster
        else:
            photo = open_raw(path, media_type) if media_type.is_raw else open_photo(path)
            result.width, result.height = photo.width, photo.height
            result.camera = camera_name(photo.exif.get(MAKE), photo.exif.get(MODEL))
            result.shot = shot_identity(photo.exif) or ""
            result.content_identifier = apple_content_identifier(photo.exif)
            clues["exif"], clues["xmp"], clues["iptc"] = photo.exif, photo.xmp, photo.iptc
            image = photo.reduced
            result.picture_sha256 = photo_identity(path, media_type.mime_type, image, (photo.width, photo.height)) or ""
        if image is not None:
            result.thumbnail = render_thumbnail(image)
            result.fingerprint = fingerprint(image)
    except MediaError as e:
        result.error = str(e)
        if result.mime_type.startswith("image/") and "exif" not in clues:
            clues |= salvaged_metadata(path)
    result.capture = read_capture_time(Clues(**clues), zone=zone)
    return result
