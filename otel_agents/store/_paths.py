"""Where a store lives on disk: the home directory and the files inside it, private to their owner."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

HOME_ENV: Final = "OTEL_AGENTS_HOME"
DB_NAME: Final = "store.sqlite"
NDJSON_DIR: Final = "otlp"
# Telemetry can hold prompts, ids and whatever redaction missed: only the owner may read it.
DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
# SQLite creates these beside the database with the database file's own permission bits.
DB_SIDE_FILES: Final = ("-wal", "-shm", "-journal")


def default_home() -> Path:
    """``$OTEL_AGENTS_HOME`` if set and non-empty, else ``~/.otel-agents``."""
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".otel-agents"


def db_path(home: Path) -> Path:
    """The SQLite database of a store."""
    return home / DB_NAME


def ndjson_dir(home: Path) -> Path:
    """The directory holding the OTLP JSON line files of a store."""
    return home / NDJSON_DIR


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as 0700 (whatever the umask); existing ones are left."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)


def tighten(path: Path, mode: int) -> None:
    """Make an existing file or folder of ours no more open than ``mode`` (older stores were 0644/0755)."""
    with contextlib.suppress(OSError):
        st = os.stat(path)
        if st.st_uid == os.geteuid() and st.st_mode & 0o777 & ~mode:
            os.chmod(path, st.st_mode & 0o777 & mode)


def private_db(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it, so its -wal and -shm follow; tighten old ones."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in DB_SIDE_FILES)):
        tighten(candidate, FILE_MODE)
