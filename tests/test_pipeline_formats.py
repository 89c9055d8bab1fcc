"""Every format a family archive holds, through the whole per-file pipeline: its dimensions, a
thumbnail that decodes and is the right way up, its capture time and its fingerprint. Real files:
the corpus's AVIF, WebP, TIFF, MTS, MPG and WMV, and files made here as cameras and tools make
them (tests/media.py)."""

import io
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import rawpy
from PIL import Image

from jobs.pipeline import formats
from jobs.pipeline.analysis import analyse
from jobs.pipeline.perceptual import FINGERPRINT_LENGTH, camera_name, distance, fingerprint
from jobs.pipeline import raw
from jobs.pipeline.raw import open_raw, read_structure
from tests import media

ZONE = ZoneInfo("UTC")
PLUS_TWO = timezone(timedelta(hours=2))
CREATED = datetime(2009, 12, 25, 9, 30, 15, tzinfo=UTC)


def thumbnail_of(result) -> Image.Image:
    with Image.open(io.BytesIO(result.thumbnail)) as im:
        im.load()
        assert im.format == "WEBP"
        return im


def assert_complete(result, *, size: tuple[int, int], taken: datetime | None, upright: bool = True):
    """What a JPEG gets, every format gets."""
    assert result.error == ""
    assert (result.width, result.height) == size
    thumbnail = thumbnail_of(result)
    assert max(thumbnail.size) == min(320, max(size))
    assert (thumbnail.width >= thumbnail.height) == (size[0] >= size[1])
    if upright:
        assert media.is_upright(thumbnail)
    assert len(result.fingerprint) == FINGERPRINT_LENGTH
    if taken is None:
        assert result.capture.value is None or result.capture.confidence in ("low", "none")
    else:
        assert result.capture.value == taken and result.capture.confidence == "high"


# --- photos from the corpus -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative, taken",
    [
        ("drewnoakes/avif/Issue 649.avif", datetime(2015, 10, 11, 14, 41, 44, tzinfo=ZONE)),
        ("exif-py/avif/mountains.avif", datetime(2024, 4, 5, 10, 59, 24, tzinfo=ZONE)),
        ("libheif/examples/example.avif", None),
        ("immich/formats/webp/denali.webp", datetime(2010, 8, 13, 21, 0, 1, 850000, tzinfo=ZONE)),
    ],
)
def test_avif_and_webp_photos_of_the_corpus(relative, taken, copy_media, manifest):
    path = copy_media(relative, single=True)
    row = manifest[relative]

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == formats.by_name(path.name).mime_type
    assert_complete(result, size=(int(row["ImageWidth"]), int(row["ImageHeight"])), taken=taken, upright=False)
    assert result.sha256 == row["sha256"]


def test_a_tiny_tiff_of_the_corpus_is_read_and_shown_without_a_fingerprint(copy_media):
    path = copy_media("pillow-heif/non_heif/xmp.tiff", single=True)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert (result.error, result.mime_type, result.width, result.height) == ("", "image/tiff", 10, 10)
    assert thumbnail_of(result).size == (10, 10)
    assert not result.fingerprint  # 10x10 is too small to be compared (perceptual.MIN_SIDE)


# --- TIFF scans ------------------------------------------------------------------------------------


def test_a_tiff_scan_with_exif_and_orientation(tmp_path):
    path = tmp_path / "scan.tif"
    media.picture().rotate(90, expand=True).save(path, compression="tiff_lzw")  # stored on its side
    media.exiftool(path, "-Orientation#=6", "-DateTimeOriginal=2009:12:25 09:30:15", "-OffsetTimeOriginal=+00:00")

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == "image/tiff"
    assert_complete(result, size=(600, 400), taken=CREATED)


def test_a_multi_page_tiff_shows_its_first_page(tmp_path):
    path = tmp_path / "album.tiff"
    other = media.picture(900, 900).rotate(180)
    media.picture().save(path, save_all=True, append_images=[other, other])

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=None)


