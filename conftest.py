import os
from pathlib import Path

# Tests keep their database and files away from a developer's own data dir (./var).
os.environ.setdefault("MEDIAIMPORT_DATA_DIR", str(Path(__file__).parent / "var" / "test"))
