"""The store's SQLite schema as ordered migrations, applied once by whoever opens it first."""

from __future__ import annotations

import sqlite3
from typing import Final

from otel_agents.store import _db as db

# Each entry upgrades the schema from version i to i + 1; never edit a released entry.
MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: spans, runs, events, logs, metric points, resources, persisted counters.
    """
    CREATE TABLE resources (
        id INTEGER PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        service TEXT,
        attributes TEXT,
        schema_url TEXT
    );
    CREATE TABLE spans (
        id INTEGER PRIMARY KEY,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        kind INTEGER NOT NULL,
        start_ns INTEGER NOT NULL,
        end_ns INTEGER NOT NULL,
        duration_ns INTEGER NOT NULL,
        status_code INTEGER NOT NULL,
        status_message TEXT,
        service TEXT,
        resource_id INTEGER,
        scope_name TEXT,
        scope_version TEXT,
        operation TEXT,
        agent TEXT,
        tool TEXT,
        model TEXT,
        provider TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd REAL,
        error_type TEXT,
        run_id TEXT,
        session_id TEXT,
        user_id TEXT,
        attributes TEXT,
        links TEXT,
        trace_state TEXT,
        flags INTEGER
    );
    CREATE INDEX spans_trace ON spans (trace_id);
    CREATE INDEX spans_start ON spans (start_ns);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL,
        start_ns INTEGER NOT NULL,
        end_ns INTEGER NOT NULL,
        duration_ns INTEGER NOT NULL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd REAL,
        error_type TEXT,
        error_message TEXT,
        run_id TEXT,
        session_id TEXT,
        user_id TEXT,
        service TEXT,
        items_discovered INTEGER,
        items_succeeded INTEGER,
        items_failed INTEGER,
        input_summary TEXT,
        output_summary TEXT,
        metrics TEXT,
        metadata TEXT
    );
    CREATE INDEX runs_start ON runs (start_ns);
    CREATE INDEX runs_name ON runs (name, start_ns);
    CREATE INDEX runs_run_id ON runs (run_id);
    CREATE INDEX runs_session ON runs (session_id);
    CREATE INDEX runs_user ON runs (user_id);
    CREATE INDEX runs_trace ON runs (trace_id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        time_ns INTEGER NOT NULL,
        name TEXT NOT NULL,
        attributes TEXT
    );
    CREATE INDEX events_trace ON events (trace_id);
    CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        time_ns INTEGER NOT NULL,
        observed_ns INTEGER,
        severity_number INTEGER,
        severity_text TEXT,
        body TEXT,
        trace_id TEXT,
        span_id TEXT,
        service TEXT,
        event_name TEXT,
        attributes TEXT
    );
    CREATE INDEX logs_time ON logs (time_ns);
    CREATE INDEX logs_trace ON logs (trace_id);
    CREATE TABLE metric_points (
        id INTEGER PRIMARY KEY,
        time_ns INTEGER NOT NULL,
        start_ns INTEGER,
        name TEXT NOT NULL,
        unit TEXT,
        type TEXT NOT NULL,
        service TEXT,
        attributes TEXT,
        value REAL,
        count INTEGER,
        sum REAL,
        min REAL,
        max REAL,
        data TEXT
    );
    CREATE INDEX metric_points_name ON metric_points (name, time_ns);
    CREATE TABLE counters (
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL,
        PRIMARY KEY (kind, reason)
    ) WITHOUT ROWID;
    """,
    # 2: hourly duration histograms per agent/tool/model, so `stats` never scans every span.
    """
    CREATE TABLE span_stats (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        hour INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        duration_ns INTEGER NOT NULL,
        PRIMARY KEY (kind, name, hour, bucket)
    ) WITHOUT ROWID;
    CREATE INDEX span_stats_hour ON span_stats (hour);
    """,
    # 3: one span_stats row per (kind, name, hour) with its histogram as JSON: a batch then
    # rewrites a handful of rows instead of upserting one per duration bucket.
    """
    DROP TABLE span_stats;
    CREATE TABLE span_stats (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        hour INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        duration_ns INTEGER NOT NULL,
        buckets TEXT NOT NULL,
        PRIMARY KEY (kind, name, hour)
    ) WITHOUT ROWID;
    """,
    # 4: cost stays NULL when no call had a price, and the calls without one are counted.
    """
    DROP TABLE span_stats;
    CREATE TABLE span_stats (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        hour INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd REAL,
        unpriced_calls INTEGER NOT NULL,
        duration_ns INTEGER NOT NULL,
        buckets TEXT NOT NULL,
        PRIMARY KEY (kind, name, hour)
    ) WITHOUT ROWID;
    """,
)

LATEST: Final = len(MIGRATIONS)
# The migration that made span_stats' current layout: its backfill runs there, and only there.
SPAN_STATS_LAYOUT: Final = 4


class SchemaTooNew(RuntimeError):
    """The store was written by a newer otel-agents than this one."""


def version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database (0 for a new file)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Bring the schema to ``target``; safe when several processes open a new store at once."""
    if version(conn) == target:
        return target
    with db.write_transaction(conn):
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = version(conn)
        if current > LATEST:
            raise SchemaTooNew(
                f"store schema v{current} is newer than this otel-agents supports (v{LATEST});"
                " upgrade otel-agents"
            )
        for step in range(current, target):
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
            _backfill(conn, step + 1)
        if target > current:
            conn.execute(f"PRAGMA user_version = {int(target)}")
    return max(current, target)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _backfill(conn: sqlite3.Connection, new_version: int) -> None:
    # Each later span_stats layout replaces the one before; only the final one is worth filling.
    if new_version == SPAN_STATS_LAYOUT:
        from otel_agents.store._rollup import backfill_span_stats

        backfill_span_stats(conn)
