"""The real CLI, as a subprocess, against a store the demo filled through the public API."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from cli_helpers import Cli, start_cli
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otel_agents.store import _db as db
from otel_agents.store import _paths as paths


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("otel-agents"), lines[0]
    return lines[0]


def _span_count(home: Path) -> int:
    return int(db.connect(paths.db_path(home)).execute("SELECT count(*) FROM spans").fetchone()[0])


def test_demo_reports_what_it_recorded_and_what_to_try(demo_home: Path, cli: Cli) -> None:
    """`demo` records three runs, one failed by its failing tool, and prints next commands."""
    result = cli("demo", home=demo_home)
    assert result.returncode == 0, result.stderr
    assert "Recorded 3 runs (1 failed)" in result.stdout
    assert "support_triage" in result.stdout and "CrmTimeout" in result.stdout
    assert "Next, try:" in result.stdout and "otel-agents trace " in result.stdout


def test_runs_table_and_filters(demo_home: Path, cli: Cli) -> None:
    """`runs` shows a table; name, status, time and id filters narrow it; --json is parseable."""
    table = cli("runs", home=demo_home)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == ["START", "NAME", "KIND"]
    runs = json.loads(cli("runs", "--json", "--limit", "100", home=demo_home).stdout)
    assert {r["name"] for r in runs} == {"support_triage"} and len(runs) >= 3
    assert all(r["metadata"]["product"] == "helpdesk" for r in runs)
    failed = json.loads(cli("runs", "--status", "error", "--json", home=demo_home).stdout)
    assert failed and all(r["run_id"].startswith("demo-T-1003-") for r in failed)
    assert failed[0]["error_type"].endswith("CrmTimeout")
    first = next(r["run_id"] for r in runs if r["run_id"].startswith("demo-T-1001-"))
    one = json.loads(cli("runs", "--run-id", first, "--json", home=demo_home).stdout)
    assert one and one[0]["input_tokens"] > 0 and one[0]["cost_usd"] > 0
    session = one[0]["session_id"]
    by_session = json.loads(
        cli("runs", "--session", session, "--user", "demo-user", "--json", home=demo_home).stdout
    )
    assert len(by_session) == 3
    assert len(json.loads(cli("runs", "--since", "1h", "--json", home=demo_home).stdout)) >= 3
    before_command = json.loads(cli("--home", str(demo_home), "runs", "--json", "--limit", "100").stdout)
    assert len(before_command) == len(runs)
    none = cli("runs", "--until", "1h", home=demo_home)
    assert none.returncode == 0 and "no runs match" in none.stdout


def test_trace_shows_tree_routing_errors_tokens(demo_home: Path, cli: Cli) -> None:
    """`trace` by id prefix or run id renders the tree with routing decision, error and tokens."""
    [failed] = json.loads(cli("runs", "--status", "error", "--limit", "1", "--json", home=demo_home).stdout)
    out = cli("trace", failed["trace_id"][:10], home=demo_home)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "invoke_workflow support_triage" in text and "└─ " in text and "WATERFALL" in text
    assert "route router → billing_agent" in text and "confidence" in text
    assert "error " in text and "CRM did not answer" in text
    assert "log WARN ticket T-1003: CRM lookup timed out" in text
    [ok_run] = json.loads(cli("runs", "--status", "ok", "--limit", "1", "--json", home=demo_home).stdout)
    by_run = cli("trace", ok_run["run_id"], home=demo_home)
    assert by_run.returncode == 0 and "chat gpt-4o" in by_run.stdout
    assert "items 1 discovered, 1 succeeded, 0 failed" in by_run.stdout
    assert "metadata product=helpdesk" in by_run.stdout and "metrics {" in by_run.stdout
    spans = json.loads(cli("trace", ok_run["run_id"], "--json", home=demo_home).stdout)
    assert len(spans) == 8


def test_stats_per_agent_tool_and_model(demo_home: Path, cli: Cli) -> None:
    """`stats` gives calls, error rate, p50/p95, tokens and cost per agent, tool and model."""
    rows = json.loads(cli("stats", "--json", home=demo_home).stdout)
    by = {(r["kind"], r["name"]): r for r in rows}
    assert {
        ("agent", "router"),
        ("tool", "crm_lookup"),
        ("model", "gpt-4o"),
        ("workflow", "support_triage"),
    } <= set(by)
    crm = by[("tool", "crm_lookup")]
    assert crm["errors"] * 3 == crm["calls"] and 0 < crm["p50_ms"] <= crm["p95_ms"]
    assert by[("model", "gpt-4o")]["input_tokens"] > 0 and by[("model", "gpt-4o")]["cost_usd"] > 0
    table = cli("stats", "--kind", "tool", home=demo_home)
    assert table.returncode == 0 and "crm_lookup" in table.stdout and "router" not in table.stdout


def test_export_runs_csv_and_spans_ndjson(demo_home: Path, cli: Cli, tmp_path: Path) -> None:
    """`export` writes runs as CSV to stdout and spans as NDJSON to a file, with progress on stderr."""
    runs = cli("export", "runs", "--since", "1d", home=demo_home)
    rows = list(csv.DictReader(io.StringIO(runs.stdout)))
    assert len(rows) >= 3 and {"run_id", "status", "cost_usd", "start_time"} <= set(rows[0])
    target = tmp_path / "spans.ndjson"
    spans = cli("export", "spans", "--format", "ndjson", "-o", str(target), home=demo_home)
    assert spans.returncode == 0 and "wrote" in spans.stderr
    lines = target.read_text().splitlines()
    assert len(lines) == _span_count(demo_home)
    assert all(json.loads(line)["trace_id"] for line in lines)
    # As private as the store it comes from, whatever the umask.
    assert target.stat().st_mode & 0o777 == 0o600


def test_tail_follows_new_spans(demo_copy: Path, cli: Cli) -> None:
    """`tail` prints the last N spans, then spans written by another process while it runs."""
    last = cli("tail", "-n", "2", "--exit-after", "0", home=demo_copy)
    assert last.returncode == 0 and len(last.stdout.splitlines()) == 2
    follower = start_cli(
        "tail",
        "-n",
        "0",
        "--json",
        "--interval",
        "0.1",
        "--max-spans",
        "23",
        "--exit-after",
        "60",
        home=demo_copy,
    )
    time.sleep(0.5)
    assert cli("demo", home=demo_copy).returncode == 0
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    names = [json.loads(line)["name"] for line in out.splitlines()]
    assert "invoke_workflow support_triage" in names and len(names) == 23


def test_doctor_reports_health_and_unreachable_endpoint(demo_home: Path, cli: Cli) -> None:
    """`doctor` reports a healthy store (exit 0) and a dead endpoint as a problem (exit 1)."""
    ok = cli("doctor", home=demo_home)
    assert ok.returncode == 0, ok.stdout
    assert (
        "data goes to: local store" in ok.stdout
        and "check skipped (--full)" in ok.stdout
        and "no problems found" in ok.stdout
    )
    report = json.loads(cli("doctor", "--json", "--full", home=demo_home).stdout)
    assert report["store"]["torn_lines"] == 0 and report["store"]["line_records"] > 0
    assert report["store"]["rows"]["logs"] >= 1 and report["store"]["rows"]["metric_points"] > 0
    bad = cli("doctor", "--endpoint", "http://127.0.0.1:9", home=demo_home)
    assert bad.returncode == 1 and "UNREACHABLE" in bad.stdout


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[ExportTraceServiceRequest]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        _Receiver.received.append(request)
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_replay_sends_stored_spans_over_otlp_http(demo_home: Path, cli: Cli) -> None:
    """`replay` delivers every stored span to an OTLP/HTTP receiver with the SDK exporter."""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Receiver.received.clear()
        result = cli(
            "replay",
            "--endpoint",
            f"http://ci:s3cret@127.0.0.1:{server.server_port}",
            "--batch-size",
            "7",
            home=demo_home,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert "replayed" in result.stderr  # progress
    # Credentials in the endpoint are the exporter's to send, never the output's to show.
    assert "s3cret" not in result.stdout + result.stderr and "ci:***@" not in result.stdout
    assert "http://***@127.0.0.1" in result.stdout
    spans = [
        s for r in _Receiver.received for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans
    ]
    assert len(spans) == _span_count(demo_home)
    services = {
        a.value.string_value
        for r in _Receiver.received
        for rs in r.resource_spans
        for a in rs.resource.attributes
        if a.key == "service.name"
    }
    assert services == {"otel-agents-demo"}
    assert any(s.status.code == 2 for s in spans)


def test_replay_to_a_dead_endpoint_fails_with_one_line(demo_home: Path, cli: Cli) -> None:
    """`replay` to a closed port exits non-zero with one error line."""
    result = cli(
        "replay",
        "--endpoint",
        "http://ci:s3cret@127.0.0.1:9",
        "--timeout",
        "1",
        "--trace",
        json.loads(cli("runs", "--limit", "1", "--json", home=demo_home).stdout)[0]["run_id"],
        home=demo_home,
    )
    assert result.returncode == 1
    assert "did not accept" in _one_error_line(result)
    assert "s3cret" not in result.stdout + result.stderr


def test_prune_by_age_and_size(demo_copy: Path, cli: Cli) -> None:
    """`prune` keeps recent data under an age limit; a tiny size limit removes all but the last 10 minutes."""
    kept = cli("prune", "--older-than", "1d", home=demo_copy)
    assert kept.returncode == 0 and "pruned no rows" in kept.stdout
    before = _span_count(demo_copy)
    conn = db.connect(paths.db_path(demo_copy))
    with db.write_transaction(conn):  # age half of the traces by a day
        conn.execute("UPDATE spans SET start_ns = start_ns - 86400000000000 WHERE id % 2 = 0")
    conn.close()
    shrunk = cli("prune", "--max-size", "1KB", home=demo_copy)
    assert shrunk.returncode == 0, shrunk.stderr
    assert 0 < _span_count(demo_copy) < before
    assert "last 10 minutes" in shrunk.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("trace", "ffffffffffff"), 1, "no trace or run"),
        (("runs", "--since", "yesterday-ish"), 2, "cannot read time"),
        (("frobnicate",), 2, "invalid choice"),
        (("stats", "--kind", "planet"), 2, "invalid choice"),
    ],
)
def test_errors_are_one_line_with_nonzero_exit(
    demo_home: Path, cli: Cli, args: tuple[str, ...], code: int, needle: str
) -> None:
    """Bad ids, times and commands give one clear line on stderr and a non-zero exit code."""
    result = cli(*args, home=demo_home if args[0] != "frobnicate" else None)
    assert result.returncode == code
    assert needle in _one_error_line(result)
    assert "Traceback" not in result.stderr


def test_missing_store_is_one_line(tmp_path: Path, cli: Cli) -> None:
    """Reading commands on a directory without a store say so in one line and exit 1."""
    result = cli("runs", home=tmp_path / "nothing-here")
    assert result.returncode == 1 and "no store at" in _one_error_line(result)


def test_every_command_help_shows_an_example_that_parses() -> None:
    """Each sub-command's --help has an example, and every example line is a valid command line."""
    import shlex

    from otel_agents.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = sub.choices  # type: ignore[attr-defined]
    assert set(commands) == {
        "demo",
        "runs",
        "trace",
        "graph",
        "stats",
        "tail",
        "export",
        "replay",
        "doctor",
        "prune",
        "alerts",
        "verify",
        "metrics",
        "ui",
        "backup",
    }
    for name, sub_parser in commands.items():
        help_text = sub_parser.format_help()
        assert "example:" in help_text, name
        examples = [
            line.split("#")[0].split("|")[0].split("&&")[0].split(">")[0].strip()
            for line in help_text.splitlines()
            if line.strip().startswith("otel-agents ")
        ]
        assert examples, name
        for example in examples:
            parser.parse_args(shlex.split(example)[1:])