@pytest.mark.parametrize("kind", ["rgb16", "grey16", "cmyk"])
def test_deep_and_cmyk_tiffs_keep_their_colours(tmp_path, kind):
    path = tmp_path / f"{kind}.tif"
    picture = media.picture()
    if kind == "rgb16":
        media.tiff_16bit(path, picture)
    elif kind == "grey16":
        Image.fromarray(media.np.asarray(picture.convert("L"), dtype="uint16") * 257).save(path)
    else:
        picture.convert("CMYK").save(path)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=None, upright=kind != "grey16")
    thumbnail = thumbnail_of(result).convert("RGB")
    if kind == "grey16":
        # Scaled to 8 bits, not clipped: the white paper stays white, the red corner mid-grey.
        assert thumbnail.getpixel((160, 100))[0] > 240 and 60 < thumbnail.getpixel((5, 5))[0] < 100
    assert distance(result.fingerprint, fingerprint(picture)) <= 12


# --- WebP and HEIF sequences: the first picture -----------------------------------------------------


def test_an_animated_webp_shows_its_first_frame_with_its_exif_date(tmp_path):
    path = tmp_path / "sticker.webp"
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2009:12:25 09:30:15"}
    frames = [media.picture(), media.picture().rotate(180), media.picture().rotate(180)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0, exif=exif)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == "image/webp"
    assert_complete(result, size=(600, 400), taken=CREATED)


def test_a_heif_image_sequence_shows_its_first_picture(tmp_path):
    path = media.video(
        tmp_path / "burst.heif", format="mp4", codec="libx265", image=media.picture(320, 240),
        options={"brand": "msf1"}, codec_tag="hvc1",
    )  # fmt: skip

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == "image/heic-sequence"
    assert_complete(result, size=(320, 240), taken=None)


# --- RAW -------------------------------------------------------------------------------------------

# A DNG stored as the sensor saw it, on its side, with the orientation that turns it upright.
SENSOR = media.picture().rotate(90, expand=True)
DNG_EXIF = ("-DateTimeOriginal=2009:12:25 10:30:15", "-OffsetTimeOriginal=+01:00", "-SubSecTimeOriginal=25")


def test_a_dng_takes_its_picture_from_its_preview_and_its_exif_from_the_raw(tmp_path):
    preview = SENSOR.resize((320, 480))
    path = media.dng(tmp_path / "IMG_0001.DNG", SENSOR, orientation=6, preview=media.jpeg(preview), tags=DNG_EXIF)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == "image/x-adobe-dng"
    # The full RAW image's size, as shown: not the preview's.
    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert result.capture.value.utcoffset() == timedelta(hours=1)
    assert result.camera == "Testcam R1"
    assert result.shot == "Testcam R1|2009:12:25 10:30:15|25"
    # The picture is the preview's (480 px long), not the sensor's developed at half size (300).
    assert open_raw(path, formats.DNG).reduced.size == (480, 320)
    assert distance(result.fingerprint, fingerprint(media.picture())) <= 12


def test_a_dng_gives_the_exif_we_read_and_not_its_colour_calibration(tmp_path):
    # A time only in IFD0 (DateTime), as some cameras write it: IFD0 is handed on in part.
    tags = ("-ModifyDate=2009:12:25 10:30:15", "-OffsetTime=+01:00")
    path = media.dng(tmp_path / "IMG_0003.DNG", SENSOR, orientation=6, preview=media.jpeg(SENSOR.resize((320, 480))), tags=tags)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)
    exif = open_raw(path, formats.DNG).exif

    assert result.error == ""
    assert result.capture.value == CREATED  # a modification time: of medium confidence only
    assert result.camera == "Testcam R1"
    assert exif.get(0x0132) == "2009:12:25 10:30:15"
    assert 0xC621 not in exif  # ColorMatrix1: for developing the sensor data, which the preview spares


