"""Each bench runs with tiny round counts and writes valid JSON; a smoke test, never a timing test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str, timeout: float = 240) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _read(path: Path, bench: str) -> dict:
    record = json.loads(path.read_text())
    assert record["bench"] == bench
    assert record["machine"]["cpus"] >= 1
    assert record["measured_at"]
    return record["figures"]


def test_core_bench_writes_every_row(tmp_path: Path) -> None:
    """bench-core, two tiny rounds, writes a positive ratio for every row of the issue's table."""
    out = tmp_path / "core.json"
    _run("-m", "bench.core_bench", "--rounds", "2", "--spans", "50", "--workflows", "10", "--json", str(out))
    rows = _read(out, "core")
    for key in ("tool_all_in", "tool_fresh_call_id", "workflow_all_in", "span_metrics", "unsampled"):
        assert rows[key]["ratio"] > 0, key
    for key in ("sdk_unsampled", "unsampled_not_recorded", "noconfig", "stamping", "workflow_floor"):
        assert rows[key]["ratio"] > 0, key
    assert set(rows["normaliser"]) == {"http_us", "openai_v2_us", "openinference_us", "floor_us"}


def test_peers_bench_measures_otel_agents_on_loopback(tmp_path: Path) -> None:
    """bench-peers for otel-agents exports the workflow's four spans and touches no network."""
    out = tmp_path / "peers.json"
    _run("-m", "bench.peers_bench", "--systems", "otel-agents", "--rounds", "2", "--workflows", "10",
         "--json", str(out))  # fmt: skip
    result = _read(out, "peers")["systems"]["otel-agents"]
    assert result["ratio"] > 0
    assert result["spans_per_workflow"] == result["plain_spans_per_workflow"] == 4
    assert result["blocked_network"] == []


def test_peers_worker_refuses_to_leave_the_machine() -> None:
    """The peers' loopback guard refuses and records a lookup or connection to another host."""
    script = (
        "import socket, sys\n"
        "sys.path.insert(0, 'bench/peers')\n"
        "import workflow\n"
        "workflow._loopback_only()\n"
        "for connect, target in ((socket.socket().connect, ('192.0.2.1', 80)),\n"
        "                        (socket.create_connection, ('example.com', 443))):\n"
        "    try:\n"
        "        connect(target)\n"
        "    except OSError:\n"
        "        pass\n"
        "    else:\n"
        "        sys.exit('connected')\n"
        "print(sorted(workflow._BLOCKED))\n"
    )
    assert _run("-c", script).strip() == "['connect 192.0.2.1', 'lookup example.com']"


def test_web_bench_flask_with_the_python_load_generator(tmp_path: Path) -> None:
    """bench-web, one short round of the Flask configurations, writes throughput lost and p99 per config."""
    out = tmp_path / "web.json"
    stdout = _run("-m", "bench.web_bench", "--frameworks", "flask", "--load", "python", "--rounds", "1",
                  "--seconds", "0.4", "--p99-seconds", "0.2", "--connections", "2", "--json", str(out))  # fmt: skip
    assert "load generator: python" in stdout
    flask = _read(out, "web")["flask"]
    assert set(flask) == {"bare", "sdk-floor", "contrib", "distro"}
    assert flask["bare"]["lost_vs_bare"] == 0
    assert all(f["rps"] > 0 and f["p99_ms"] > 0 for f in flask.values())


def test_parse_wrk_reads_rate_and_p99() -> None:
    """wrk's --latency output gives requests/s and the p99 in milliseconds, whatever its unit."""
    from bench.web_bench import parse_wrk

    sample = (
        "Running 2s test @ http://127.0.0.1:1/run\n  1 threads and 4 connections\n"
        "  Latency Distribution\n     50%  580.00us\n     75%  610.00us\n     90%  700.00us\n"
        "     99%    1.20ms\n  13000 requests in 2.00s, 1.9MB read\nRequests/sec:   6500.12\n"
    )
    assert parse_wrk(sample) == (6500.12, 1.2)
    with pytest.raises(RuntimeError):
        parse_wrk(sample + "  Non-2xx or 3xx responses: 3\n")


def test_store_bench_and_the_docs_table(tmp_path: Path) -> None:
    """bench-store writes its ratio, and the docs table is rebuilt from the results between its markers."""
    results = tmp_path / "results"
    _run("-m", "bench.store_bench", "--ingest-spans", "100", "--rounds", "1", "--spans", "300",
         "--repeats", "1", "--json", str(results / "store.json"))  # fmt: skip
    assert _read(results / "store.json", "store")["ingest"]["ratio_vs_span_rows"] > 0
    doc = tmp_path / "performance.md"
    doc.write_text(
        "before\n<!-- bench table -->\nstale\n<!-- end bench table -->\n"
        "<!-- bench peers table -->\n<!-- end bench peers table -->\nafter\n"
    )
    _run("-m", "bench.perf_table", "--results", str(results), "--doc", str(doc))
    text = doc.read_text()
    assert "stale" not in text
    assert text.startswith("before\n") and text.endswith("after\n")
    store_row = next(line for line in text.splitlines() if line.startswith("| store ingest"))
    assert "x (" in store_row and "≥ 0.6x" in store_row
    assert "not measured by `make bench`" in text  # core and web were not run here


def test_reliability_bench_chain_throughput_writes_its_figures(tmp_path: Path) -> None:
    """bench-reliability's throughput scenario, a few hundred spans, counts every span as received or dropped."""
    out = tmp_path / "reliability.json"
    _run("-m", "bench.reliability_bench", "--only", "chain_throughput", "--spans", "300", "--json", str(out))
    result = _read(out, "reliability")["chain_throughput"]
    assert result["received"] + result["dropped_counted"] == 300
    assert result["spans_per_s"] > 0


def test_cli_bench_writes_first_output_and_exit_times(tmp_path: Path) -> None:
    """bench-cli on a 300-span store writes, per case, the time to first output and to exit."""
    out = tmp_path / "cli.json"
    _run("-m", "bench.cli_bench", "--home", str(tmp_path / "home"), "--spans", "300", "--repeats", "1",
         "--json", str(out))  # fmt: skip
    figures = _read(out, "cli")
    assert figures["spans"] >= 300 and figures["import_ms"] > 0
    for case in ("runs", "doctor"):
        assert 0 < figures["cases"][case]["first_output_ms"] <= figures["cases"][case]["exit_ms"]
