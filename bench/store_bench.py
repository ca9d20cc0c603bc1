"""Local store benchmark: batched ingest vs a raw sqlite3 floor, and `runs`/`stats` on 1M spans."""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode

from bench import _results
from otel_agents.api import _semconv as semconv
from otel_agents.api._version import __version__
from otel_agents.cli import main as cli_main
from otel_agents.store import _db as db
from otel_agents.store import _paths as paths
from otel_agents.store import _schema as schema
from otel_agents.store import open_store
from otel_agents.store._rows import INSERT_EVENT, INSERT_RUN, INSERT_SPAN, BatchRows

# Usage:
#     .venv/bin/python -m bench.store_bench                 # full: 1,000,000-span query store
#     .venv/bin/python -m bench.store_bench --spans 100000  # quicker
#
# Ingest: the store's span exporter (OTLP/JSON line + SQLite rows, runs, events, stats rollup) on
# one thread, 512-span batches, against inserting the same span rows with plain sqlite3
# executemany into the same table and indexes in 512-row transactions (WAL, synchronous=NORMAL),
# in interleaved rounds in one process. Queries: the CLI's `runs` and `stats` code paths (query
# and rendering) on a store holding the requested number of spans, median of repeated runs.
BATCH = 512
RESOURCE = Resource.create({semconv.SERVICE_NAME: "bench", semconv.SERVICE_INSTANCE_ID: "bench-1"})
SCOPE = InstrumentationScope("otel_agents", __version__)
AGENTS = ("planner", "researcher", "writer", "critic")
TOOLS = ("web_search", "kb_lookup", "crm_lookup", "calculator", "send_email")
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku")
WORKFLOWS = ("lead_sync", "support_triage", "report_builder")


def _span(
    rnd: random.Random,
    name: str,
    trace_id: int,
    parent: int | None,
    start: int,
    dur: int,
    attrs: dict[str, Any],
    error: bool = False,
) -> ReadableSpan:
    span_id = rnd.getrandbits(64) or 1
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id, span_id, False),
        parent=SpanContext(trace_id, parent, False) if parent else None,
        resource=RESOURCE,
        attributes=attrs,
        kind=SpanKind.INTERNAL,
        status=Status(StatusCode.ERROR, "boom") if error else Status(StatusCode.UNSET),
        start_time=start,
        end_time=start + dur,
        instrumentation_scope=SCOPE,
    )


def run_spans(rnd: random.Random, start: int, i: int) -> list[ReadableSpan]:
    """One workflow run as the core records it: 9 spans (workflow, 2 agents, route, 2 LLM, 3 tools)."""
    trace_id = rnd.getrandbits(128) or 1
    ids = {
        # Unique across make_spans calls (i restarts per call): one run id names one run.
        semconv.RUN_ID: f"run-{i}-{trace_id % 10**6:06d}",
        semconv.SESSION_ID: f"s-{i % 5000}",
        semconv.USER_ID: f"u-{i % 700}",
    }
    wf_name = WORKFLOWS[i % len(WORKFLOWS)]
    failed = rnd.random() < 0.05
    spans: list[ReadableSpan] = []
    wf_parent = rnd.getrandbits(64) or 1
    t = start
    tokens_in = tokens_out = 0
    cost = 0.0
    for a in range(2):
        agent = AGENTS[(i + a) % len(AGENTS)]
        agent_id = rnd.getrandbits(64) or 1
        agent_start = t
        for _ in range(1):
            model = MODELS[rnd.randrange(len(MODELS))]
            tin, tout = rnd.randint(200, 2000), rnd.randint(20, 400)
            c = (tin * 0.15 + tout * 0.6) / 1e6
            tokens_in, tokens_out, cost = tokens_in + tin, tokens_out + tout, cost + c
            dur = rnd.randint(200, 3000) * 1_000_000
            spans.append(
                _span(
                    rnd,
                    f"chat {model}",
                    trace_id,
                    agent_id,
                    t,
                    dur,
                    {
                        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
                        semconv.GEN_AI_REQUEST_MODEL: model,
                        semconv.GEN_AI_PROVIDER_NAME: "openai",
                        semconv.GEN_AI_AGENT_NAME: agent,
                        semconv.GEN_AI_USAGE_INPUT_TOKENS: tin,
                        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: tout,
                        semconv.COST_USD: c,
                        **ids,
                    },
                )
            )
            t += dur
        for tool_n in range(2 if a == 1 else 1):
            tool = TOOLS[rnd.randrange(len(TOOLS))]
            dur = rnd.randint(5, 500) * 1_000_000
            err = failed and a == 1 and tool_n == 1
            spans.append(
                _span(
                    rnd,
                    f"execute_tool {tool}",
                    trace_id,
                    agent_id,
                    t,
                    dur,
                    {
                        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
                        semconv.GEN_AI_TOOL_NAME: tool,
                        semconv.GEN_AI_TOOL_TYPE: "function",
                        semconv.GEN_AI_AGENT_NAME: agent,
                        **({semconv.ERROR_TYPE: "TimeoutError"} if err else {}),
                        **ids,
                    },
                    error=err,
                )
            )
            t += dur
        if a == 0:
            spans.append(
                _span(
                    rnd,
                    f"route {agent}",
                    trace_id,
                    agent_id,
                    t,
                    50_000,
                    {
                        semconv.ROUTE_SOURCE: agent,
                        semconv.ROUTE_TARGET: AGENTS[(i + 1) % len(AGENTS)],
                        semconv.ROUTE_CANDIDATES: AGENTS,
                        semconv.ROUTE_REASON: "needs facts",
                        semconv.ROUTE_CONFIDENCE: 0.8,
                        **ids,
                    },
                )
            )
        spans.append(
            ReadableSpan(
                name=f"invoke_agent {agent}",
                context=SpanContext(trace_id, agent_id, False),
                parent=SpanContext(trace_id, wf_parent, False),
                resource=RESOURCE,
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
                    semconv.GEN_AI_AGENT_NAME: agent,
                    **ids,
                },
                status=Status(StatusCode.ERROR, "boom") if failed and a == 1 else Status(StatusCode.UNSET),
                start_time=agent_start,
                end_time=t,
                instrumentation_scope=SCOPE,
            )
        )
    spans.append(
        ReadableSpan(
            name=f"invoke_workflow {wf_name}",
            context=SpanContext(trace_id, wf_parent, False),
            resource=RESOURCE,
            attributes={
                semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
                semconv.GEN_AI_WORKFLOW_NAME: wf_name,
                semconv.RUN_KIND: semconv.RUN_KIND_WORKFLOW,
                semconv.GEN_AI_USAGE_INPUT_TOKENS: tokens_in,
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: tokens_out,
                semconv.COST_USD: cost,
                semconv.RUN_ITEMS_DISCOVERED: 3,
                semconv.RUN_ITEMS_SUCCEEDED: 2 if failed else 3,
                semconv.RUN_METADATA_PREFIX + "product": "bench",
                **ids,
            },
            status=Status(StatusCode.ERROR, "boom") if failed else Status(StatusCode.UNSET),
            start_time=start,
            end_time=t,
            instrumentation_scope=SCOPE,
        )
    )
    return spans