@pytest.mark.parametrize(
    "preview",
    [None, media.jpeg(SENSOR.resize((100, 150))), media.jpeg(SENSOR)[:3000], b"\xff\xd8\xff\xe0 not a picture"],
    ids=["none", "too small", "cut short", "broken"],
)
def test_a_dng_without_a_usable_preview_is_developed(tmp_path, preview):
    path = media.dng(tmp_path / "IMG_0002.dng", SENSOR, orientation=6, preview=preview, tags=DNG_EXIF)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert open_raw(path, formats.DNG).reduced.size == (600, 400)  # developed whole (too small to halve), turned
    assert distance(result.fingerprint, fingerprint(media.picture())) <= 12


# NEF, ARW and CR2 laid out as those makers' cameras lay them out (tests/media.py): the picture,
# its size and the capture time come from our reading of the structure alone. LibRaw reads the NEF
# and ARW (a camera it knows, sensor data it can develop) and refuses the CR2, whose sensor data
# (Canon's lossless JPEG slices) is left out: the preview path needs no LibRaw.
CAMERA_RAWS = [("DSC_0001.NEF", formats.NEF), ("DSC00001.ARW", formats.ARW), ("IMG_0001.CR2", formats.CR2)]
RAW_EXIF = (*DNG_EXIF, "-ExifImageWidth=400", "-ExifImageHeight=600")  # Canon states the size only there


def structure_of(path, media_type) -> tuple[Image.Exif, list[bytes]]:
    with open(path, "rb") as f:
        structure = read_structure(f, media_type)
        return structure.exif, [preview.read() for preview in structure.previews()]


@pytest.mark.parametrize("name, media_type", CAMERA_RAWS, ids=[k.label for _, k in CAMERA_RAWS])
def test_a_nef_arw_or_cr2_takes_its_picture_size_and_time_from_its_own_structure(tmp_path, name, media_type):
    preview = media.jpeg(SENSOR.resize((320, 480)))
    path = media.camera_raw(tmp_path / name, SENSOR, orientation=6, preview=preview, tags=RAW_EXIF)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == media_type.mime_type
    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert result.camera == camera_name(*media.CAMERAS[path.suffix.lstrip(".")])
    assert open_raw(path, media_type).reduced.size == (480, 320)  # the preview's, turned upright
    assert distance(result.fingerprint, fingerprint(media.picture())) <= 12
    if media_type is formats.CR2:
        with pytest.raises(rawpy.LibRawFileUnsupportedError):
            rawpy.imread(str(path))
    else:  # the size our reader states is LibRaw's
        with rawpy.imread(str(path)) as libraw:
            assert (libraw.sizes.width, libraw.sizes.height, libraw.sizes.flip) == (400, 600, 6)


@pytest.mark.parametrize("name, media_type", CAMERA_RAWS[:2], ids=["NEF", "ARW"])
def test_a_nef_or_arw_without_a_usable_preview_is_developed_by_libraw(tmp_path, name, media_type):
    preview = media.jpeg(SENSOR)[:3000]
    path = media.camera_raw(tmp_path / name, SENSOR, orientation=6, preview=preview, tags=RAW_EXIF)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert open_raw(path, media_type).reduced.size == (600, 400)  # developed whole, turned
    assert distance(result.fingerprint, fingerprint(media.picture())) <= 12


@pytest.mark.parametrize("at_offset", [True, False], ids=["offset past the end", "length past the end"])
def test_a_raw_whose_preview_points_outside_the_file_is_developed(tmp_path, at_offset):
    path = media.camera_raw(tmp_path / "DSC_0002.NEF", SENSOR, orientation=6, preview=media.jpeg(SENSOR), tags=RAW_EXIF)
    media.preview_pointing_outside(path, at_offset=at_offset)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert open_raw(path, formats.NEF).reduced.size == (600, 400)


