"""One long-lived exiftool process (`-stay_open True -@ -`) that reads and writes metadata.

Starting exiftool costs about 0.18 s (Perl compiling its modules); a command sent to a running
process costs about 0.01 s. Each process that exports keeps one, started at its first use: the
cluster forks its workers, and a process inherited across a fork would be shared by two workers,
so a process started by another pid is never used.

A wrapper of our own rather than PyExifTool: the protocol is four lines (arguments, `-execute`,
wait for `{ready}`), and owning it lets us hand exiftool a fixed environment (TZ=UTC, so that
QuickTime times read back as UTC instants), keep its errors per command, and restart it after a
fork or a crash without a library's own idea of process lifetime."""

import atexit
import json
import os
import shutil
import subprocess
import threading

# Every command: machine-readable output, names as UTF-8, and QuickTime dates as the UTC instants
# the format defines them to be (without QuickTimeUTC exiftool would write the local clock as UTC).
COMMON_ARGS = ("-charset", "filename=utf8", "-api", "QuickTimeUTC=1")


class ExifToolError(Exception):
    """exiftool refused or failed a command; the message is its own."""


class ExifToolMissing(ExifToolError):
    pass


class ExifTool:
    def __init__(self, executable: str = "exiftool"):
        self.executable = executable
        self.process: subprocess.Popen | None = None
        self.pid = None
        self.counter = 0
        self.lock = threading.Lock()

    def _start(self) -> None:
        path = shutil.which(self.executable)
        if path is None:
            raise ExifToolMissing(
                "exiftool is not installed: `make run` installs it (Debian's libimage-exiftool-perl)."
            )
        self.process = subprocess.Popen(
            [path, "-stay_open", "True", "-@", "-", "-common_args", *COMMON_ARGS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TZ": "UTC", "LC_ALL": "C.UTF-8"},
        )
        self.pid = os.getpid()

    def execute(self, *args: str) -> tuple[str, str]:
        """Run one command; (stdout, stderr) as exiftool printed them."""
        with self.lock:
            if self.process is None or self.pid != os.getpid() or self.process.poll() is not None:
                self._start()
            self.counter += 1
            ready = f"{{ready{self.counter}}}"
            lines = [*args, "-echo4", ready, f"-execute{self.counter}", ""]
            if any("\n" in a for a in args):
                raise ValueError("exiftool arguments are sent one a line and cannot hold a newline")
            try:
                self.process.stdin.write("\n".join(lines).encode())
                self.process.stdin.flush()
                out = _read_until(self.process.stdout, ready)
                err = _read_until(self.process.stderr, ready)
            except (BrokenPipeError, EOFError) as e:
                self.process = None
                raise ExifToolError(f"exiftool stopped: {e}") from None
            return out, err

    def read(self, path, tags: list[str]) -> dict:
        """The tags of one file as exiftool names them with -G1 (e.g. "Track1:TrackCreateDate")."""
        out, err = self.execute("-j", "-G1", *[f"-{t}" for t in tags], str(path))
        try:
            return json.loads(out)[0] if out.strip() else {}
        except (ValueError, IndexError):
            raise ExifToolError(err.strip() or "exiftool gave no answer") from None

    def write(self, source, target, assignments: dict[str, str]) -> None:
        """Write `assignments` ({"EXIF:DateTimeOriginal": "2019:07:14 15:30:00", ...}) into a new
        file `target` made from `source`; `source` itself is never touched. Raises on failure, and
        then no `target` is left."""
        args = [f"-{tag}={value}" for tag, value in assignments.items()]
        out, err = self.execute("-m", *args, "-o", str(target), str(source))
        if "1 image files created" not in out and "1 image files updated" not in out:
            raise ExifToolError(_first_error(err) or out.strip() or "exiftool wrote nothing")

    def close(self) -> None:
        with self.lock:
            if self.process is not None and self.pid == os.getpid() and self.process.poll() is None:
                try:
                    self.process.stdin.write(b"-stay_open\nFalse\n")
                    self.process.stdin.flush()
                    self.process.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    self.process.kill()
            self.process = None


def _read_until(stream, marker: str) -> str:
    lines = []
    wanted = marker.encode()
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("exiftool closed its output")
        if line.rstrip(b"\r\n") == wanted:
            return b"".join(lines).decode("utf-8", "replace")
        lines.append(line)


def _first_error(err: str) -> str:
    for line in err.splitlines():
        if line.startswith("Error"):
            return line
    return err.strip()


_shared: ExifTool | None = None


def shared() -> ExifTool:
    """This process's exiftool, started at first use and stopped when the process exits."""
    global _shared
    if _shared is None:
        _shared = ExifTool()
        atexit.register(_shared.close)
    return _shared
