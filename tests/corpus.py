"""The real-media corpus for tests: found through MEDIAIMPORT_CORPUS (default /work/shared/corpus),
never opened in place. Import the fixture into a test module to use it."""

import shutil
from pathlib import Path

import pytest

from benchmarks.evaluation_set import corpus_dir


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip("The media corpus is absent: set MEDIAIMPORT_CORPUS to its folder to run this test")
    return path


def copy_from_corpus(corpus: Path, relative: str, folder: Path) -> Path:
    """A private copy of a corpus file: the corpus itself is never opened, so never changed."""
    target = folder / Path(relative).name
    shutil.copyfile(corpus / relative, target)
    return target
