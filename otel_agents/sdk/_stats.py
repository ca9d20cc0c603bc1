"""``get_stats()``: the figures of ``otel-agents stats`` as Python rows, read from the local store."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from otel_agents.sdk._configure import current
from otel_agents.store import _db as db
from otel_agents.store import _metric_window as summary
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries
from otel_agents.store import _schema as schema

__all__ = ["get_stats", "metric_summary", "run_counts", "store_home"]


def _ns(value: dt.datetime | float | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1e9)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("since/until: expected a datetime or epoch seconds")
    return int(value * 1e9)


def get_stats(
    *,
    home: str | Path | None = None,
    since: dt.datetime | float | None = None,
    until: dt.datetime | float | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Per workflow, agent, tool and model: calls, errors, error rate, p50/p95/mean ms, tokens, cost.

    The store is this process's (flushed first) unless ``home`` names another; an absent store has
    no rows. ``since``/``until`` are datetimes or epoch seconds, applied at hour granularity.
    """
    rows = _read(home, lambda conn: queries.stats(conn, _ns(since), _ns(until)))
    return [r for r in rows if kind is None or r["kind"] == kind]


def run_counts(home: str | Path | None = None) -> list[dict[str, Any]]:
    """Per run name and status: runs, item totals, mean duration (this process's store, flushed)."""
    return _read(home, queries.run_counts)


def metric_summary(
    name: str,
    *,
    since: dt.datetime | float | None = None,
    until: dt.datetime | float | None = None,
    tags: Mapping[str, object] | None = None,
    home: str | Path | None = None,
) -> dict[str, Any]:
    """Summary statistics of the histogram ``name`` from the store (see ``store._metric_window``)."""
    since_ns, until_ns = _ns(since), _ns(until)
    rows = _read(
        home,
        lambda conn: [summary.metric_summary(conn, name, since_ns=since_ns, until_ns=until_ns, tags=tags)],
    )
    return rows[0] if rows else summary.empty(name)


def store_home(home: str | Path | None = None) -> Path:
    """``home``, else the store this process writes to, else the default store."""
    if home is not None:
        return Path(home).expanduser()
    active = current()
    if active is not None and active.store is not None:
        return Path(active.store.home)
    return paths.default_home()


def _read(
    home: str | Path | None, query: Callable[[sqlite3.Connection], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    where = store_home(home)
    active = current()
    if active is not None and active.store is not None and Path(active.store.home) == where:
        active.force_flush()
    path = paths.db_path(where)
    if not path.exists():
        return []
    conn = db.connect(path, readonly=True)
    try:
        schema.migrate(conn)
        return query(conn)
    finally:
        conn.close()