def test_directories_and_exif_past_the_first_read_are_read_on(tmp_path, monkeypatch):
    preview = media.jpeg(SENSOR.resize((320, 480)))
    path = media.camera_raw(tmp_path / "DSC_0004.NEF", SENSOR, orientation=6, preview=preview, tags=RAW_EXIF)
    monkeypatch.setattr(raw, "HEAD_SIZE", 16)  # as if a camera wrote more than the first read takes

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert result.camera == "NIKON D850"
    assert open_raw(path, formats.NEF).reduced.size == (480, 320)  # the preview's, found past the first read


def test_exif_far_from_the_start_of_the_file_is_read_from_the_file(tmp_path, monkeypatch):
    path = media.camera_raw(tmp_path / "DSC_0003.NEF", SENSOR, orientation=6, preview=media.jpeg(SENSOR), tags=RAW_EXIF)
    monkeypatch.setattr(raw, "METADATA_SPAN", 64)  # as if the EXIF lay after the sensor data

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert_complete(result, size=(600, 400), taken=CREATED + timedelta(milliseconds=250))
    assert result.camera == "NIKON D850"


EXIF_IFD, GPS_IFD, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x8769, 0x8825, 0x9003, 0x9011


def camera_exif() -> tuple[Image.Exif, Image.Exif, Image.Exif]:
    ifd0, exif_ifd, gps = Image.Exif(), Image.Exif(), Image.Exif()
    ifd0[0x010F], ifd0[0x0110] = "Canon", "Canon EOS R5"
    exif_ifd[DATE_TIME_ORIGINAL], exif_ifd[OFFSET_TIME_ORIGINAL] = "2021:06:01 08:00:00", "+02:00"
    gps[0x001D], gps[0x0007] = "2021:06:01", (6.0, 0.0, 0.0)
    return ifd0, exif_ifd, gps


def assert_camera_exif(exif: Image.Exif):
    assert exif.get(0x0110) == "Canon EOS R5"
    assert exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] == "2021:06:01 08:00:00"
    assert exif.get_ifd(EXIF_IFD)[OFFSET_TIME_ORIGINAL] == "+02:00"
    assert exif.get_ifd(GPS_IFD)[0x001D] == "2021:06:01"


@pytest.mark.parametrize("magic, media_type", [(b"IIRO", formats.ORF), (b"IIU\0", formats.RW2), (b"II*\0", formats.NEF)])
def test_the_exif_of_a_tiff_structured_raw_is_read_under_its_own_magic_number(tmp_path, magic, media_type):
    ifd0, exif_ifd, gps = camera_exif()
    ifd0[EXIF_IFD], ifd0[GPS_IFD] = dict(exif_ifd), dict(gps)
    path = tmp_path / "raw"
    media.picture(64, 48).save(path, "TIFF", exif=ifd0.tobytes())
    path.write_bytes(magic + path.read_bytes()[4:])

    exif, previews = structure_of(path, media_type)
    assert_camera_exif(exif)
    assert previews == []  # its one picture is not a JPEG


PREVIEW = media.jpeg(media.picture())


@pytest.mark.parametrize(
    "magic, media_type, tags, found",
    [
        # Sony: IFD0 names its JPEG by offset and length.
        (b"II*\0", formats.ARW, lambda at: [(0x0201, 4, 1, at), (0x0202, 4, 1, len(PREVIEW))], True),
        # Canon CR2: IFD0 is the JPEG itself, one strip of "old JPEG" compression.
        (b"II*\0", formats.CR2, lambda at: [(0x0103, 3, 1, 6), (0x0111, 4, 1, at), (0x0117, 4, 1, len(PREVIEW))], True),
        # Panasonic RW2: the JPEG is the value of a tag of its own.
        (b"IIU\0", formats.RW2, lambda at: [(0x002E, 7, len(PREVIEW), at)], True),
        # A DNG's sensor data as lossless JPEG is no preview.
        (b"MM\0*", formats.DNG, lambda at: [
            (0x0103, 3, 1, 7), (0x0106, 3, 1, 32803), (0x0111, 4, 1, at), (0x0117, 4, 1, len(PREVIEW))
        ], False),  # fmt: skip
    ],
    ids=["ARW", "CR2", "RW2", "DNG sensor data"],
)
def test_previews_are_found_where_each_maker_stores_them(tmp_path, magic, media_type, tags, found):
    endian = ">" if magic.startswith(b"MM") else "<"
    entries = [(256, 4, 1, 600), (257, 4, 1, 400)]
    data_at = 8 + 2 + 12 * (len(entries) + len(tags(0))) + 4
    directory = media.tiff_directory(endian, sorted(entries + tags(data_at)))
    path = tmp_path / "raw"
    path.write_bytes(magic + (8).to_bytes(4, "little" if endian == "<" else "big") + directory + PREVIEW)

    _, previews = structure_of(path, media_type)

    assert previews == ([PREVIEW] if found else [])