def make_spans(n: int, seed: int, start_ns: int, span_ns: int) -> list[ReadableSpan]:
    """About ``n`` spans in whole runs, starts spread over ``span_ns`` from ``start_ns``."""
    rnd = random.Random(seed)
    out: list[ReadableSpan] = []
    i = 0
    while len(out) < n:
        out.extend(run_spans(rnd, start_ns + rnd.randrange(span_ns), i))
        i += 1
    return out


def ingest_store(spans: list[ReadableSpan], home: Path) -> float:
    """Seconds to export ``spans`` through the store's span exporter, 512 at a time."""
    store = open_store(home)
    t0 = time.perf_counter()
    for i in range(0, len(spans), BATCH):
        store.span_exporter.export(spans[i : i + BATCH])
    elapsed = time.perf_counter() - t0
    store.close()
    return elapsed


def ingest_raw(batches: list[BatchRows], home: Path, *, derived: bool) -> float:
    """Seconds to insert the same rows with plain sqlite3 into the same schema, 512 per transaction.

    ``derived=False``: only the span rows. ``derived=True``: also the run, event and stats rows the
    store writes, so the difference to the store is the encoding and line-file cost alone.
    """
    conn = db.connect(paths.db_path(home))
    schema.migrate(conn)
    t0 = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_SPAN, rows.spans)
        if derived:
            conn.executemany(INSERT_RUN, rows.runs)
            conn.executemany(INSERT_EVENT, rows.events)
            rows.stats.write(conn)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def bench_ingest(n: int, rounds: int) -> dict[str, Any]:
    now = time.time_ns()
    spans = make_spans(n, 1, now - 3600 * 10**9, 3600 * 10**9)
    batches = []
    for i in range(0, len(spans), BATCH):
        rows = BatchRows()
        for s in spans[i : i + BATCH]:
            rows.add_span(s, dict(s.attributes or {}), "bench", 1)
        batches.append(rows)
    rates: dict[str, list[float]] = {"store": [], "spans": [], "all": []}
    for r in range(rounds):
        # Rotate which goes first so warm-up and page-cache effects even out.
        order = ["store", "spans", "all"]
        order = order[r % 3 :] + order[: r % 3]
        for kind in order:
            with tempfile.TemporaryDirectory() as tmp:
                # Inputs were just built: settle them into the old generation before timing.
                gc.collect()
                if kind == "store":
                    elapsed = ingest_store(spans, Path(tmp))
                else:
                    elapsed = ingest_raw(batches, Path(tmp), derived=kind == "all")
            rates[kind].append(len(spans) / elapsed)
        print(
            f"  round {r + 1}: store {rates['store'][-1]:,.0f}/s, raw span rows"
            f" {rates['spans'][-1]:,.0f}/s, raw all rows {rates['all'][-1]:,.0f}/s",
            file=sys.stderr,
        )
    spans_only = [a / b for a, b in zip(rates["store"], rates["spans"], strict=True)]
    all_rows = [a / b for a, b in zip(rates["store"], rates["all"], strict=True)]
    print(f"ingest ({len(spans):,} spans, batches of {BATCH}, {rounds} rounds, medians, one thread):")
    print(f"  store exporter (line file + SQLite)  {statistics.median(rates['store']):>10,.0f} spans/s")
    print(f"  raw sqlite3, span rows only          {statistics.median(rates['spans']):>10,.0f} spans/s")
    print(f"  raw sqlite3, span+run+event+stats    {statistics.median(rates['all']):>10,.0f} spans/s")
    print(f"  ratio vs span rows only  {statistics.median(spans_only):.2f}x   (target >= 0.6x)")
    print(f"  ratio vs all rows        {statistics.median(all_rows):.2f}x")
    return {
        "spans": len(spans),
        "store_spans_per_s": statistics.median(rates["store"]),
        "raw_span_rows_per_s": statistics.median(rates["spans"]),
        "raw_all_rows_per_s": statistics.median(rates["all"]),
        "ratio_vs_span_rows": statistics.median(spans_only),
        "ratio_vs_all_rows": statistics.median(all_rows),
    }


