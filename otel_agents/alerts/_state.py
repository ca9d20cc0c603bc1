"""Alert state and history in ``alerts.sqlite3`` beside the store's database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from otel_agents.store import _db as db

FILE_NAME: Final = "alerts.sqlite3"
INACTIVE: Final = "inactive"
PENDING: Final = "pending"
FIRING: Final = "firing"
RESOLVED: Final = "resolved"
ACKNOWLEDGED: Final = "acknowledged"
STATES: Final = (PENDING, FIRING, ACKNOWLEDGED, RESOLVED)

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS alerts (
        fingerprint TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        labels TEXT NOT NULL,
        annotations TEXT NOT NULL,
        value REAL,
        pending_ns INTEGER,
        started_ns INTEGER,
        ended_ns INTEGER,
        notified_ns INTEGER,
        acknowledged_by TEXT,
        updated_ns INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS history (
        id INTEGER PRIMARY KEY,
        time_ns INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        previous TEXT NOT NULL,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        value REAL,
        labels TEXT NOT NULL,
        notified INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS history_time ON history (time_ns)",
)


@dataclass
class AlertState:
    """One alert instance: a rule's series, or a manual alert by its dedup key."""

    fingerprint: str
    name: str
    source: str
    state: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    value: float | None = None
    pending_ns: int | None = None
    started_ns: int | None = None
    ended_ns: int | None = None
    notified_ns: int | None = None
    acknowledged_by: str | None = None
    updated_ns: int = 0


def path_of(home: Path) -> Path:
    """Where a store home keeps its alert state."""
    return home / FILE_NAME


class StateStore:
    """Read and write alert states; each change is one transaction, safe across processes."""

    def __init__(self, home: Path) -> None:
        self.path = path_of(home)
        self._conn = db.connect(self.path)
        with db.write_transaction(self._conn):
            for statement in _SCHEMA:
                self._conn.execute(statement)

    def close(self) -> None:
        """Release the connection."""
        self._conn.close()

    def get(self, fp: str) -> AlertState | None:
        """The alert with fingerprint ``fp``, if any."""
        cur = self._conn.execute("SELECT * FROM alerts WHERE fingerprint = ?", (fp,))
        row = cur.fetchone()
        return None if row is None else _state(dict(zip([d[0] for d in cur.description], row, strict=True)))

    def of_rule(self, name: str, source: str) -> list[AlertState]:
        """Every stored alert of one rule (or manual alert name)."""
        cur = self._conn.execute("SELECT * FROM alerts WHERE name = ? AND source = ?", (name, source))
        cols = [d[0] for d in cur.description]
        return [_state(dict(zip(cols, r, strict=True))) for r in cur.fetchall()]

    def all(self) -> list[AlertState]:
        """Every stored alert, firing first."""
        cur = self._conn.execute(
            "SELECT * FROM alerts ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'acknowledged' THEN 1"
            " WHEN 'pending' THEN 2 ELSE 3 END, updated_ns DESC"
        )
        cols = [d[0] for d in cur.description]
        return [_state(dict(zip(cols, r, strict=True))) for r in cur.fetchall()]

    def save(self, alert: AlertState, previous: str | None, *, notified: bool, now_ns: int) -> None:
        """Store ``alert``; a state change (``previous`` differs) also goes into the history."""
        alert.updated_ns = now_ns
        with db.write_transaction(self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO alerts (fingerprint, name, source, state, severity, labels,"
                " annotations, value, pending_ns, started_ns, ended_ns, notified_ns, acknowledged_by,"
                " updated_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert.fingerprint,
                    alert.name,
                    alert.source,
                    alert.state,
                    alert.severity,
                    _dumps(alert.labels),
                    _dumps(alert.annotations),
                    alert.value,
                    alert.pending_ns,
                    alert.started_ns,
                    alert.ended_ns,
                    alert.notified_ns,
                    alert.acknowledged_by,
                    now_ns,
                ),
            )
            if previous is not None and previous != alert.state:
                self._conn.execute(
                    "INSERT INTO history (time_ns, fingerprint, name, source, previous, state, severity,"
                    " value, labels, notified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        now_ns,
                        alert.fingerprint,
                        alert.name,
                        alert.source,
                        previous,
                        alert.state,
                        alert.severity,
                        alert.value,
                        _dumps(alert.labels),
                        int(notified),
                    ),
                )

    def delete(self, fp: str) -> None:
        """Forget an alert that went back to inactive without ever firing."""
        with db.write_transaction(self._conn):
            self._conn.execute("DELETE FROM alerts WHERE fingerprint = ?", (fp,))

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest state changes, newest first."""
        cur = self._conn.execute("SELECT * FROM history ORDER BY time_ns DESC, id DESC LIMIT ?", (limit,))
        cols = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            row = dict(zip(cols, r, strict=True))
            row["labels"] = orjson.loads(row["labels"])
            row["notified"] = bool(row["notified"])
            out.append(row)
        return out


def _dumps(value: Mapping[str, str]) -> str:
    return orjson.dumps(dict(value), option=orjson.OPT_SORT_KEYS).decode()


def _state(row: dict[str, Any]) -> AlertState:
    row["labels"] = orjson.loads(row["labels"])
    row["annotations"] = orjson.loads(row["annotations"])
    return AlertState(**row)