def test_help_runs_in_a_subprocess(cli: Cli) -> None:
    """`otel-agents runs --help` exits 0 and prints the example."""
    result = cli("runs", "--help")
    assert (
        result.returncode == 0 and "example:" in result.stdout and "otel-agents runs --name" in result.stdout
    )


def test_doctor_shows_drops_an_app_process_counted(demo_copy: Path, cli: Cli) -> None:
    """Drops counted in an application process are visible to `doctor` (and make it exit 1)."""
    from otel_agents.api import _counters as stats
    from otel_agents.store import open_store

    stats.reset()
    store = open_store(demo_copy)
    stats.count_drop("queue_full", 42)
    store.close()
    stats.reset()
    result = cli("doctor", home=demo_copy)
    assert result.returncode == 1
    assert "drop  queue_full: 42" in result.stdout and "42 record(s) dropped" in result.stdout


def test_doctor_tells_span_limit_drops_from_dropped_records(demo_copy: Path, cli: Cli) -> None:
    """Attributes the SDK dropped at its span limits are shown apart from dropped records."""
    from otel_agents.api import _counters as stats
    from otel_agents.store import open_store

    stats.reset()
    store = open_store(demo_copy)
    stats.count_drop("queue_full", 2)
    stats.count_drop("spans.attributes" + stats.OVER_LIMIT, 5)
    store.close()
    stats.reset()
    result = cli("doctor", home=demo_copy)
    assert result.returncode == 1
    assert "drop  spans.attributes_over_limit: 5" in result.stdout
    assert "2 record(s) dropped" in result.stdout
    assert "5 attribute(s), event(s) or link(s) over the span limits" in result.stdout
