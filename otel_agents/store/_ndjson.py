"""Append-only OTLP/JSON line files rotated daily and by size; a reader that skips torn lines."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from otel_agents.store._paths import DIR_MODE, FILE_MODE, private_dir, tighten

DEFAULT_MAX_FILE_BYTES: Final = 64 * 1024 * 1024
SIGNALS: Final = ("traces", "metrics", "logs")
# Each writer (one per signal per process) appends to files no one else opens, so a writer killed
# mid-write can only tear the last line of its own file, and nothing is ever appended after it.
_NAME_RE: Final = re.compile(r"^(traces|metrics|logs)-(\d{8})-(\d+)-([0-9a-f]{8})-(\d+)\.ndjson$")


@dataclass(frozen=True)
class FileName:
    """The parts of a line file's name: ``{signal}-{YYYYMMDD}-{pid}-{token}-{seq}.ndjson``."""

    signal: str
    day: str
    pid: int
    token: str
    seq: int

    @classmethod
    def parse(cls, name: str) -> FileName | None:
        """The parts of ``name``, or None for a file that is not ours."""
        m = _NAME_RE.match(name)
        if m is None:
            return None
        return cls(m[1], m[2], int(m[3]), m[4], int(m[5]))

    def render(self) -> str:
        return f"{self.signal}-{self.day}-{self.pid}-{self.token}-{self.seq:04d}.ndjson"


def _today() -> str:
    return time.strftime("%Y%m%d", time.gmtime())


class LineWriter:
    """Appends complete lines for one signal of one process, in one ``write()`` per batch."""

    def __init__(self, directory: Path, signal: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self._dir = directory
        self._signal = signal
        self._max_bytes = max_bytes
        self._fd: int | None = None
        self._name: FileName | None = None
        self._size = 0
        self._seq = 0
        self._pid = os.getpid()
        # Containers sharing a volume can reuse pids: the random token keeps file names unique.
        self._token = os.urandom(4).hex()

    @property
    def path(self) -> Path | None:
        """The file currently appended to, if any."""
        return None if self._name is None else self._dir / self._name.render()

    def write_lines(self, lines: list[bytes]) -> None:
        """Append ``lines`` (each without its newline) as one write; raises OSError on failure."""
        if not lines:
            return
        # The empty last item gives the final newline without copying the whole batch again.
        data = b"\n".join([*lines, b""])
        fd = self._file_for(len(data))
        view = memoryview(data)
        try:
            while view:
                n = os.write(fd, view)
                view = view[n:]
        except OSError:
            # A partial write leaves a torn line: cut it off, so the file stays whole and takes the
            # next batch (a full disk then costs no new file per failed batch). Only when even that
            # fails does the next batch go to a fresh file.
            try:
                os.ftruncate(fd, self._size)
            except OSError:
                self._close_fd()
                self._seq += 1
            raise
        self._size += len(data)

    def _file_for(self, incoming: int) -> int:
        if self._pid != os.getpid():
            # After fork the descriptor is shared with the parent: never append to its file.
            self._fd, self._name, self._size, self._seq = None, None, 0, 0
            self._pid = os.getpid()
            self._token = os.urandom(4).hex()
        day = _today()
        if self._fd is not None and self._name is not None and os.fstat(self._fd).st_nlink == 0:
            # Our file was deleted: appending to it would lose every line without an error.
            self._close_fd()
            self._name = None
        if self._fd is not None and self._name is not None:
            if self._name.day == day and self._size + incoming <= self._max_bytes:
                return self._fd
            self._close_fd()
            self._seq = 0 if self._name is None or self._name.day != day else self._seq + 1
        private_dir(self._dir)
        tighten(self._dir, DIR_MODE)
        name = FileName(self._signal, day, self._pid, self._token, self._seq)
        fd = os.open(self._dir / name.render(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        self._fd, self._name, self._size = fd, name, os.fstat(fd).st_size
        return fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None

    def close(self) -> None:
        """Close the current file (the next write opens it again)."""
        if self._pid == os.getpid():
            self._close_fd()
        self._fd = None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


@dataclass
class ReadReport:
    """What a read found: good records and torn (unparseable or unterminated) lines."""

    records: int = 0
    torn: int = 0
    torn_at: list[str] = field(default_factory=list)


def list_files(directory: Path, signal: str | None = None) -> list[Path]:
    """Our line files in ``directory``, oldest first (by day, then last write)."""
    if not directory.is_dir():
        return []
    found: list[tuple[str, int, int, Path]] = []
    for entry in os.scandir(directory):
        parsed = FileName.parse(entry.name)
        if parsed is not None and (signal is None or parsed.signal == signal):
            try:
                mtime = entry.stat().st_mtime_ns
            except OSError:
                continue
            found.append((parsed.day, mtime, parsed.seq, Path(entry.path)))
    found.sort(key=lambda f: f[:3])
    return [f[3] for f in found]


def read_file(path: Path, report: ReadReport | None = None) -> Iterator[dict[str, Any]]:
    """Yield each whole OTLP/JSON request in ``path``; torn lines are skipped and counted."""
    report = report if report is not None else ReadReport()
    with path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                report.torn += 1
                report.torn_at.append(f"{path.name}:{lineno}")
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                report.torn += 1
                report.torn_at.append(f"{path.name}:{lineno}")
                continue
            if isinstance(obj, dict):
                report.records += 1
                yield obj
            else:
                report.torn += 1
                report.torn_at.append(f"{path.name}:{lineno}")


def tail_is_torn(path: Path) -> bool:
    """Whether ``path`` ends in an unterminated line (cheap: reads one byte)."""
    try:
        return path.stat().st_size > 0 and not _ends_with_newline(path)
    except OSError:
        return False
