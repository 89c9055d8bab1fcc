"""SHA-256 of a file, read in chunks so memory stays flat whatever the file's size."""

import hashlib
from pathlib import Path

CHUNK_SIZE = 1024 * 1024


def sha256_of(path: Path) -> tuple[str, int]:
    """The hex SHA-256 of the file and the number of bytes read."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        buffer = bytearray(CHUNK_SIZE)
        view = memoryview(buffer)
        while n := f.readinto(buffer):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size
