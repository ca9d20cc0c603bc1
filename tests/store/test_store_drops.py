"""Every record the store loses is counted once and persisted, even after close or under a deleted file."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from store_spans import finished, plain_spans, provider

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.store import _paths as paths
from otel_agents.store import open_store


def _drops(home: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{paths.db_path(home)}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT reason, count FROM counters WHERE kind = 'drop'").fetchall())
    finally:
        conn.close()


def _span_count(home: Path) -> int:
    conn = sqlite3.connect(f"file:{paths.db_path(home)}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])
    finally:
        conn.close()


# One span before shutdown(), 50 after it: those are dropped where they end, counted at exit.
LATE_SPANS = (
    "import otel_agents as oa\n"
    "telemetry = oa.configure(exporter='store', schedule_delay=0.05)\n"
    "with oa.tool('before'):\n"
    "    pass\n"
    "telemetry.shutdown()\n"
    "for _ in range(50):\n"
    "    with oa.tool('after'):\n"
    "        pass\n"
)


def _child_env(home: Path) -> dict[str, str]:
    """A child's environment: this checkout's package, ``home`` as its store, internal errors quiet."""
    import os

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "OTEL_AGENTS_HOME": str(home)}
    env.pop("OTEL_AGENTS_RAISE_INTERNAL_ERRORS", None)
    return env


class _Stuck(SpanExporter):
    """An exporter that never finishes an export within any shutdown budget."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(30)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


def test_drops_counted_during_shutdown_are_persisted(
    make_pipeline: Any, tmp_path: Path, lenient: None
) -> None:
    """Spans a stuck exporter still holds when shutdown gives up are counted and reach the store's counters."""
    home = tmp_path / "home"
    stuck = _Stuck()
    telemetry = oa.configure(exporter="store", home=home, span_exporters=[stuck], schedule_delay=0.05)
    try:
        for i in range(100):
            with oa.tool(f"t{i}"):
                pass
        telemetry.force_flush(1)
        telemetry.shutdown(2)
    finally:
        stuck.release.set()
        telemetry.shutdown(1)
    assert _span_count(home) == 100
    assert _drops(home).get("spans._Stuck.shutdown_timeout") == 100


def test_writes_after_close_are_counted_and_persisted(tmp_path: Path) -> None:
    """A batch arriving after close() is dropped, counted and visible in the store's counters."""
    stats.reset()
    home = tmp_path / "home"
    store = open_store(home)
    store.close()
    tp, mem = provider()
    plain_spans(tp, 7)
    store.span_exporter.export(finished(mem))
    assert _drops(home) == {"store.write_after_close": 7}


def test_a_deleted_database_is_recreated_and_keeps_receiving(tmp_path: Path) -> None:
    """With store.sqlite deleted while the app runs, the next batch starts a new store, not a void."""
    stats.reset()
    home = tmp_path / "home"
    store = open_store(home)
    tp, mem = provider()
    plain_spans(tp, 5)
    store.span_exporter.export(finished(mem))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{paths.db_path(home)}{suffix}").unlink(missing_ok=True)
    for path in (home / paths.NDJSON_DIR).iterdir():
        path.unlink()
    plain_spans(tp, 8)
    store.span_exporter.export(finished(mem))
    store.close()
    assert _span_count(home) == 8
    assert any(p.stat().st_size for p in (home / paths.NDJSON_DIR).iterdir())


def test_a_failing_database_and_line_file_count_each_span_once(tmp_path: Path) -> None:
    """Spans that neither SQLite nor the line files could take are counted once, not once per sink."""
    stats.reset()
    home = tmp_path / "home"
    store = open_store(home)
    writer = store._writer
    assert writer._conn is not None
    writer._conn.execute("PRAGMA query_only = ON")  # every write now fails inside SQLite itself
    lines = paths.ndjson_dir(home)
    if lines.exists():
        for path in lines.iterdir():
            path.unlink()
        lines.rmdir()
    lines.write_text("not a directory")  # the line files cannot be created either
    for w in writer._lines.values():
        w.close()
    tp, mem = provider()
    plain_spans(tp, 9)
    assert store.span_exporter.export(finished(mem)) is SpanExportResult.FAILURE
    assert sum(stats.drops().values()) == 9


