"""Which server folders the web page and the API may import: only those inside
MEDIAIMPORT_IMPORT_ROOTS, with symlinks and '..' resolved first. manage.py import_path is an
operator's tool and does not ask."""

import os
from pathlib import Path

from django.conf import settings

from jobs.services.imports import ImportRefused


class ImportForbidden(ImportRefused):
    """The folder is outside the import roots (or none are configured)."""


def folder_in_import_roots(path: Path) -> Path:
    """The folder `path` names, resolved, when it lies inside an import root.

    A path outside every root is refused before anything is looked up, so that the answer tells
    nothing about what exists elsewhere on the server; a path inside is resolved again strictly, so
    a symlink inside a root that points outside is refused too."""
    if not path.is_absolute():
        raise ImportRefused(f"The path must be absolute: {path}")
    roots = [root.resolve() for root in settings.MEDIAIMPORT_IMPORT_ROOTS]
    if not roots:
        raise ImportForbidden(
            "Importing server folders is switched off: no folder is listed in MEDIAIMPORT_IMPORT_ROOTS."
        )
    # realpath, unlike Path.resolve, does not raise on a symlink loop.
    _check_inside(Path(os.path.realpath(path)), roots, path)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ImportRefused(f"No such folder: {path}") from None
    _check_inside(resolved, roots, path)
    if not resolved.is_dir():
        raise ImportRefused(f"Not a folder: {path}")
    return resolved


def _check_inside(resolved: Path, roots: list[Path], asked: Path) -> None:
    if not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise ImportForbidden(f"{asked} is outside the folders this server may import from ({allowed}).")
