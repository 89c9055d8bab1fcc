"""Which files are photos and videos we import, told by their name and by their first bytes."""

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class MediaType:
    label: str  # what a person calls it: "JPEG", "HEIC", "QuickTime movie" …
    mime_type: str
    is_video: bool


JPEG = MediaType("JPEG", "image/jpeg", False)
PNG = MediaType("PNG", "image/png", False)
GIF = MediaType("GIF", "image/gif", False)
HEIC = MediaType("HEIC", "image/heic", False)
MP4 = MediaType("MP4 video", "video/mp4", True)
MOV = MediaType("QuickTime movie", "video/quicktime", True)
AVI = MediaType("AVI video", "video/x-msvideo", True)
MKV = MediaType("Matroska video", "video/x-matroska", True)

# Names we import, lower-case. .heif and .hif (Canon) are the HEIC container under other names.
EXTENSIONS = {
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".gif": GIF,
    ".heic": HEIC,
    ".heif": HEIC,
    ".hif": HEIC,
    ".mp4": MP4,
    ".mov": MOV,
    ".avi": AVI,
    ".mkv": MKV,
}
ALLOWED_NAMES = ", ".join(sorted({ext.lstrip(".") for ext in EXTENSIONS}))

# How many leading bytes sniff() needs.
HEADER_SIZE = 64

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def by_name(name: str) -> MediaType | None:
    return EXTENSIONS.get(PurePath(name).suffix.lower())


def sniff(header: bytes) -> MediaType | None:
    """The media type the file's first bytes show, or None when they show none we import."""
    if header.startswith(b"\xff\xd8\xff"):
        return JPEG
    if header.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if header[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if header[:4] == b"RIFF" and header[8:12] == b"AVI ":
        return AVI
    if header.startswith(b"\x1a\x45\xdf\xa3"):
        return MKV
    if header[4:8] == b"ftyp":
        return _iso_media_type(header)
    if header[4:8] in _QUICKTIME_ATOMS:
        return MOV
    return None


def _iso_media_type(header: bytes) -> MediaType | None:
    """ISO base media files (HEIC, MP4, MOV) name their family in the ftyp box's brands."""
    box_size = int.from_bytes(header[:4], "big")
    major = header[8:12]
    compatible = {header[i : i + 4] for i in range(16, min(box_size, len(header)) - 3, 4)}
    brands = {major} | compatible
    if b"avif" in brands or b"avis" in brands:
        return None  # AVIF shares HEIF's container but is a format we do not import
    if brands & _HEIC_BRANDS:
        return HEIC
    if major == b"qt  ":
        return MOV
    return MP4


def read_header(path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEADER_SIZE)