def build_query_store(home: Path, n: int) -> None:
    """Fill ``home`` with ``n`` spans over the last 7 days through the store exporter."""
    now = time.time_ns()
    week = 7 * 86_400 * 10**9
    store = open_store(home)
    rnd_seed = 2
    done = 0
    t0 = time.perf_counter()
    while done < n:
        chunk = make_spans(min(20_000, n - done), rnd_seed, now - week, week)
        rnd_seed += 1
        for i in range(0, len(chunk), BATCH):
            store.span_exporter.export(chunk[i : i + BATCH])
        done += len(chunk)
        print(f"  built {done:,}/{n:,} spans ({done / (time.perf_counter() - t0):,.0f}/s)", file=sys.stderr)
    store.close()


def cached_query_store(n: int) -> Path:
    """A ``build_query_store`` home of ``n`` spans, built once per schema version under the cache.

    The cache is ``$BENCH_STORES`` or ~/.cache/otel-agents/bench-stores; a store is built in a
    sibling directory and renamed into place, so an interrupted build is never reused.
    """
    root = Path(os.environ.get("BENCH_STORES", Path.home() / ".cache" / "otel-agents" / "bench-stores"))
    home = root / f"schema-{schema.LATEST}-stats-{schema.SPAN_STATS_LAYOUT}-{n}-spans"
    if paths.db_path(home).exists():
        return home
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{home.name}-", dir=root))
    try:
        build_query_store(building, n)
        building.rename(home)
    except OSError:
        if not paths.db_path(home).exists():  # another run may have won the rename
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return home


def _time_cli(args: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli_main(args)
        times.append(time.perf_counter() - t0)
        assert code == 0, args
    return statistics.median(times) * 1000


def bench_queries(home: Path, repeats: int) -> dict[str, Any]:
    conn = db.connect(paths.db_path(home))
    spans = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
    runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    conn.close()
    h = ["--home", str(home)]
    cases = [
        ["runs", *h],
        ["runs", "--status", "error", *h],
        ["runs", "--name", "support_triage", "--since", "24h", *h],
        ["runs", "--user", "u-42", *h],
        ["stats", *h],
        ["stats", "--since", "24h", *h],
    ]
    print(
        f"queries on {spans:,} spans / {runs:,} runs (median of {repeats}, in-process CLI incl. rendering):"
    )
    timings = {}
    for case in cases:
        ms = _time_cli(case, repeats)
        label = " ".join(case[: -len(h)])
        timings[label] = ms
        print(f"  {label:<48} {ms:8.1f} ms   (target < 200 ms)")
    return {"spans": spans, "runs": runs, "ms": timings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ingest-spans", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--spans", type=int, default=1_000_000, help="spans in the query store")
    ap.add_argument("--home", type=Path, help="reuse (or build once) the query store here")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    ingest = bench_ingest(args.ingest_spans, args.rounds)
    home = args.home or Path(tempfile.mkdtemp(prefix="otel-agents-bench-"))
    try:
        if not paths.db_path(home).exists():
            build_query_store(home, args.spans)
        queries = bench_queries(home, args.repeats)
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    _results.write(args.json, "store", {"ingest": ingest, "queries": queries}, rounds=args.rounds)


if __name__ == "__main__":
    main()