def test_shutdown_then_configure_elsewhere_stores_there(
    make_pipeline: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The documented reconfigure, shutdown() then configure(home=B), stores B's spans in B, without warnings."""
    first = make_pipeline(exporter="store", home=tmp_path / "a")
    with oa.tool("before"):
        pass
    first.telemetry.shutdown(5)
    caplog.set_level(logging.WARNING, logger="otel_agents")
    second = oa.configure(exporter="store", home=tmp_path / "b", schedule_delay=0.05)
    try:
        for i in range(10):
            with oa.tool(f"after{i}"):
                pass
        second.force_flush(5)
        assert _span_count(tmp_path / "b") == 10
        assert [r.getMessage() for r in caplog.records if r.name == "otel_agents"] == []
    finally:
        second.shutdown(5)
    assert _span_count(tmp_path / "a") == 1


def test_a_full_disk_costs_only_counted_records_and_the_counts_reach_the_store_once_there_is_room(
    tmp_path: Path,
) -> None:
    """With the store's files unable to grow the app runs to its end untouched; each record lost is
    counted once (never once per sink), no internal error is reported, and once there is room
    again the next write persists every count."""
    import json
    import subprocess
    import sys

    home = tmp_path / "home"
    app = Path(__file__).with_name("full_disk_app.py")
    env = _child_env(home)  # internal errors quiet, as in production: nothing may need them
    result = subprocess.run(
        [sys.executable, str(app), "600"], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["done"] == 600
    assert report["errors"] == {}
    lost = report["while_full"]
    # 600 workflows: 1,800 spans and 600 log records, each lost at most once.
    assert 0 < sum(lost.values()) <= 2400 + 20, lost
    assert _drops(home) == report["drops"]


def test_spans_ended_after_shutdown_reach_the_stores_counters_when_the_process_exits(tmp_path: Path) -> None:
    """Spans that end after shutdown() are dropped where they end, before any store; their count is
    persisted when the process exits, and doctor shows it."""
    import subprocess
    import sys

    home = tmp_path / "home"
    env = _child_env(home)
    result = subprocess.run(
        [sys.executable, "-c", LATE_SPANS], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _span_count(home) == 1
    assert _drops(home) == {"spans.chain.after_shutdown": 50}
    doctor = subprocess.run(
        [sys.executable, "-m", "otel_agents.cli", "doctor", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert "spans.chain.after_shutdown: 50" in doctor.stdout


def test_a_database_locked_by_another_process_at_exit_delays_the_exit_by_seconds_not_thirty(
    tmp_path: Path,
) -> None:
    """With another process holding the store's write lock when the app exits, the late drop counts
    give up after about a second, with a warning that is no internal error, and the exit goes on."""
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    ready, go = tmp_path / "ready", tmp_path / "go"
    code = (
        "import pathlib, time\n"
        f"{LATE_SPANS}"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        f"while not pathlib.Path({str(go)!r}).exists():\n"
        "    time.sleep(0.02)\n"
    )
    env = _child_env(home)
    app = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert app.poll() is None, app.communicate()[1][-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
        holder = sqlite3.connect(paths.db_path(home), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            go.touch()
            started = time.monotonic()
            _, stderr = app.communicate(timeout=60)
            took = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, stderr[-2000:]
    # The old code waited out the 30 s write deadline here.
    assert took < 8, took
    assert "drop counts not saved to the store" in stderr, stderr[-2000:]
    assert "internal error" not in stderr, stderr[-2000:]
    assert _drops(home).get("spans.chain.after_shutdown") is None


def test_a_store_removed_after_close_is_not_made_again_at_exit(tmp_path: Path) -> None:
    """A closed store whose home was deleted gets no new folder or database from the exit's counts."""
    import shutil

    stats.reset()
    home = tmp_path / "home"
    store = open_store(home)
    store.close()
    shutil.rmtree(home)
    stats.count_drop("spans.chain.after_shutdown")
    store._writer.persist_late()
    assert not home.exists()
