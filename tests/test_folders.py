"""Scanning a server folder: only its own photos and videos, never through a symlink, whatever the
names and whatever else lies there."""

import os
import socket
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from jobs.folders import NO_EXTENSION, media_files


def photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), "teal").save(path, "JPEG")
    return path


def scan(root: Path, skipped: Counter | None = None) -> list[tuple[str, str]]:
    return [(str(path.relative_to(root)), folder) for path, folder in media_files(root, skipped)]


def test_a_folders_files_come_before_its_subfolders_in_name_order(tmp_path):
    for name in ["b.jpg", "a/2.png", "a/1.jpg", "a/z/deep.mov", "c.JPG", "notes.txt", "edit.psd"]:
        photo(tmp_path / name)

    assert scan(tmp_path) == [
        ("b.jpg", ""),
        ("c.JPG", ""),
        ("a/1.jpg", "a"),
        ("a/2.png", "a"),
        ("a/z/deep.mov", "a/z"),
    ]


def test_what_is_not_imported_is_counted_by_lower_case_extension_but_litter_is_not(tmp_path):
    for name in ["a.jpg", "b.PSD", "c.psd", "d/e.Txt", "d/README", "scan.tiff", "clip.WMV"]:
        photo(tmp_path / name)
    for litter in [".DS_Store", "Thumbs.db", "d/desktop.ini", "._a.jpg", ".hidden/x.txt"]:
        photo(tmp_path / litter)
    skipped = Counter()

    found = scan(tmp_path, skipped)

    assert [name for name, _ in found] == ["a.jpg", "clip.WMV", "scan.tiff"]
    assert skipped == {".psd": 2, ".txt": 1, NO_EXTENSION: 1}


def test_symlinks_are_never_followed_out_of_the_folder_or_within_it(tmp_path):
    outside = tmp_path / "outside"
    photo(outside / "private.jpg")
    root = tmp_path / "root"
    photo(root / "mine.jpg")
    (root / "link-to-folder").symlink_to(outside, target_is_directory=True)
    (root / "link-to-photo.jpg").symlink_to(outside / "private.jpg")
    (root / "link-to-own.jpg").symlink_to(root / "mine.jpg")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")

    assert scan(root) == [("mine.jpg", "")]


def test_a_root_that_is_itself_a_link_is_scanned_but_nothing_below_leaves_it(tmp_path):
    # The import services resolve the root before scanning; the scan itself must still not leave it.
    real = tmp_path / "real"
    photo(real / "in.jpg")
    (real / "out").symlink_to(tmp_path, target_is_directory=True)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)

    assert scan(link.resolve()) == [("in.jpg", "")]


def test_hidden_folders_system_litter_and_special_files_are_skipped(tmp_path):
    photo(tmp_path / "kept.jpg")
    photo(tmp_path / ".hidden" / "secret.jpg")
    photo(tmp_path / ".@__thumb" / "thumb.jpg")
    photo(tmp_path / "._kept.jpg")  # macOS AppleDouble
    (tmp_path / "Thumbs.db").write_bytes(b"junk")
    (tmp_path / ".DS_Store").write_bytes(b"junk")
    os.mkfifo(tmp_path / "pipe.jpg")  # opening it would wait forever for a writer
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "socket.jpg"))
        assert scan(tmp_path) == [("kept.jpg", "")]


@pytest.mark.parametrize(
    "name",
    [
        "Été à Ærøskøbing.jpg",
        "家族写真.JPG",
        "emoji 🎉.png",
        "a" * 251 + ".jpg",  # 255 bytes, the longest name Linux allows
        "é" * 125 + ".jpeg",  # 255 bytes in UTF-8
        "new\nline.jpg",
        "two..dots.jpg",
        "-rf.jpg",
        " leading space.jpg",
    ],
)
def test_any_name_the_file_system_allows_is_found_and_kept_as_it_is(tmp_path, name):
    photo(tmp_path / "album" / name)

    assert scan(tmp_path) == [(f"album/{name}", "album")]


def test_a_name_that_is_not_valid_utf8_is_found(tmp_path):
    # Old Windows shares and cameras leave Latin-1 names; Python keeps them as surrogate escapes.
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg")
    photo(Path(os.fsdecode(raw)))

    [(path, folder)] = list(media_files(tmp_path))
    assert os.fsencode(path) == raw and folder == ""


def test_an_unreadable_or_vanishing_subfolder_is_skipped_not_fatal(tmp_path):
    photo(tmp_path / "a.jpg")
    photo(tmp_path / "gone" / "b.jpg")
    found = media_files(tmp_path)
    assert next(found)[0].name == "a.jpg"
    (tmp_path / "gone" / "b.jpg").unlink()
    (tmp_path / "gone").rmdir()  # removed between listing the root and entering it

    assert list(found) == []


def test_a_deep_tree_does_not_exhaust_the_stack(tmp_path):
    folder = tmp_path
    for _ in range(300):
        folder = folder / "d"
    photo(folder / "bottom.jpg")

    [(path, relative)] = list(media_files(tmp_path))
    assert path.name == "bottom.jpg" and relative == "/".join(["d"] * 300)
