"""A consistent copy of a store: SQLite's online backup of the database plus the NDJSON files."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from otel_agents.store import _paths as paths

# Pages copied per step: small steps let concurrent writers in between (SQLite restarts the copy
# of pages they change, so the result is still one consistent snapshot).
PAGES_PER_STEP: Final = 256
_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class BackupResult:
    """What one backup copied."""

    target: Path
    database_bytes: int
    ndjson_files: int
    ndjson_bytes: int


def backup(home: Path, target: Path) -> BackupResult:
    """Copy the store at ``home`` into the directory ``target`` (which must not hold a store yet).

    The database is copied with SQLite's backup API while writers keep writing; each NDJSON file is
    copied up to its last complete line at the moment it is read, so a copy never ends in a torn line.
    """
    source_db = paths.db_path(home)
    if not source_db.exists():
        raise FileNotFoundError(f"no store at {home}")
    target_db = paths.db_path(target)
    if target_db.exists():
        raise FileExistsError(f"{target_db} already exists; back up into a new directory")
    # The copy is as private as the store (0700 folders, 0600 files), whatever the umask.
    paths.private_dir(target)
    # NDJSON first: the database copy then holds at least what the line files hold.
    files, copied = _copy_ndjson(paths.ndjson_dir(home), paths.ndjson_dir(target))
    src = sqlite3.connect(f"file:{source_db}?mode=ro", uri=True, timeout=10)
    paths.private_db(target_db)
    dst = sqlite3.connect(str(target_db))
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        dst.execute("PRAGMA journal_mode = DELETE")
        (ok,) = dst.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            raise sqlite3.DatabaseError(f"backup integrity check failed: {ok}")
    finally:
        dst.close()
        src.close()
    return BackupResult(target, target_db.stat().st_size, files, copied)


def _copy_ndjson(source: Path, target: Path) -> tuple[int, int]:
    if not source.is_dir():
        return 0, 0
    paths.private_dir(target)
    files = total = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        out = target / path.relative_to(source)
        paths.private_dir(out.parent)
        total += _copy_complete_lines(path, out)
        files += 1
    return files, total


def _copy_complete_lines(path: Path, out: Path) -> int:
    """Copy ``path`` up to its size now, then cut the copy after its last newline."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.FILE_MODE)
    paths.tighten(out, paths.FILE_MODE)
    with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
        size = os.fstat(src.fileno()).st_size
        left = size
        while left > 0:
            chunk = src.read(min(_CHUNK, left))
            if not chunk:
                break
            dst.write(chunk)
            left -= len(chunk)
        written = size - left
    if written:
        with out.open("rb+") as fh:
            cut = _last_newline_end(fh, written)
            fh.truncate(cut)
            return cut
    return 0


def _last_newline_end(f: BinaryIO, size: int) -> int:
    pos = size
    while pos > 0:
        step = min(_CHUNK, pos)
        f.seek(pos - step)
        block = f.read(step)
        index = block.rfind(b"\n")
        if index >= 0:
            return pos - step + index + 1
        pos -= step
    return 0
