"""Every setting that comes from the environment is read here, through these few helpers."""

import os
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, separator: str = ",") -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(separator) if item.strip()]


def secret_key(data_dir: Path) -> str:
    """DJANGO_SECRET_KEY, else a key generated once and kept, readable by its owner only."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    from django.utils.crypto import get_random_string

    data_dir.mkdir(parents=True, exist_ok=True)
    key = get_random_string(64, "abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)")
    # Written whole under a temporary name, then linked into place: when two processes start at
    # once, exactly one key wins and neither can read a half-written file.
    temporary = data_dir / f".secret_key.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
