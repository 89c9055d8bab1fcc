"""`make bench`: run every benchmarks/*.py script not starting with "_", in name order, each in a
subprocess of its own, showing its output as it comes, then a summary. A script reports a missed
target by exiting non-zero; the runner exits non-zero if any did.

    python -m benchmarks                      # all of them
    python -m benchmarks import_throughput    # only those named
"""

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def scripts(names: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    if not names:
        return found
    wanted = {Path(n).stem for n in names}
    if unknown := wanted - {p.stem for p in found}:
        sys.exit(f"No benchmark named {', '.join(sorted(unknown))}; there are: {', '.join(p.stem for p in found)}")
    return [p for p in found if p.stem in wanted]


def main(names: list[str]) -> int:
    # Scripts import the project (and benchmarks._common) from the project root.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    outcomes = []
    for script in scripts(names):
        print(f"=== {script.stem}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env).returncode
        outcomes.append((script.stem, code, time.monotonic() - started))
        print(flush=True)
    print("=== summary")
    for name, code, seconds in outcomes:
        verdict = "ok" if code == 0 else f"missed or failed (exit {code})"
        print(f"  {name:<28} {verdict:<28} {seconds:6.1f} s")
    return 0 if all(code == 0 for _, code, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
