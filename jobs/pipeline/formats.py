"""Which files are photos and videos we import, told by their name and by their first bytes.

Many formats share a container: a DNG, a NEF and a TIFF scan are all TIFF inside, an M4V and a 3GP
are MP4. The first bytes tell the container (the *family*); where the name is of a type of that
same family the name says which one it is, so a .nef is read as RAW and a .tif as a scan."""

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class MediaType:
    label: str  # what a person calls it: "JPEG", "HEIC", "QuickTime movie" …
    mime_type: str
    is_video: bool
    family: str  # the container its first bytes show
    is_raw: bool = False  # a camera's RAW file: its picture comes from its preview or LibRaw


JPEG = MediaType("JPEG", "image/jpeg", False, "jpeg")
PNG = MediaType("PNG", "image/png", False, "png")
GIF = MediaType("GIF", "image/gif", False, "gif")
HEIC = MediaType("HEIC", "image/heic", False, "heif")
# Pictures in a track, like a video's frames (bursts, animations): libheif reads only still items.
HEIF_SEQUENCE = MediaType("HEIF image sequence", "image/heic-sequence", False, "heif-sequence")
TIFF = MediaType("TIFF", "image/tiff", False, "tiff")
WEBP = MediaType("WebP", "image/webp", False, "webp")
AVIF = MediaType("AVIF", "image/avif", False, "avif")
DNG = MediaType("DNG RAW", "image/x-adobe-dng", False, "tiff", is_raw=True)
CR2 = MediaType("Canon CR2 RAW", "image/x-canon-cr2", False, "cr2", is_raw=True)  # its own mark
NEF = MediaType("Nikon NEF RAW", "image/x-nikon-nef", False, "tiff", is_raw=True)
ARW = MediaType("Sony ARW RAW", "image/x-sony-arw", False, "tiff", is_raw=True)
CR3 = MediaType("Canon CR3 RAW", "image/x-canon-cr3", False, "cr3", is_raw=True)
ORF = MediaType("Olympus ORF RAW", "image/x-olympus-orf", False, "orf", is_raw=True)
RW2 = MediaType("Panasonic RW2 RAW", "image/x-panasonic-rw2", False, "rw2", is_raw=True)
RAF = MediaType("Fujifilm RAF RAW", "image/x-fuji-raf", False, "raf", is_raw=True)
MP4 = MediaType("MP4 video", "video/mp4", True, "mp4")
MOV = MediaType("QuickTime movie", "video/quicktime", True, "mp4")
M4V = MediaType("M4V video", "video/x-m4v", True, "mp4")
THREE_GP = MediaType("3GP video", "video/3gpp", True, "mp4")
AVI = MediaType("AVI video", "video/x-msvideo", True, "avi")
MKV = MediaType("Matroska video", "video/x-matroska", True, "matroska")
WEBM = MediaType("WebM video", "video/webm", True, "matroska")
MTS = MediaType("AVCHD video", "video/mp2t", True, "mpeg-ts")
MPEG = MediaType("MPEG video", "video/mpeg", True, "mpeg-ps")
WMV = MediaType("Windows Media video", "video/x-ms-wmv", True, "asf")

# Names we import, lower-case. .heif and .hif (Canon) are the HEIC container under other names.
EXTENSIONS = {
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".gif": GIF,
    ".heic": HEIC,
    ".heif": HEIC,
    ".hif": HEIC,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".webp": WEBP,
    ".avif": AVIF,
    ".dng": DNG,
    ".cr2": CR2,
    ".cr3": CR3,
    ".nef": NEF,
    ".arw": ARW,
    ".orf": ORF,
    ".rw2": RW2,
    ".raf": RAF,
    ".mp4": MP4,
    ".mov": MOV,
    ".m4v": M4V,
    ".3gp": THREE_GP,
    ".avi": AVI,
    ".mkv": MKV,
    ".webm": WEBM,
    ".mts": MTS,
    ".m2ts": MTS,
    ".mpg": MPEG,
    ".mpeg": MPEG,
    ".wmv": WMV,
}
ALLOWED_NAMES = ", ".join(sorted({ext.lstrip(".") for ext in EXTENSIONS}))

# How many leading bytes sniff() needs: an MPEG transport stream shows itself by the sync bytes of
# its first three packets.
HEADER_SIZE = 1024

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"mif2", b"mif3"}
_HEIF_SEQUENCE_BRANDS = {b"msf1", b"hevc", b"hevx", b"hevs"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
# TIFF and the RAW formats that are TIFF with another magic number.
_TIFF_HEADERS = {b"II*\0": TIFF, b"MM\0*": TIFF, b"II+\0": TIFF, b"MM\0+": TIFF}
_TIFF_HEADERS |= {b"IIRO": ORF, b"IIRS": ORF, b"MMOR": ORF, b"IIU\0": RW2}


def by_name(name: str) -> MediaType | None:
    return EXTENSIONS.get(PurePath(name).suffix.lower())


def sniff(header: bytes, name: str = "") -> MediaType | None:
    """The media type the file's first bytes show, or None when they show none we import. With the
    file's name, the type that name gives when the content is of its family (a .m4v's MP4
    content is an M4V, a .nef's TIFF content a NEF)."""
    found = _by_content(header)
    named = by_name(name) if name else None
    if found is not None and named is not None and named.family == found.family:
        return named
    return found


def _by_content(header: bytes) -> MediaType | None:
    if header.startswith(b"\xff\xd8\xff"):
        return JPEG
    if header.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if header[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if (tiff := _TIFF_HEADERS.get(header[:4])) is not None:
        return CR2 if header[8:10] == b"CR" else tiff
    if header.startswith(b"FUJIFILMCCD-RAW "):
        return RAF
    if header[:4] == b"RIFF" and header[8:12] == b"AVI ":
        return AVI
    if header[:4] == b"RIFF" and header[8:12] == b"WEBP":
        return WEBP
    if header.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"webm" in header[:64] else MKV
    if header.startswith(_ASF_HEADER):
        return WMV
    if header[:4] in (b"\0\0\1\xba", b"\0\0\1\xb3"):  # an MPEG program stream pack, or bare MPEG video
        return MPEG
    if _is_transport_stream(header):
        return MTS
    if header[4:8] == b"ftyp":
        return _iso_media_type(header)
    if header[4:8] in _QUICKTIME_ATOMS:
        return MOV
    return None


def _is_transport_stream(header: bytes) -> bool:
    """188-byte .ts packets, or the 192-byte packets of .mts/.m2ts (a 4-byte time code first)."""
    return any(
        len(header) >= sync + 2 * size + 1 and all(header[sync + n * size] == 0x47 for n in range(3))
        for size, sync in ((188, 0), (192, 4))
    )


def _iso_media_type(header: bytes) -> MediaType | None:
    """ISO base media files (HEIC, AVIF, CR3, MP4, MOV) name their family in the ftyp box's brands."""
    box_size = int.from_bytes(header[:4], "big")
    major = header[8:12]
    compatible = {header[i : i + 4] for i in range(16, min(box_size, len(header)) - 3, 4)}
    brands = {major} | compatible
    if major == b"crx ":
        return CR3
    if b"avif" in brands or b"avis" in brands:
        return AVIF
    if brands & _HEIC_BRANDS:
        return HEIC  # a file with still items and a sequence too shows its still picture
    if brands & _HEIF_SEQUENCE_BRANDS:
        return HEIF_SEQUENCE
    if major == b"qt  ":
        return MOV
    return MP4


def read_header(path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEADER_SIZE)
