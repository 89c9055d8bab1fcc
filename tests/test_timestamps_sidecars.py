"""Sidecars next to a photo: Google Takeout's JSON, with its naming quirks, and XMP."""

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from jobs.pipeline.timestamps import Clues, read_capture_time
from jobs.pipeline.timestamps import sidecars

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 1, 1, tzinfo=UTC)
TAKEN = 1420113600  # 2015-01-01T12:00:00Z
ALGARVE = "Holiday in the Algarve with the whole family 2015.jpg"


@pytest.fixture
def album(tmp_path):
    """album.photo(name, exif_original=None) writes a JPEG; album.takeout(json_name, ...) and
    album.xmp(name, ...) write sidecars next to it; album.read(name) reads its capture time."""

    class Album:
        folder = tmp_path / "Takeout" / "Google Photos" / "Photos from 2015"

        def photo(self, name, *, exif_original=None):
            self.folder.mkdir(parents=True, exist_ok=True)
            exif = Image.Exif()
            if exif_original:
                exif.get_ifd(0x8769)[0x9003] = exif_original
            Image.new("RGB", (8, 8), "blue").save(self.folder / name, "JPEG", exif=exif)
            return self.folder / name

        def takeout(self, json_name, *, title, taken=TAKEN):
            data = {
                "title": title,
                "description": "",
                "creationTime": {"timestamp": "1600000000", "formatted": "13 Sep 2020, 12:26:40 UTC"},
                "photoTakenTime": {"timestamp": str(taken), "formatted": "1 Jan 2015, 12:00:00 UTC"},
            }
            (self.folder / json_name).write_text(json.dumps(data), encoding="utf-8")

        def xmp(self, name, body):
            (self.folder / name).write_text(
                '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
                f'xmlns:xmp="http://ns.adobe.com/xap/1.0/">{body}</rdf:Description></rdf:RDF></x:xmpmeta>',
                encoding="utf-8",
            )

        def read(self, name):
            path = self.folder / name
            with Image.open(path) as im:
                clues = Clues(name=name, path=path, exif=im.getexif())
            return read_capture_time(clues, zone=PARIS, now=NOW)

    return Album()


def test_takeouts_photo_taken_time_is_a_record_in_utc(album):
    album.photo("IMG_1234.jpg")
    album.takeout("IMG_1234.jpg.json", title="IMG_1234.jpg")

    capture = album.read("IMG_1234.jpg")

    assert (capture.source, capture.confidence) == ("sidecar:takeout", "high")
    assert capture.value == datetime(2015, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))  # 12:00 UTC in Paris
    assert capture.evidence[0].raw == str(TAKEN)
    assert capture.evidence[0].note == "UTC, shown in Europe/Paris; from IMG_1234.jpg.json"


@pytest.mark.parametrize(
    "photo, sidecar",
    [
        ("IMG_1234.jpg", "IMG_1234.jpg.supplemental-metadata.json"),
        ("IMG_1234.jpg", "IMG_1234.jpg.supplemental-metad.json"),  # cut to fit
        ("IMG_1234.jpg", "IMG_1234.jpg.suppl.json"),
        ("IMG_1234(1).jpg", "IMG_1234.jpg(1).json"),  # the number moves behind the extension
        ("IMG_1234(1).jpg", "IMG_1234.jpg.supplemental-metadata(1).json"),
        ("IMG_1234-edited.jpg", "IMG_1234.jpg.json"),  # edited copies share the original's
        ("IMG_1234-edited(2).jpg", "IMG_1234.jpg(2).json"),
        ("IMG_1234.jpg", "IMG_1234.json"),  # older exports dropped the extension
        # Names cut to 46 characters before ".json", sometimes into the media name itself.
        ("Holiday in the Algarve with the whole family 2015.jpg", f"{ALGARVE[:46]}.json"),
        ("Family dinner at grandmas house on New Years Eve.jpg", "Family dinner at grandmas house on New Years E.json"),
        ("Holiday in Portugal 2015.jpg", "Holiday in Portugal 2015.jpg.supplemental-meta.json"),
    ],
)
def test_takeout_sidecars_are_found_under_their_quirky_names(album, photo, sidecar):
    album.photo(photo)
    album.takeout(sidecar, title=photo.replace("-edited", "").replace("(1)", "").replace("(2)", ""))

    capture = album.read(photo)

    assert capture.source == "sidecar:takeout"
    assert capture.evidence[0].note.endswith(f"from {sidecar}")


def test_a_numbered_copy_never_takes_the_first_ones_sidecar(album):
    album.photo("IMG_1234.jpg")
    album.photo("IMG_1234(1).jpg")
    album.takeout("IMG_1234.jpg.json", title="IMG_1234.jpg", taken=TAKEN)
    album.takeout("IMG_1234.jpg(1).json", title="IMG_1234.jpg", taken=TAKEN + 3600)

    first, second = album.read("IMG_1234.jpg"), album.read("IMG_1234(1).jpg")

    assert second.value - first.value == timedelta(hours=1)
    assert second.evidence[0].note.endswith("from IMG_1234.jpg(1).json")


