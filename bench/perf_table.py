"""Regenerate the figures tables in docs/performance.md from the JSON files the benches wrote.

Run: ``.venv/bin/python -m bench.perf_table`` (``make bench`` and ``make bench-all`` run it last).
Reads ``bench/results/{core,web,store,peers,reliability,cli,collector}.json`` (each written by its
bench's ``--json``; the last three by ``make bench-all``) and replaces
what lies between ``<!-- bench table -->`` and ``<!-- end bench table -->`` (the issue's rows, with
"now" and "target") and between ``<!-- bench peers table -->`` and ``<!-- end bench peers table -->``.
A row whose bench has not written its file says so instead of keeping an old figure.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ("core", "web", "store", "peers", "reliability", "cli", "collector")
NOT_MEASURED = "not measured by `make bench`"
NOT_MEASURED_ALL = "not measured by `make bench-all`"
Results = dict[str, dict[str, Any]]


def load(results_dir: Path) -> Results:
    """Every results file present, by bench name."""
    found: Results = {}
    for name in BENCHES:
        path = results_dir / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
    return found


def _fig(results: Results, bench: str) -> dict[str, Any] | None:
    record = results.get(bench)
    return record["figures"] if record else None


def _core(key: str, extra: Callable[[dict[str, Any]], str] | None = None) -> Callable[[Results], str | None]:
    def now(results: Results) -> str | None:
        rows = _fig(results, "core")
        if rows is None or key not in rows:
            return None
        text = f"{rows[key]['ratio']:.2f}x"
        note = extra(rows) if extra else ""
        return text + (f" ({note})" if note else "")

    return now


def _unsampled_note(rows: dict[str, Any]) -> str:
    note = f"the SDK's own unsampled span: {rows['sdk_unsampled']['ratio']:.2f}x"
    if "unsampled_not_recorded" in rows:
        note = f"with `record_unsampled=False`: {rows['unsampled_not_recorded']['ratio']:.2f}x; " + note
    return note


def _web_lost(framework: str) -> Callable[[Results], str | None]:
    def now(results: Results) -> str | None:
        web = _fig(results, "web")
        if web is None or framework not in web:
            return None
        f = web[framework]
        baselines = [f"contrib, default: {f['contrib']['lost_vs_bare']:.1%}"]
        if "contrib-lean" in f:
            baselines.append(f"contrib with `exclude_spans`: {f['contrib-lean']['lost_vs_bare']:.1%}")
        if "sdk-floor" in f:
            baselines.append(f"the plain SDK's same three spans alone: {f['sdk-floor']['lost_vs_bare']:.1%}")
        generator = results["web"].get("load_generator", "?")
        return f"{f['distro']['lost_vs_bare']:.1%} ({'; '.join(baselines)}; {generator})"

    return now


def _web_p99(results: Results) -> str | None:
    web = _fig(results, "web")
    if web is None:
        return None
    parts = []
    for framework, label in (("fastapi", "FastAPI"), ("flask", "Flask")):
        if framework in web:
            f = web[framework]
            parts.append(
                f"{label} {f['distro']['p99_ms']:.1f} ms vs {f['contrib']['p99_ms']:.1f} ms "
                f"({f['distro']['p99_vs_contrib']:.2f}x)"
            )
    return "; ".join(parts) or None


def _span_metrics(results: Results) -> str | None:
    rows = _fig(results, "core")
    if rows is None or "span_metrics" not in rows:
        return None
    return f"{rows['span_metrics']['ratio']:.2f}x ({rows['span_metrics']['ours_us']:.1f} µs, recorded at collection)"


def _store(results: Results) -> str | None:
    store = _fig(results, "store")
    if store is None:
        return None
    return f"{store['ingest']['ratio_vs_span_rows']:.2f}x ({store['ingest']['spans']:,} spans)"


def _chain(results: Results) -> str | None:
    scenarios = _fig(results, "reliability")
    if scenarios is None:
        return None
    parts = []
    fast = scenarios.get("chain_throughput", {})
    if "spans_per_s" in fast:
        parts.append(
            f"{fast['spans_per_s']:,.0f}/s ({fast['received']:,} spans, "
            f"{fast['dropped_counted']:,} dropped and counted at full speed)"
        )
    paced = scenarios.get("working_exporter", {})
    if "dropped_pct" in paced:
        parts.append(f"{paced['dropped_pct']:.1f}% dropped at 200/s ({paced['spans']:,} spans, OTLP/HTTP)")
    return "; ".join(parts) or None


def _cli(results: Results) -> str | None:
    cli = _fig(results, "cli")
    if cli is None or "runs" not in cli.get("cases", {}):
        return None
    cases = cli["cases"]
    text = (
        f"{cases['runs']['first_output_ms']:.0f} ms on {cli['spans']:,} spans "
        f"(`import otel_agents.cli` {cli['import_ms']:.0f} ms; a bare interpreter {cli['bare_ms']:.0f} ms)"
    )
    if "doctor" in cases:
        text += f"; `doctor` {cases['doctor']['exit_ms']:.0f} ms"
    return text


def _export(results: Results) -> str | None:
    collector = _fig(results, "collector")
    if collector is None or "vs_stock" not in collector:
        return None
    vs = collector["vs_stock"]
    pipeline, exporter = vs["pipeline"], vs["exporter"]
    return (
        f"whole pipeline {pipeline['ratio']:.2f}x ({pipeline['ours_spans_per_core_s']:,.0f} vs "
        f"{pipeline['stock_spans_per_core_s']:,.0f} spans/s per core); exporter {exporter['ratio']:.2f}x "
        f"({exporter['ours_spans_per_core_s']:,.0f} vs {exporter['stock_spans_per_core_s']:,.0f}); "
        f"OTLP/HTTP to the collector, {vs['rounds']} rounds"
    ) + _steady(vs)


def _steady(vs: dict[str, Any]) -> str:
    steady = vs.get("steady")
    if steady is None:
        return ""
    return (
        f"; at a steady {steady['workflows_per_s'] * 4:,.0f} spans/s, whole pipeline {steady['ratio']:.2f}x "
        f"with {steady['ours_requests_per_s']:.1f} OTLP requests/s (stock {steady['stock_requests_per_s']:.1f})"
    )


# The rows of issue 13's table, in its order: (path, how to read "now", target).
ROWS: tuple[tuple[str, Callable[[Results], str | None], str], ...] = (
    (
        "FastAPI endpoint (agent + one tool) under `setup_monitoring`: throughput lost against the bare "
        "app, 4 connections",
        _web_lost("fastapi"),
        "≤ 35%",
    ),
    ("Flask the same, gunicorn sync workers", _web_lost("flask"), "≤ 30%"),
    ("p99 latency at 1 connection, against contrib's", _web_p99, "≤ 1.2x contrib's"),
    ("span-derived metrics per span, against a plain SDK span", _span_metrics, "≤ 0.2x"),
    (
        "unsampled span (ratio 0), against a plain sampled span",
        _core("unsampled", _unsampled_note),
        "≤ 0.30x",
    ),
    ("`oa.tool()` with no `configure()`, against the OTel NoOp tracer's span", _core("noconfig"), "≤ 1.5x"),
    (
        "a whole workflow (workflow > agent > tool + LLM with usage, ~10 attributes, fresh ids), all in, "
        "against the plain SDK",
        _core(
            "workflow_all_in",
            lambda r: (
                f"the plain SDK with our spans' final attributes: {r['workflow_floor']['ratio']:.2f}x"
                if "workflow_floor" in r
                else ""
            ),
        ),
        "≤ 1.4x",
    ),
    ("a tool span with a fresh `call_id` on every call, all in", _core("tool_fresh_call_id"), "≤ 1.4x"),
    ("a tool span, all in (`make bench-core`'s headline)", _core("tool_all_in"), "≤ 1.5x"),
    (
        "spans through the chain per second with 64 KiB values never seen before",
        _chain,
        "≥ 5,000/s, ≤ 1% dropped at 200/s",
    ),
    ("store ingest against raw `sqlite3` batched inserts of the same rows", _store, "≥ 0.6x"),
    ("CLI process to first output (`runs` on 1 M spans)", _cli, "≤ 80 ms; `doctor` ≤ 300 ms"),
    ("OTLP export per core, against the stock exporter", _export, "≥ 1.5x"),
)

# Rows whose benches only `make bench-all` runs.
_BENCH_ALL_ROWS = {_chain, _cli, _export}


def _measured_on(results: Results) -> str:
    if not results:
        return "No bench has written its results yet: run `make bench`."
    when = [
        f"`{name}` {record['measured_at'].replace('T', ' ')} (load {record['machine']['load_1min']})"
        for name, record in results.items()
    ]
    machines = {
        f"{m['host']} ({m['cpu']}, {m['cpus']} CPUs), Python {m['python']}, OTel SDK {m['otel_sdk']}"
        for m in (record["machine"] for record in results.values())
    }
    return f"Measured: {', '.join(when)}; on {' and '.join(sorted(machines))}. Load is the 1-minute load average at the end of each bench."


def figures_table(results: Results) -> str:
    """The issue's rows with "now" and "target", and when and where they were measured."""
    out = ["| path | now | target |", "|---|---|---|"]
    for path, now, target in ROWS:
        missing = NOT_MEASURED_ALL if now in _BENCH_ALL_ROWS else NOT_MEASURED
        out.append(f"| {path} | {now(results) or missing} | {target} |")
    return "\n".join([*out, "", _measured_on(results)])


