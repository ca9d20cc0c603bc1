"""The store writes every span to SQLite (spans, runs, events, stats) and to OTLP/JSON lines."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from store_spans import finished, plain_spans, provider, query, workflow_trace

from otel_agents.store import LocalStore, open_store
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries
from otel_agents.store._db import connect


def test_workflow_run_lands_in_every_table(store: LocalStore, home: Path) -> None:
    """A workflow trace becomes span rows, one run row with all run fields, event rows and stats."""
    tp, mem = provider()
    workflow_trace(tp, run_id="r-9", fail_tool=True)
    assert store.span_exporter.export(finished(mem)) is SpanExportResult.SUCCESS

    assert query(home, "SELECT count(*) FROM spans") == [(5,)]
    conn = connect(paths.db_path(home))
    [run] = queries.runs(conn, queries.RunFilter(run_id="r-9"))
    assert run["kind"] == "workflow" and run["name"] == "triage" and run["status"] == "error"
    assert (run["session_id"], run["user_id"], run["service"]) == ("s-1", "u-1", "store-tests")
    assert (run["input_tokens"], run["output_tokens"], run["cost_usd"]) == (120, 30, 0.0025)
    assert (run["items_discovered"], run["items_succeeded"], run["items_failed"]) == (3, 2, 1)
    assert (run["input_summary"], run["output_summary"]) == ("3 tickets", "2 replies")
    assert run["metrics"] == {"accuracy": 0.9}
    assert run["metadata"] == {"product": "helpdesk", "git_branch": "main"}
    assert (run["error_type"], run["error_message"]) == ("TimeoutError", "search timed out")
    assert run["duration_ns"] == run["end_ns"] - run["start_ns"] > 0
    assert query(home, "SELECT name FROM events") == [("checkpoint",)]
    kinds = {(r["kind"], r["name"]): r for r in queries.stats(conn, None, None)}
    assert set(kinds) == {
        ("workflow", "triage"),
        ("agent", "writer"),
        ("tool", "search"),
        ("model", "gpt-4o-mini"),
    }
    assert kinds[("tool", "search")]["errors"] == 1
    assert kinds[("model", "gpt-4o-mini")]["input_tokens"] == 120


def test_lines_are_otlp_json_requests(store: LocalStore, home: Path) -> None:
    """Each line is an ExportTraceServiceRequest with hex ids, int enums and string int64s."""
    tp, mem = provider()
    workflow_trace(tp)
    spans = finished(mem)
    store.span_exporter.export(spans)
    [path] = ndjson.list_files(paths.ndjson_dir(home), "traces")
    [request] = list(ndjson.read_file(path))
    [rs] = request["resourceSpans"]
    [ss] = rs["scopeSpans"]
    assert ss["scope"] == {"name": "store-tests", "version": "1.0"}
    by_name = {s["name"]: s for s in ss["spans"]}
    chat = by_name["chat gpt-4o-mini"]
    ctx = spans[0].get_span_context()
    assert len(chat["traceId"]) == 32 and chat["traceId"] == f"{ctx.trace_id:032x}"
    assert chat["kind"] == 3  # SPAN_KIND_CLIENT
    assert isinstance(chat["startTimeUnixNano"], str)
    tokens = {a["key"]: a["value"] for a in chat["attributes"]}["gen_ai.usage.input_tokens"]
    assert tokens == {"intValue": "120"}


def test_lines_rotate_by_size(home: Path) -> None:
    """A line file that would pass the size limit is closed and the next batch starts a new file."""
    from otel_agents.store._exporters import StoreSpanExporter
    from otel_agents.store._writer import StoreWriter

    writer = StoreWriter(home, max_file_bytes=20_000)
    exporter = StoreSpanExporter(writer)
    tp, mem = provider()
    for batch in range(6):
        plain_spans(tp, 20, batch=batch)
        exporter.export(finished(mem))
    writer.close()
    files = ndjson.list_files(paths.ndjson_dir(home), "traces")
    assert len(files) >= 3
    assert all(f.stat().st_size <= 20_000 or f.stat().st_size < 40_000 for f in files)
    report = ndjson.ReadReport()
    spans = sum(
        len(ss["spans"])
        for f in files
        for r in ndjson.read_file(f, report)
        for rs in r["resourceSpans"]
        for ss in rs["scopeSpans"]
    )
    assert spans == 120 and report.torn == 0


def test_lines_rotate_daily(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch written on a new UTC day goes to a file named for that day."""
    store = open_store(home)
    tp, mem = provider()
    monkeypatch.setattr(ndjson, "_today", lambda: "20260101")
    plain_spans(tp, 2)
    store.span_exporter.export(finished(mem))
    monkeypatch.setattr(ndjson, "_today", lambda: "20260102")
    plain_spans(tp, 2)
    store.span_exporter.export(finished(mem))
    store.close()
    days = sorted(ndjson.FileName.parse(f.name).day for f in ndjson.list_files(paths.ndjson_dir(home)))  # type: ignore[union-attr]
    assert days == ["20260101", "20260102"]