def test_a_cut_name_is_used_only_when_the_jsons_title_confirms_it(album):
    other_year = ALGARVE.replace("2015", "2016")
    album.photo(other_year)
    album.takeout(f"{ALGARVE[:46]}.json", title=ALGARVE)  # the same first 46 characters

    capture = album.read(other_year)

    assert capture.source == ""  # nothing but that other photo's JSON, which is left alone
    assert capture.confidence == "none"


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{not json", "unreadable: "),
        ('{"title": "IMG_1.jpg"}', "no photoTakenTime"),
        ('{"title": "IMG_1.jpg", "photoTakenTime": {"timestamp": "soon"}}', "photoTakenTime is not a timestamp"),
        ('{"photoTakenTime": {"timestamp": "99999999999999999999"}}', "photoTakenTime is not a timestamp"),
        ('{"title": "IMG_1.jpg", "photoTakenTime": {"timestamp": "0"}}', "1970-01-01, the Unix epoch"),
    ],
)
def test_a_broken_takeout_sidecar_is_rejected_evidence(album, content, problem):
    album.photo("IMG_1.jpg")
    (album.folder / "IMG_1.jpg.json").write_text(content, encoding="utf-8")

    capture = album.read("IMG_1.jpg")

    assert capture.confidence == "none"
    assert not capture.evidence[0].accepted and capture.evidence[0].note.startswith(problem)


@pytest.mark.parametrize("sidecar", ["DSC_0001.JPG.xmp", "DSC_0001.xmp", "dsc_0001.XMP"])
def test_an_xmp_sidecar_gives_the_capture_time(album, sidecar):
    album.photo("DSC_0001.JPG")
    album.xmp(sidecar, "<exif:DateTimeOriginal>2021-07-14T10:00:00+02:00</exif:DateTimeOriginal>")

    capture = album.read("DSC_0001.JPG")

    assert (capture.source, capture.confidence) == ("sidecar:xmp:exif:DateTimeOriginal", "high")
    assert capture.value == datetime(2021, 7, 14, 8, tzinfo=UTC)
    assert capture.evidence[0].note == f"from {sidecar}"


def test_the_files_own_record_beats_its_sidecar_and_a_disagreement_is_flagged(album):
    album.photo("DSC_0001.JPG", exif_original="2021:07:14 10:00:00")
    album.xmp("DSC_0001.xmp", '<xmp:CreateDate>2021-07-14T10:00:00</xmp:CreateDate>')
    album.takeout("DSC_0001.JPG.json", title="DSC_0001.JPG", taken=TAKEN)

    capture = album.read("DSC_0001.JPG")

    assert capture.source == "exif:DateTimeOriginal"
    assert (capture.confidence, capture.conflict) == ("low", True)  # Takeout says 2015
    assert [item.source for item in capture.evidence] == [
        "exif:DateTimeOriginal",
        "sidecar:takeout",
        "sidecar:xmp:xmp:CreateDate",
    ]


def test_a_folder_is_listed_once_for_all_its_files_and_again_when_it_changes(album, monkeypatch):
    names = [f"IMG_{n:04d}.jpg" for n in range(30)]
    for name in names:
        album.photo(name)
        album.takeout(f"{name}.json", title=name)
    listed = []
    scandir = os.scandir
    monkeypatch.setattr(sidecars.os, "scandir", lambda path: listed.append(path) or scandir(path))

    captures = [album.read(name) for name in names]

    assert {capture.source for capture in captures} == {"sidecar:takeout"}
    assert len(listed) == 1
    album.photo("IMG_9999.jpg")
    album.takeout("IMG_9999.jpg.json", title="IMG_9999.jpg")
    later = os.stat(album.folder).st_mtime_ns + 1_000_000_000
    os.utime(album.folder, ns=(later, later))  # whatever the file system's time resolution
    assert album.read("IMG_9999.jpg").source == "sidecar:takeout"
    assert len(listed) == 2


def test_a_linked_sidecar_is_not_followed(album, tmp_path):
    album.photo("IMG_1.jpg")
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"title": "IMG_1.jpg", "photoTakenTime": {"timestamp": str(TAKEN)}}))
    os.symlink(elsewhere, album.folder / "IMG_1.jpg.json")

    assert album.read("IMG_1.jpg").evidence == ()


def test_reading_sidecars_changes_nothing(album):
    photo = album.photo("IMG_1234.jpg", exif_original="2015:01:01 13:00:00")
    album.takeout("IMG_1234.jpg.json", title="IMG_1234.jpg")
    album.xmp("IMG_1234.xmp", "<exif:DateTimeOriginal>2015-01-01T13:00:00</exif:DateTimeOriginal>")
    files = sorted(album.folder.iterdir())
    before = [(f.name, f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files]

    album.read(photo.name)

    assert sorted(album.folder.iterdir()) == files
    assert [(f.name, f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files] == before
