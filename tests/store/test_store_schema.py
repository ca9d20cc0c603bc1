"""Schema migrations run once, backfill derived tables, and refuse a store from a newer version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_spans import finished, provider, query, workflow_trace

from otel_agents.store import _db as db
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries
from otel_agents.store import _schema as schema
from otel_agents.store import open_store
from otel_agents.store._rows import INSERT_SPAN, BatchRows


def test_v1_store_is_migrated_and_stats_backfilled(home: Path) -> None:
    """Opening a v1 store upgrades it to the latest schema and fills span_stats from its spans."""
    conn = db.connect(paths.db_path(home))
    assert schema.migrate(conn, target=1) == 1
    tp, mem = provider()
    workflow_trace(tp, fail_tool=True)
    rows = BatchRows()
    for span in finished(mem):
        rows.add_span(span, dict(span.attributes or {}), "old-service", None)
    with db.write_transaction(conn):
        conn.executemany(INSERT_SPAN, rows.spans)
    conn.close()

    store = open_store(home)
    store.close()
    assert query(home, "PRAGMA user_version") == [(schema.LATEST,)]
    conn = db.connect(paths.db_path(home))
    by_key = {(r["kind"], r["name"]): r for r in queries.stats(conn, None, None)}
    assert by_key[("tool", "search")]["errors"] == 1
    assert by_key[("workflow", "triage")]["calls"] == 1
    assert by_key[("model", "gpt-4o-mini")]["output_tokens"] == 30


def test_migrate_is_idempotent(home: Path) -> None:
    """A second migrate on an up-to-date store changes nothing."""
    conn = db.connect(paths.db_path(home))
    assert schema.migrate(conn) == schema.LATEST
    assert schema.migrate(conn) == schema.LATEST
    assert query(home, "SELECT count(*) FROM sqlite_master WHERE name = 'span_stats'") == [(1,)]


def test_store_from_a_newer_version_is_refused(home: Path) -> None:
    """A schema version above what this code knows raises SchemaTooNew with an upgrade hint."""
    conn = db.connect(paths.db_path(home))
    schema.migrate(conn)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    conn.close()
    with pytest.raises(schema.SchemaTooNew, match="upgrade otel-agents"):
        open_store(home)


def test_store_is_wal_with_busy_timeout(home: Path) -> None:
    """Connections use WAL journaling and wait for locks instead of failing at once."""
    conn = db.connect(paths.db_path(home))
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_v3_stats_are_rebuilt_with_null_cost_for_unpriced_calls(home: Path) -> None:
    """Migrating a v3 store rebuilds span_stats from the spans: unpriced calls are NULL, counted."""
    home.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(paths.db_path(home))
    schema.migrate(conn, 3)
    conn.execute(
        "INSERT INTO spans (trace_id, span_id, name, kind, start_ns, end_ns, duration_ns, status_code,"
        " operation, model, input_tokens, cost_usd) VALUES ('t', 's', 'chat m', 2, 0, 10, 10, 0, 'chat',"
        " 'm-unpriced', 3, NULL)"
    )
    conn.commit()
    schema.migrate(conn)
    row = conn.execute(
        "SELECT calls, cost_usd, unpriced_calls FROM span_stats WHERE name = 'm-unpriced'"
    ).fetchone()
    assert row == (1, None, 1)