def test_the_exif_of_a_cr3_is_joined_from_its_cmt_boxes(tmp_path):
    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    # Each CMT box holds a TIFF of its own: CMT1 IFD0, CMT2 the Exif IFD, CMT4 the GPS IFD.
    parts = zip((b"CMT1", b"CMT2", b"CMT4"), camera_exif())
    cmt = b"".join(box(name, part.tobytes()[len(b"Exif\0\0") :]) for name, part in parts)
    metadata = box(b"uuid", bytes.fromhex("85c0b687820f11e08111f4ce462b6a48") + cmt)
    path = tmp_path / "IMG_0001.CR3"
    path.write_bytes(box(b"ftyp", b"crx \0\0\0\1crx isom") + box(b"moov", metadata + box(b"mvhd", b"\0" * 100)))

    exif, previews = structure_of(path, formats.CR3)
    assert_camera_exif(exif)
    assert previews == []  # LibRaw finds a CR3's previews


@pytest.mark.parametrize(
    "header, name, expected",
    [
        (b"II*\0\x10\0\0\0CR\x02\0", "IMG_1.CR2", formats.CR2),
        (b"II*\0\x10\0\0\0CR\x02\0", "IMG_1.tif", formats.CR2),  # Canon's mark tells it whatever the name
        (b"II*\0\x08\0\0\0", "DSC_1.NEF", formats.NEF),
        (b"MM\0*\0\0\0\x08", "DSC_1.nef", formats.NEF),
        (b"II*\0\x08\0\0\0", "DSC_1.ARW", formats.ARW),
        (b"II*\0\x08\0\0\0", "DSC_1.dng", formats.DNG),
        (b"II*\0\x08\0\0\0", "scan.tif", formats.TIFF),
        (b"II*\0\x08\0\0\0", "", formats.TIFF),
        (b"IIRO\x08\0\0\0", "P1.ORF", formats.ORF),
        (b"IIU\0\x08\0\0\0", "P1.RW2", formats.RW2),
        (b"FUJIFILMCCD-RAW 0201FF383501", "DSCF1.RAF", formats.RAF),
        (b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom", "IMG_1.CR3", formats.CR3),
        (b"II*\0\x08\0\0\0", "DSC_1.jpg", formats.TIFF),  # a TIFF under a wrong name is a TIFF
    ],
)
def test_raw_files_are_told_by_their_first_bytes(header, name, expected):
    assert formats.sniff(header, name) == expected


# --- videos ----------------------------------------------------------------------------------------

VIDEOS = [
    # name, muxer, codec, muxer options, whether the container holds a creation time
    ("clip.m4v", "ipod", "libx264", {}, True),
    ("clip.3gp", "3gp", "mpeg4", {}, True),
    ("clip.webm", "webm", "libvpx", {}, True),
    ("clip.mkv", "matroska", "libx264", {}, True),
    ("clip.wmv", "asf", "wmv2", {}, True),
    ("clip.mts", "mpegts", "libx264", {"mpegts_m2ts_mode": "1"}, False),
    ("clip.m2ts", "mpegts", "libx264", {"mpegts_m2ts_mode": "1"}, False),
    ("clip.mpg", "mpeg", "mpeg1video", {}, False),
    ("clip.mpeg", "vob", "mpeg2video", {}, False),
]


@pytest.mark.parametrize("name, muxer, codec, options, dated", VIDEOS, ids=[v[0] for v in VIDEOS])
def test_each_video_container_gives_size_duration_poster_and_creation_time(tmp_path, name, muxer, codec, options, dated):
    path = media.video(
        tmp_path / name, format=muxer, codec=codec, image=media.picture(352, 288), created=CREATED, options=options,
        frames=20,
    )  # fmt: skip

    result = analyse(path, name=path.name, zone=ZoneInfo("Europe/Paris"), sidecars=False)

    assert result.mime_type == formats.by_name(name).mime_type
    assert 0.7 <= result.duration <= 0.9  # 20 frames at 25 a second
    assert_complete(result, size=(352, 288), taken=CREATED if dated else None)


@pytest.mark.parametrize(
    "relative, size, taken",
    [
        ("drewnoakes/mts/Sony ILCE-7M3 (A7M3).mts", (1920, 1080), datetime(2019, 4, 24, 22, 24, tzinfo=PLUS_TWO)),
        ("digicam/Sony/DSC-P5/MOMLV100/DSC00010.MPG", (320, 240), None),
    ],
)
def test_camera_videos_of_the_corpus(relative, size, taken, copy_media):
    path = copy_media(relative, single=True)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == formats.by_name(path.name).mime_type
    assert result.duration > 0
    assert_complete(result, size=size, taken=taken, upright=False)


def test_a_wmv_whose_pictures_cannot_be_read_still_gives_its_asf_creation_date(copy_media):
    # exiftool's sample: the header of a WMV without its pictures.
    path = copy_media("exiftool/ASF.wmv", single=True)

    result = analyse(path, name=path.name, zone=ZONE, sidecars=False)

    assert result.mime_type == "video/x-ms-wmv"
    assert result.error.startswith("Video is damaged")
    assert result.capture.value == datetime(2004, 10, 28, 17, 23, 34, 174000, tzinfo=UTC)
    assert result.capture.source == "video:creation_time"


@pytest.mark.parametrize(
    "header, expected",
    [
        (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"), formats.WMV),
        (b"\0\0\1\xba\x44\0\4\0\4\1", formats.MPEG),
        (b"\0\0\1\xb3\x16\0\xf0\xc4", formats.MPEG),
        ((b"\0\0\0\0\x47" + b"\0" * 187) * 4, formats.MTS),
        ((b"\x47" + b"\0" * 187) * 4, formats.MTS),
        (b"\x47" + b"\0" * 100, None),  # one sync byte is not a transport stream
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", formats.WEBM),
        (b"\0\0\0\x1cftypM4V \0\0\0\x01M4V M4A mp42", formats.MP4),
        (b"RIFF\0\0\0\0WEBPVP8 ", formats.WEBP),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", formats.AVIF),
        (b"\0\0\0\x1cftypmsf1\0\0\0\0msf1iso8hevc", formats.HEIF_SEQUENCE),
        (b"\0\0\0\x1cftypheic\0\0\0\0mif1heicmsf1", formats.HEIC),  # still items come first
    ],
)
def test_new_formats_are_told_by_their_first_bytes(header, expected):
    assert formats.sniff(header) == expected


@pytest.mark.parametrize(
    "header, name, expected",
    [
        (b"\0\0\0\x1cftypM4V \0\0\0\x01M4V M4A mp42", "clip.m4v", formats.M4V),
        (b"\0\0\0\x1cftyp3gp4\0\0\0\0isom3gp4", "clip.3GP", formats.THREE_GP),
        (b"\0\0\0\x1cftyp3gp4\0\0\0\0isom3gp4", "clip.mov", formats.MOV),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "clip.mkv", formats.MKV),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", "photo.heic", formats.AVIF),  # the content wins
        (b"\xff\xd8\xff\xe0", "photo.webp", formats.JPEG),
    ],
)
def test_the_name_chooses_among_the_types_of_the_family_the_content_shows(header, name, expected):
    assert formats.sniff(header, name) == expected
