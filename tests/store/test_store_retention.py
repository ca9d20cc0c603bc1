"""Prune deletes data past the age limit, then the oldest data until the store fits its size limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from store_spans import finished, plain_spans, provider, query

from otel_agents.store import _db as db
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths
from otel_agents.store import _retention as retention
from otel_agents.store import open_store

DAY_NS = 86_400 * 10**9


def _fill(home: Path, n: int) -> None:
    store = open_store(home)
    tp, mem = provider()
    for batch in range(n // 100):
        plain_spans(tp, 100, batch=batch)
        store.span_exporter.export(finished(mem))
    store.close()


def test_prune_by_age_deletes_old_rows_and_old_line_files(home: Path) -> None:
    """Spans, stats and line files older than the limit go; recent ones stay."""
    _fill(home, 200)
    conn = db.connect(paths.db_path(home))
    with db.write_transaction(conn):
        conn.execute("UPDATE spans SET start_ns = start_ns - ? WHERE id <= 50", (30 * DAY_NS,))
    old_file = paths.ndjson_dir(home) / "traces-20200101-1-abcdef01-0000.ndjson"
    old_file.write_text('{"resourceSpans":[]}\n')

    report = retention.prune(conn, home, retention.Policy(max_age_days=7, max_bytes=None))

    assert report.rows == {"spans": 50}
    assert query(home, "SELECT count(*) FROM spans") == [(150,)]
    assert not old_file.exists() and report.files == 1
    assert ndjson.list_files(paths.ndjson_dir(home))


def test_prune_by_size_removes_oldest_data_until_under_the_limit(home: Path) -> None:
    """A store over its size limit loses its oldest spans (and old line files) until it fits."""
    _fill(home, 3000)
    conn = db.connect(paths.db_path(home))
    with db.write_transaction(conn):
        # Spread the spans over time so "oldest" is meaningful.
        conn.execute("UPDATE spans SET start_ns = start_ns - (3000 - id) * 1000000000")
    for f in ndjson.list_files(paths.ndjson_dir(home)):
        old = time.time() - 3600
        os.utime(f, (old, old))
    before = retention.store_bytes(conn, home)
    limit = before // 3

    report = retention.prune(conn, home, retention.Policy(max_age_days=None, max_bytes=limit))

    assert report.bytes_after <= limit < report.bytes_before
    [(left,)] = query(home, "SELECT count(*) FROM spans")
    assert 0 < int(str(left)) < 3000
    [(oldest,)] = query(home, "SELECT min(id) FROM spans")
    assert int(str(oldest)) > 1


def test_policy_reads_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_AGENTS_RETENTION_DAYS and OTEL_AGENTS_STORE_MAX_MB set the automatic limits (0 = none)."""
    monkeypatch.setenv(retention.RETENTION_DAYS_ENV, "3")
    monkeypatch.setenv(retention.MAX_MB_ENV, "0")
    assert retention.Policy.from_env() == retention.Policy(max_age_days=3, max_bytes=None)


def test_writer_prunes_automatically_from_the_export_thread(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When its hourly turn comes, an export applies the environment's retention to the store."""
    monkeypatch.setenv(retention.RETENTION_DAYS_ENV, "1")
    _fill(home, 100)
    conn = db.connect(paths.db_path(home))
    with db.write_transaction(conn):
        conn.execute("UPDATE spans SET start_ns = start_ns - ?", (3 * DAY_NS,))
    store = open_store(home)
    store._writer._next_prune = 0.0
    tp, mem = provider()
    plain_spans(tp, 5)
    store.span_exporter.export(finished(mem))
    store.close()
    assert query(home, "SELECT count(*) FROM spans") == [(5,)]
