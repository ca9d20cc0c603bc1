"""Where a store lives on disk: the home directory and the files inside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

HOME_ENV: Final = "OTEL_AGENTS_HOME"
DB_NAME: Final = "store.sqlite"
NDJSON_DIR: Final = "otlp"


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
