"""Several processes share one store: concurrent writers, a reader, and writers killed with SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from store_spans import query

from otel_agents.store import _db as db
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries

WRITER = Path(__file__).with_name("writer_proc.py")
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _writer(home: Path, tag: str, batches: int, size: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(home), tag, str(batches), str(size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _count(home: Path, sql: str, *params: object) -> int:
    [(n,)] = query(home, sql, *params)
    return int(str(n))


def test_four_processes_write_one_store_while_a_reader_polls(home: Path) -> None:
    """Four writers and a reader at once: no lock errors, no drops, every acknowledged span stored."""
    batches, size = 8, 250
    procs = [_writer(home, f"w{i}", batches, size) for i in range(4)]
    reads = 0
    deadline = time.monotonic() + 60
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if paths.db_path(home).exists():
            try:
                conn = db.connect(paths.db_path(home))
                queries.stats(conn, None, None)
                queries.runs(conn, queries.RunFilter())
                conn.close()
                reads += 1
            except Exception as exc:  # a missing schema right at creation is the only excuse
                assert "no such table" in str(exc), exc
        time.sleep(0.02)
    outputs = [p.communicate(timeout=30) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err, err
        assert out.count("SUCCESS") == batches, out
        assert "drops 0 errors 0" in out, out
    assert reads > 0
    assert _count(home, "SELECT count(*) FROM spans") == 4 * batches * size
    for i in range(4):
        assert _count(home, "SELECT count(*) FROM spans WHERE service = ?", f"w{i}") == batches * size
    assert query(home, "PRAGMA integrity_check") == [("ok",)]
    assert query(home, "SELECT count(*) FROM counters") == [(0,)]
    by_name = {(r["kind"], r["name"]): r for r in queries.stats(db.connect(paths.db_path(home)), None, None)}
    assert by_name[("tool", "lookup")]["calls"] == 4 * batches * size


def test_writer_killed_mid_batch_loses_nothing_acknowledged(home: Path) -> None:
    """After SIGKILL of a writer: every acknowledged batch is whole, the database checks ok, torn
    line-file tails are skipped by readers, and the next writer appends and reads back cleanly."""
    size = 400
    rnd = random.Random(3)
    acked: dict[str, int] = {}
    for round_ in range(3):
        tag = f"k{round_}"
        proc = _writer(home, tag, -1, size)
        assert proc.stdout is not None
        last = -1
        while last < 2:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            assert line.endswith("SUCCESS\n"), line
            last = int(line.split()[1])
        time.sleep(rnd.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=10)
        for line in rest.splitlines():
            if line.startswith("ack") and line.endswith("SUCCESS"):
                last = max(last, int(line.split()[1]))
        acked[tag] = last

    assert query(home, "PRAGMA integrity_check") == [("ok",)]
    for tag, last in acked.items():
        per_batch = dict(
            query(
                home,
                "SELECT json_extract(attributes, '$.\"test.batch\"') b, count(*) FROM spans"
                " WHERE service = ? GROUP BY b",
                tag,
            )
        )
        for b in range(last + 1):
            assert per_batch.get(b) == size, (tag, b, per_batch)
        # A batch in flight at the kill is all or nothing: transactions are atomic.
        assert all(n == size for n in per_batch.values()), per_batch

    report = ndjson.ReadReport()
    lines_before = sum(
        1 for f in ndjson.list_files(paths.ndjson_dir(home)) for _ in ndjson.read_file(f, report)
    )
    torn_before = report.torn
    assert torn_before <= 3

    after = _writer(home, "after", 2, 50)
    out, err = after.communicate(timeout=30)
    assert after.returncode == 0 and out.count("SUCCESS") == 2, err
    report = ndjson.ReadReport()
    lines_after = sum(
        1 for f in ndjson.list_files(paths.ndjson_dir(home)) for _ in ndjson.read_file(f, report)
    )
    assert report.torn == torn_before
    assert lines_after == lines_before + 2
    assert _count(home, "SELECT count(*) FROM spans WHERE service = 'after'") == 100
