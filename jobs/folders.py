"""Finding the photos and videos in a server folder."""

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePath

from jobs.pipeline import formats

# Files that operating systems and sync tools leave beside photos; never media.
LITTER = {".ds_store", "thumbs.db", "desktop.ini", "icon\r", ".picasa.ini", "picasa.ini"}


# How a file without an extension is counted among the skipped.
NO_EXTENSION = "(no extension)"


def media_files(root: Path, skipped: Counter | None = None) -> Iterator[tuple[Path, str]]:
    """Every file below `root` whose name is of a type we import, with the folders between the root
    and it ('a/b'). Symlinks are never followed (a link could lead out of the folder, or in a
    circle), hidden folders and system litter are skipped. Depth-first and sorted within each
    folder, so the order is stable; memory holds one folder listing per level, not the tree.

    Every other regular file (not hidden, not litter) is counted in `skipped` by its lower-case
    extension, so the person learns what was left out."""
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
            elif entry.is_file(follow_symlinks=False) and entry.name.lower() not in LITTER:
                # AppleDouble "._IMG_1.JPG" files are skipped above with the other dot files.
                if formats.by_name(entry.name) is not None:
                    yield Path(entry.path), relative
                elif skipped is not None:
                    skipped[PurePath(entry.name).suffix.lower() or NO_EXTENSION] += 1
        stack.extend(reversed(subfolders))


def skipped_summary(skipped: dict[str, int]) -> str:
    """'.psd 3, .txt 1': the most frequent first."""
    return ", ".join(f"{ext} {n}" for ext, n in sorted(skipped.items(), key=lambda item: (-item[1], item[0])))