def peers_table(results: Results) -> str:
    """The peers' ratios to the plain SDK, as ``make bench-peers`` printed them."""
    peers = _fig(results, "peers")
    if peers is None:
        return "Not measured yet: run `make bench-peers`."
    from bench.peers_bench import SYSTEMS

    out = ["| system | ratio to plain SDK |", "|---|---|"]
    for name in sorted(
        peers["systems"], key=lambda n: list(SYSTEMS).index(n) if n in SYSTEMS else len(SYSTEMS)
    ):
        r = peers["systems"][name]
        label = SYSTEMS.get(name, name) + (f" {r['version']}" if "version" in r else "")
        if "sdk_version" in r:
            label += f", OTel SDK {r['sdk_version']}"
        error = str(r.get("error", "")).replace("|", "/")[:120]
        figure = f"{r['ratio']:.2f}x" if "ratio" in r else f"not measured ({error})"
        out.append(f"| {label} | {figure} |")
    record = results["peers"]
    out += ["", f"Plain SDK: {peers['plain_us']:.0f} µs per workflow. Measured {record['measured_at']}."]
    return "\n".join(out)


def replace_between(text: str, marker: str, body: str) -> str:
    """``text`` with what lies between ``<!-- marker -->`` and ``<!-- end marker -->`` replaced."""
    pattern = re.compile(rf"(<!-- {re.escape(marker)} -->\n).*?(<!-- end {re.escape(marker)} -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"markers <!-- {marker} --> ... <!-- end {marker} --> not found")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args(argv)
    results = load(args.results)
    text = args.doc.read_text()
    text = replace_between(text, "bench table", figures_table(results))
    text = replace_between(text, "bench peers table", peers_table(results))
    args.doc.write_text(text)
    print(f"{args.doc}: figures from {', '.join(results) or 'no results'}")


if __name__ == "__main__":
    main()
