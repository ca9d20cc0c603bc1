"""Read-only access to the store for the UI: one short-lived connection per request."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from otel_agents.store import _paths as paths
from otel_agents.store import _schema as schema

# Short: a page that cannot read should say so quickly rather than hang the browser.
BUSY_TIMEOUT_MS: Final = 2000


class StoreUnavailable(Exception):
    """The store cannot be read: missing, broken, locked or too new. The message says which."""


@contextmanager
def read_only(home: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store at ``home`` (never creates, migrates or writes it).

    SQLite's ``mode=ro`` with WAL reads a consistent snapshot while other processes write.
    """
    path = paths.db_path(home)
    if not path.exists():
        raise StoreUnavailable(f"no store at {home} (run `otel-agents demo`, or point --home at one)")
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open the store database {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = schema.version(conn)
        if version > schema.LATEST:
            raise StoreUnavailable(
                f"the store's schema v{version} is newer than this otel-agents reads (v{schema.LATEST})"
            )
        if version < schema.LATEST:
            # Migrating writes; the UI never does. The next writing process migrates it.
            raise StoreUnavailable(
                f"the store's schema v{version} predates v{schema.LATEST}; run any otel-agents command"
                " that writes (or `otel-agents doctor`) once to migrate it"
            )
        yield conn
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot read the store database {path}: {exc}") from None
    finally:
        conn.close()
