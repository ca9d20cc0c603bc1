"""The figures table is built from the benches' JSON files; sample files, no benchmark runs here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import perf_table

MACHINE = {"host": "vm", "cpu": "cpu", "cpus": 2, "load_1min": 0.5, "python": "3.11.7", "otel_sdk": "1.45.1"}

SAMPLES: dict[str, dict[str, Any]] = {
    "reliability": {
        "working_exporter": {
            "scenario": "working_exporter",
            "spans": 1999,
            "received": 1997,
            "dropped_pct": 0.1,
        },
        "chain_throughput": {
            "scenario": "chain_throughput",
            "spans": 5000,
            "received": 3278,
            "dropped_counted": 1722,
            "spans_per_s": 1000.4,
        },
    },
    "cli": {
        "spans": 1000008,
        "import_ms": 113.2,
        "bare_ms": 21.4,
        "cases": {
            "runs": {"first_output_ms": 121.6, "exit_ms": 125.0, "vs_bare": 5.8},
            "doctor": {"first_output_ms": 900.0, "exit_ms": 1150.4, "vs_bare": 53.8},
        },
    },
    "collector": {
        "http": {"python_spans_per_core_s": 11000.0},
        "vs_stock": {
            "rounds": 3,
            "exporter": {"ratio": 1.02, "ours_spans_per_core_s": 11220.0, "stock_spans_per_core_s": 11000.0},
            "pipeline": {"ratio": 0.74, "ours_spans_per_core_s": 4070.0, "stock_spans_per_core_s": 5500.0},
        },
    },
}


def _write(results: Path, bench: str, figures: dict[str, Any]) -> None:
    results.mkdir(parents=True, exist_ok=True)
    record = {
        "bench": bench,
        "measured_at": "2026-12-01T13:00:00+00:00",
        "machine": MACHINE,
        "figures": figures,
    }
    (results / f"{bench}.json").write_text(json.dumps(record))


def _rows(results: Path) -> dict[str, str]:
    table = perf_table.figures_table(perf_table.load(results))
    rows = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| "):
            path, now, _target = line[2:-2].split(" | ")
            rows[path] = now
    return rows


CHAIN = "spans through the chain per second with 64 KiB values never seen before"
CLI = "CLI process to first output (`runs` on 1 M spans)"
EXPORT = "OTLP export per core, against the stock exporter"


def test_the_three_bench_all_rows_are_filled_from_their_json(tmp_path: Path) -> None:
    """The chain, CLI and OTLP export rows show the figures their benches' JSON files hold."""
    for bench, figures in SAMPLES.items():
        _write(tmp_path, bench, figures)
    rows = _rows(tmp_path)
    assert rows[CHAIN] == (
        "1,000/s (3,278 spans, 1,722 dropped and counted at full speed); "
        "0.1% dropped at 200/s (1,999 spans, OTLP/HTTP)"
    )
    assert rows[CLI] == (
        "122 ms on 1,000,008 spans (`import otel_agents.cli` 113 ms; a bare interpreter 21 ms); `doctor` 1150 ms"
    )
    assert rows[EXPORT] == (
        "whole pipeline 0.74x (4,070 vs 5,500 spans/s per core); exporter 1.02x (11,220 vs 11,000); "
        "OTLP/HTTP to the collector, 3 rounds"
    )
    assert "`reliability` 2026-12-01 13:00:00+00:00 (load 0.5)" in perf_table.figures_table(
        perf_table.load(tmp_path)
    )


def test_rows_without_their_json_say_not_measured(tmp_path: Path) -> None:
    """With no results files, the three rows say which make target measures them, and no figure."""
    rows = _rows(tmp_path)
    for path in (CHAIN, CLI, EXPORT):
        assert rows[path] == "not measured by `make bench-all`"
    assert rows["store ingest against raw `sqlite3` batched inserts of the same rows"] == (
        "not measured by `make bench`"
    )


def test_a_partial_reliability_run_fills_only_what_it_measured(tmp_path: Path) -> None:
    """A reliability file with only the paced scenario gives the drop share and no throughput."""
    _write(tmp_path, "reliability", {"working_exporter": SAMPLES["reliability"]["working_exporter"]})
    _write(tmp_path, "collector", {"http": {"python_spans_per_core_s": 1.0}})  # an old run: no vs_stock
    rows = _rows(tmp_path)
    assert rows[CHAIN] == "0.1% dropped at 200/s (1,999 spans, OTLP/HTTP)"
    assert rows[EXPORT] == "not measured by `make bench-all`"


def test_the_floors_are_shown_beside_the_rows_they_bound(tmp_path: Path) -> None:
    """The floors and variants measured beside a row (web spans alone, the workflow with our
    attributes, unsampled spans not recorded) appear in it."""
    web = {
        "rps": 1.0,
        "p99_ms": 1.0,
        "p99_vs_contrib": 1.0,
    }
    flask = {
        mode: {**web, "lost_vs_bare": lost}
        for mode, lost in (("bare", 0.0), ("sdk-floor", 0.324), ("contrib", 0.561), ("distro", 0.501))
    }
    _write(tmp_path, "web", {"flask": flask})
    core = {
        "workflow_all_in": {"ratio": 2.11},
        "workflow_floor": {"ratio": 1.25},
        "unsampled": {"ratio": 1.8},
        "unsampled_not_recorded": {"ratio": 0.45},
        "sdk_unsampled": {"ratio": 0.3},
    }
    _write(tmp_path, "core", core)
    rows = _rows(tmp_path)
    assert "the plain SDK's same three spans alone: 32.4%" in rows["Flask the same, gunicorn sync workers"]
    workflow = next(now for path, now in rows.items() if path.startswith("a whole workflow"))
    assert workflow == "2.11x (the plain SDK with our spans' final attributes: 1.25x)"
    unsampled = rows["unsampled span (ratio 0), against a plain sampled span"]
    assert unsampled == "1.80x (with `record_unsampled=False`: 0.45x; the SDK's own unsampled span: 0.30x)"
    _write(tmp_path, "core", {"workflow_all_in": {"ratio": 2.11}})  # an older run, without the floor
    workflow = next(now for path, now in _rows(tmp_path).items() if path.startswith("a whole workflow"))
    assert workflow == "2.11x"


def test_the_export_row_shows_the_steady_load_figures_when_measured(tmp_path: Path) -> None:
    """A collector run with steady-load rounds adds their ratio and both sides' OTLP requests a second."""
    figures = json.loads(json.dumps(SAMPLES["collector"]))
    figures["vs_stock"]["steady"] = {
        "ratio": 1.21,
        "workflows_per_s": 250.0,
        "ours_requests_per_s": 1.9,
        "stock_requests_per_s": 2.1,
    }
    _write(tmp_path, "collector", figures)
    assert _rows(tmp_path)[EXPORT].endswith(
        "; at a steady 1,000 spans/s, whole pipeline 1.21x with 1.9 OTLP requests/s (stock 2.1)"
    )
