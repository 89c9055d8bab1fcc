"""Finding the photos and videos in a server folder."""

import os
from collections.abc import Iterator
from pathlib import Path

from jobs.pipeline import formats

# Files that operating systems and sync tools leave beside photos; never media.
LITTER = {".ds_store", "thumbs.db", "desktop.ini", "icon\r", ".picasa.ini", "picasa.ini"}


def media_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every file below `root` whose name is of a type we import, with the folders between the root
    and it ('a/b'). Symlinks are never followed (a link could lead out of the folder, or in a
    circle), hidden folders and system litter are skipped. Depth-first and sorted within each
    folder, so the order is stable; memory holds one folder listing per level, not the tree."""
    stack = [(root, "")]
    while stack:
        folder, relative = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                subfolders.append((Path(entry.path), f"{relative}/{entry.name}" if relative else entry.name))
            elif entry.is_file(follow_symlinks=False) and _is_media_name(entry.name):
                yield Path(entry.path), relative
        stack.extend(reversed(subfolders))


def _is_media_name(name: str) -> bool:
    # AppleDouble "._IMG_1.JPG" files are skipped above with the other dot files.
    return name.lower() not in LITTER and formats.by_name(name) is not None