def test_torn_last_line_is_skipped_counted_and_never_breaks_the_next_append(home: Path) -> None:
    """A half-written last line is skipped and counted by readers; later writers' lines read whole."""
    store = open_store(home)
    tp, mem = provider()
    plain_spans(tp, 3)
    store.span_exporter.export(finished(mem))
    store.close()
    [path] = ndjson.list_files(paths.ndjson_dir(home), "traces")
    good = path.read_bytes()
    with path.open("ab") as f:  # what a writer killed inside write() leaves behind
        f.write(good[: len(good) // 2])

    second = open_store(home)
    plain_spans(tp, 4)
    second.span_exporter.export(finished(mem))
    second.close()

    report = ndjson.ReadReport()
    records = [
        r for f in ndjson.list_files(paths.ndjson_dir(home), "traces") for r in ndjson.read_file(f, report)
    ]
    assert report.torn == 1 and report.torn_at[0].startswith(path.name)
    assert sum(len(ss["spans"]) for r in records for rs in r["resourceSpans"] for ss in rs["scopeSpans"]) == 7
    assert ndjson.tail_is_torn(path)


def test_garbage_line_in_the_middle_is_skipped(tmp_path: Path) -> None:
    """A line that is not JSON (a repaired tear) is counted, and the lines after it still read."""
    path = tmp_path / "traces-20260101-1-abcdef01-0000.ndjson"
    path.write_bytes(b'{"resourceSpans":[]}\n{"resourceSp\n{"resourceSpans":[]}\n[1,2]\n')
    report = ndjson.ReadReport()
    assert len(list(ndjson.read_file(path, report))) == 2
    assert report.torn == 2


def test_drop_counters_are_persisted_for_doctor(store: LocalStore, home: Path) -> None:
    """Drops counted in this process are written to the store so another process can show them."""
    from otel_agents.api import _counters as stats

    stats.count_drop("queue_full", 7)
    tp, mem = provider()
    plain_spans(tp, 1)
    store.span_exporter.export(finished(mem))
    stats.count_drop("queue_full", 2)
    store.span_exporter.force_flush()
    assert query(home, "SELECT kind, reason, count FROM counters") == [("drop", "queue_full", 9)]


def test_export_after_close_fails_without_raising(home: Path) -> None:
    """A closed store refuses batches with FAILURE and counts them as dropped."""
    from otel_agents.api import _counters as stats

    store = open_store(home)
    store.close()
    tp, mem = provider()
    plain_spans(tp, 2)
    assert store.span_exporter.export(finished(mem)) is SpanExportResult.FAILURE
    assert sum(stats.drops().values()) == 2


def test_runs_json_round_trip_is_serialisable(store: LocalStore, home: Path) -> None:
    """Query results serialise to JSON as the CLI prints them."""
    tp, mem = provider()
    workflow_trace(tp)
    store.span_exporter.export(finished(mem))
    conn = connect(paths.db_path(home))
    assert orjson.loads(orjson.dumps(queries.runs(conn, queries.RunFilter())))[0]["name"] == "triage"


def test_forked_child_writes_through_its_own_connection(store: LocalStore, home: Path) -> None:
    """A child forked after the store opened (gunicorn --preload) writes safely alongside its parent."""
    import os

    tp, mem = provider()
    plain_spans(tp, 5, tag="parent")
    store.span_exporter.export(finished(mem))
    pid = os.fork()
    if pid == 0:  # child: export and leave without running the parent's atexit hooks
        plain_spans(tp, 7, tag="child")
        ok = store.span_exporter.export(finished(mem)) is SpanExportResult.SUCCESS
        store.close()
        os._exit(0 if ok else 1)
    plain_spans(tp, 3, tag="parent")
    store.span_exporter.export(finished(mem))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    tags = dict(
        query(home, "SELECT json_extract(attributes, '$.\"test.tag\"') t, count(*) FROM spans GROUP BY t")
    )
    assert tags == {"parent": 8, "child": 7}
    assert query(home, "PRAGMA integrity_check") == [("ok",)]
    assert len({ndjson.FileName.parse(f.name).pid for f in ndjson.list_files(paths.ndjson_dir(home))}) == 2  # type: ignore[union-attr]


def test_a_big_metrics_collection_is_split_into_lines_the_collector_accepts(
    store: LocalStore, home: Path
) -> None:
    """A collection whose one-line encoding would pass 512 KiB is written one metric per line."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_agents.store._writer import MAX_LINE_BYTES

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("big")
    for m in range(10):
        counter = meter.create_counter(f"calls_{m}")
        for series in range(300):
            counter.add(1, {"tool": f"tool-{series}", "note": "n" * 200})
    data = reader.get_metrics_data()
    assert data is not None
    store.metric_exporter.export(data)
    [path] = ndjson.list_files(paths.ndjson_dir(home), "metrics")
    lines = path.read_bytes().splitlines()
    assert len(lines) == 10 and all(len(line) <= MAX_LINE_BYTES for line in lines)
    assert query(home, "SELECT count(*) FROM metric_points") == [(3000,)]


def test_a_write_the_disk_cannot_take_leaves_no_torn_line_and_no_new_file(tmp_path: Path) -> None:
    """A batch cut short by a full disk is cut back off its file: the file stays whole, takes the
    next batch once there is room, and failed batches make no new file each."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from otel_agents.store import _ndjson as ndjson
        writer = ndjson.LineWriter(Path({str(tmp_path)!r}), "traces")
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, hard))  # writes past it fail, as on a full disk
        failed = 0
        for i in range(20):
            try:
                writer.write_lines([b'{{"n":%d,"pad":"%s"}}' % (i, b"x" * 3000)])
            except OSError:
                failed += 1
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        writer.write_lines([b'{{"n":"after"}}'])
        print(failed)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) == 17  # three batches fit under the limit
    [path] = ndjson.list_files(tmp_path, "traces")
    assert not ndjson.tail_is_torn(path)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["n"] for line in lines] == [0, 1, 2, "after"]
