"""Per-span and per-workflow cost of otel-agents against the plain OTel SDK, as ratios in the same run.

Run: ``.venv/bin/python -m bench.core_bench`` (or ``make bench-core``).

Every row interleaves rounds of the two sides and reports the median per-round ratio. Each side's
time includes flushing its provider, so work deferred to threads is counted; for otel-agents the
flush ends with a metric collection, so the span-derived metrics are recorded inside the timed
window ("all in"). Rows, as in issue 13's table:

1. tool span, all in (the headline): ``oa.tool(...)`` through ``configure()``'s pipeline vs a plain
   SDK span with the same final attributes, SDK ``BatchSpanProcessor`` and the same discarding
   exporter;
2. the same with a fresh ``call_id`` on every call (a value the redaction memory never saw);
3. a whole workflow (workflow > agent > tool + LLM with usage, fresh trace, call and response
   ids), the one ``bench/peers/workflow.py`` runs, vs the same spans through the plain SDK; beside it,
   the same plain spans carrying the final attributes of ours (all set at each span's start, the
   cheapest way the SDK takes them), vs the plain workflow: the share of the ratio that is the SDK's
   own handling of the attributes otel-agents adds;
4. span-derived metrics per span: recording them into the instruments at collection, against the
   plain span of row 1;
5. an unsampled span (``OTEL_TRACES_SAMPLER=traceidratio``, ratio 0) vs a plain sampled span, with
   the SDK's own unsampled span beside it (own process), and the same with ``record_unsampled=False``
   (the SDK's behaviour: dropped at its start; own process);
6. ``oa.tool()`` with no ``configure()`` vs the OTel NoOp tracer's span (own process);
7. a plain span from another tracer with run-context and agent stamping vs without;

then, in µs per span over a bare call rather than as a ratio, the foreign-span normaliser's end hook
(``bench/normalise_bench.py``'s measurement): the issue's target is at most 1 µs for a span whose keys
are all known.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.trace import Tracer

import otel_agents as oa
from bench import _results, normalise_bench
from bench._discard import DiscardMetrics
from bench.peers.workflow import oa_workflow, plain_workflow
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor
from otel_agents.sdk.processors._stamping import RunContextProcessor

TOOL_ARGUMENTS = {"q": "acme", "limit": 10}
CALL_ID = "gen_ai.tool.call.id"
RESPONSE_ID = "gen_ai.response.id"
_QUEUE = 1_000_000


class Discard(SpanExporter):
    """Accepts every batch and keeps nothing (unless ``kept`` is a list): the exporter both sides share."""

    def __init__(self) -> None:
        self.kept: list[ReadableSpan] | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.kept is not None:
            self.kept.extend(spans)
        return SpanExportResult.SUCCESS


def per_call_us(fn: Callable[[], None], n: int, flush: Callable[[], None]) -> float:
    """Microseconds per call of ``fn`` over ``n`` calls, including the flush of what they queued.

    Counting the flush charges each side for the work its processors defer to background threads.
    """
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    flush()
    return (time.perf_counter() - start) / n * 1e6


def measure_rounds(
    baseline: tuple[Callable[[], None], Callable[[], None]],
    ours: tuple[Callable[[], None], Callable[[], None]],
    rounds: int,
    n: int,
    settle: Callable[[], None] = lambda: None,
) -> tuple[float, float, float]:
    """Interleaved rounds of (span maker, its provider's flush) per side: the median microseconds
    per span of each side and the median per-round ratio. ``settle`` runs untimed after each round."""
    base_us, ours_us, ratios = [], [], []
    for _ in range(rounds):
        b = per_call_us(baseline[0], n, baseline[1])
        o = per_call_us(ours[0], n, ours[1])
        settle()
        base_us.append(b)
        ours_us.append(o)
        ratios.append(o / b)
    return statistics.median(base_us), statistics.median(ours_us), statistics.median(ratios)


def span_maker(tracer: Tracer, name: str, attributes: dict[str, Any]) -> Callable[[], None]:
    """A function that makes one current span ``name`` with ``attributes`` through ``tracer``."""

    def make() -> None:
        with tracer.start_as_current_span(name, attributes=attributes):
            pass

    return make


def _batch_provider(sampler: Any = ALWAYS_ON) -> TracerProvider:
    """A plain SDK provider: ``BatchSpanProcessor`` with a big queue and the discarding exporter."""
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(
        BatchSpanProcessor(Discard(), max_queue_size=_QUEUE, schedule_delay_millis=200)
    )
    return provider


def tool_spans(
    plain_tracer: Tracer, flush_ours: Callable[[], object]
) -> tuple[Callable[[], None], Callable[[], None], int]:
    """The tool span both sides make (plain SDK, ``oa.tool``) and how many attributes it has.

    Call inside ``run_context`` and an agent: the plain span gets, up front, the attributes our
    span ends with there.
    """
    final_attrs = _final_tool_attributes(flush_ours)
    baseline_tool = span_maker(plain_tracer, "execute_tool web_search", final_attrs)

    def ours_tool() -> None:
        with oa.tool("web_search", arguments=TOOL_ARGUMENTS):
            pass

    return baseline_tool, ours_tool, len(final_attrs)


def _final_tool_attributes(flush_ours: Callable[[], object], **kwargs: Any) -> dict[str, Any]:
    with oa.tool("web_search", arguments=TOOL_ARGUMENTS, **kwargs) as probe:
        pass
    flush_ours()
    return dict(getattr(probe.span, "attributes", {}) or {})


def fresh_call_id_spans(
    plain_tracer: Tracer, flush_ours: Callable[[], object]
) -> tuple[Callable[[], None], Callable[[], None]]:
    """Both sides' tool span with a call id never seen before on every call."""
    final_attrs = _final_tool_attributes(flush_ours, call_id="probe")

    def baseline() -> None:
        with plain_tracer.start_as_current_span(
            "execute_tool web_search", attributes={**final_attrs, CALL_ID: uuid.uuid4().hex}
        ):
            pass

    def ours() -> None:
        with oa.tool("web_search", arguments=TOOL_ARGUMENTS, call_id=uuid.uuid4().hex):
            pass

    return baseline, ours


def _final_workflow_attributes(sink: Discard, flush_ours: Callable[[], object]) -> dict[str, tuple[str, Any]]:
    """Each span of one ``oa_workflow()`` by its operation: its name and final attributes."""
    sink.kept = []
    oa_workflow()()
    flush_ours()
    kept, sink.kept = sink.kept, None
    spans = {}
    for span in kept:
        attrs = dict(span.attributes or {})
        spans[str(attrs["gen_ai.operation.name"])] = (span.name, attrs)
    return spans


def floor_workflow(plain_tracer: Tracer, final: dict[str, tuple[str, Any]]) -> Callable[[], None]:
    """The workflow through the plain SDK with the final attributes of otel-agents' spans, each set
    in the one call that starts its span (the cheapest way the SDK takes them), fresh ids included."""
    (wf_name, wf), (agent_name, agent) = final["invoke_workflow"], final["invoke_agent"]
    (tool_name, tool), (llm_name, llm) = final["execute_tool"], final["chat"]
    start = plain_tracer.start_as_current_span

    def run() -> None:
        with start(wf_name, attributes=wf), start(agent_name, attributes=agent):
            with start(tool_name, attributes={**tool, CALL_ID: uuid.uuid4().hex}):
                pass
            with start(llm_name, attributes={**llm, RESPONSE_ID: uuid.uuid4().hex}):
                pass

    return run


def _rounds(
    label: str,
    baseline: tuple[Callable[[], None], Callable[[], None]],
    ours: tuple[Callable[[], None], Callable[[], None]],
    rounds: int,
    n: int,
    settle: Callable[[], None] = lambda: None,
) -> tuple[float, float, float]:
    """``measure_rounds``, printed under ``label``."""
    result = measure_rounds(baseline, ours, rounds, n, settle)
    print(f"{label:<58} baseline {result[0]:8.2f} us  ours {result[1]:8.2f} us  ratio {result[2]:.2f}x")
    return result


def _row(result: tuple[float, float, float]) -> dict[str, float]:
    return {"baseline_us": result[0], "ours_us": result[1], "ratio": result[2]}


def _deferred_metrics_us(
    telemetry: oa.Telemetry, metrics: SpanMetricsProcessor, make_span: Callable[[], None], n: int
) -> float:
    """Microseconds per span that draining the span-derived metrics into the instruments costs."""
    metrics.drain()
    costs = []
    for _ in range(5):
        for _ in range(n):
            make_span()
        # The spans only (they reach the metrics processor after the rewrite): a metric flush
        # would drain the queue itself.
        telemetry.tracer_provider.force_flush(10_000)
        start = time.perf_counter()
        recorded = metrics.drain()
        costs.append((time.perf_counter() - start) / max(recorded, 1) * 1e6)
    return statistics.median(costs)


def _main_rows(rounds: int, n: int, workflows: int) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Rows 1-4 and 7, in this process, with ``configure()``'s pipeline installed; and the tool
    span's final attributes."""
    sink = Discard()
    telemetry = oa.configure(
        exporter="none",
        span_exporters=[sink],
        logs=False,
        # A push exporter, as the store and OTLP are: the span histograms are aggregated for it.
        metric_exporters=[DiscardMetrics()],
        max_queue_size=_QUEUE,
        schedule_delay=0.2,
    )
    plain = _batch_provider()
    plain_tracer = plain.get_tracer("bench")
    stamped = TracerProvider(sampler=ALWAYS_ON)
    stamped.add_span_processor(RunContextProcessor())
    stamped.add_span_processor(
        BatchSpanProcessor(Discard(), max_queue_size=_QUEUE, schedule_delay_millis=200)
    )
    stamped_tracer = stamped.get_tracer("bench")
    metrics = telemetry.span_metrics
    assert metrics is not None

    def flush_ours() -> None:
        # Spans, then a metric collection: the span-derived metrics are recorded in the window.
        telemetry.force_flush(10)

    def flush_plain() -> None:
        plain.force_flush(10_000)

    rows: dict[str, dict[str, float]] = {}
    with oa.run_context(run_id="r-1", session_id="s-1", user_id="u-1"), oa.agent("researcher"):
        baseline_tool, ours_tool, n_attrs = tool_spans(plain_tracer, flush_ours)
        tool_attrs = _final_tool_attributes(flush_ours)
        print(f"{n_attrs} attributes per tool span; {rounds} rounds x {n} spans, {workflows} workflows")
        rows["tool_all_in"] = _row(
            _rounds("tool span, all in", (baseline_tool, flush_plain), (ours_tool, flush_ours), rounds, n)
        )
        fresh_base, fresh_ours = fresh_call_id_spans(plain_tracer, flush_ours)
        rows["tool_fresh_call_id"] = _row(
            _rounds(
                "tool span with a fresh call_id, all in",
                (fresh_base, flush_plain),
                (fresh_ours, flush_ours),
                rounds,
                n,
            )
        )
        http_attrs = {"http.request.method": "GET", "url.full": "https://example.com/x", "server.port": 443}
        rows["stamping"] = _row(
            _rounds(
                "plain span + run_context/agent stamping",
                (span_maker(plain_tracer, "GET", http_attrs), flush_plain),
                (span_maker(stamped_tracer, "GET", http_attrs), lambda: stamped.force_flush(10_000)),
                rounds,
                n,
            )
        )
        deferred = _deferred_metrics_us(telemetry, metrics, ours_tool, n)
    rows["span_metrics"] = {
        "baseline_us": rows["tool_all_in"]["baseline_us"],
        "ours_us": deferred,
        "ratio": deferred / rows["tool_all_in"]["baseline_us"],
    }
    print(
        f"{'span-derived metrics per span (recording at collection)':<58} "
        f"{deferred:.2f} us = {rows['span_metrics']['ratio']:.2f}x the plain span"
    )
    # Outside any run context: each workflow is its own trace, as in the peers bench.
    rows["workflow_all_in"] = _row(
        _rounds(
            "whole workflow, all in",
            (plain_workflow(plain_tracer), flush_plain),
            (oa_workflow(), flush_ours),
            rounds,
            workflows,
        )
    )
    # What of that ratio the SDK's handling of our spans' attributes alone costs.
    final = _final_workflow_attributes(sink, flush_ours)
    rows["workflow_floor"] = _row(
        _rounds(
            "  plain SDK with otel-agents' final attributes (floor)",
            (plain_workflow(plain_tracer), flush_plain),
            (floor_workflow(plain_tracer, final), flush_plain),
            rounds,
            workflows,
        )
    )
    telemetry.shutdown()
    plain.shutdown()
    stamped.shutdown()
    return rows, tool_attrs


def _unsampled_rows(rounds: int, n: int) -> dict[str, dict[str, float]]:
    """Row 5: run with ``OTEL_TRACES_SAMPLER=traceidratio`` and ratio 0 in the environment."""
    telemetry = oa.configure(
        exporter="none", span_exporters=[Discard()], logs=False, max_queue_size=_QUEUE, schedule_delay=0.2
    )
    plain = _batch_provider()
    unsampled = _batch_provider(ALWAYS_OFF)
    attrs = json.loads(os.environ["BENCH_TOOL_ATTRS"])
    baseline = (
        span_maker(plain.get_tracer("bench"), "execute_tool web_search", attrs),
        lambda: plain.force_flush(10_000),
    )
    sdk_unsampled = span_maker(unsampled.get_tracer("bench"), "execute_tool web_search", attrs)

    def ours() -> None:
        with oa.tool("web_search", arguments=TOOL_ARGUMENTS):
            pass

    with oa.run_context(run_id="r-1", session_id="s-1", user_id="u-1"), oa.agent("researcher"):
        rows = {
            "unsampled": _row(measure_rounds(baseline, (ours, lambda: telemetry.force_flush(10)), rounds, n)),
            "sdk_unsampled": _row(
                measure_rounds(baseline, (sdk_unsampled, lambda: unsampled.force_flush(10_000)), rounds, n)
            ),
        }
    telemetry.shutdown()
    return rows


def _noconfig_rows(rounds: int, n: int) -> dict[str, dict[str, float]]:
    """Row 6: no ``configure()`` and no SDK provider in this process."""
    noop = span_maker(trace.NoOpTracer(), "execute_tool web_search", {})

    def ours() -> None:
        with oa.tool("web_search", arguments=TOOL_ARGUMENTS):
            pass

    return {"noconfig": _row(measure_rounds((noop, lambda: None), (ours, lambda: None), rounds, n))}


def _in_own_process(variant: str, rounds: int, n: int, env: dict[str, str]) -> dict[str, dict[str, float]]:
    argv = [sys.executable, "-m", "bench.core_bench", "--variant", variant, "--rounds", str(rounds)]
    argv += ["--spans", str(n)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout
    rows: dict[str, dict[str, float]] = json.loads(out.strip().splitlines()[-1])
    return rows


ROWS = (
    ("tool_all_in", "tool span, all in (headline)"),
    ("tool_fresh_call_id", "tool span with a fresh call_id, all in"),
    ("workflow_all_in", "whole workflow, all in"),
    ("workflow_floor", "  the plain SDK with our final attributes"),
    ("span_metrics", "span-derived metrics per span, vs a plain span"),
    ("unsampled", "unsampled span (ratio 0), vs a plain sampled span"),
    ("unsampled_not_recorded", "  the same with record_unsampled=False"),
    ("sdk_unsampled", "  the SDK's own unsampled span, same baseline"),
    ("noconfig", "oa.tool() with no configure(), vs the NoOp tracer's span"),
    ("stamping", "plain span + run_context/agent stamping"),
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--spans", type=int, default=2000, help="spans per round and side")
    parser.add_argument("--workflows", type=int, default=500, help="workflows per round and side")
    parser.add_argument("--variant", choices=("unsampled", "noconfig"), help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.variant == "unsampled":
        print(json.dumps(_unsampled_rows(args.rounds, args.spans)))
        return
    if args.variant == "noconfig":
        print(json.dumps(_noconfig_rows(args.rounds, args.spans * 10)))
        return

    rows, tool_attrs = _main_rows(args.rounds, args.spans, args.workflows)
    # The unsampled process's own spans record nothing: its plain span gets these attributes.
    unsampled_env = {
        "OTEL_TRACES_SAMPLER": "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0",
        "BENCH_TOOL_ATTRS": json.dumps(tool_attrs),
    }
    rows |= _in_own_process("unsampled", args.rounds, args.spans, unsampled_env)
    # The same with the SDK's behaviour (unsampled spans dropped at their start, not recorded).
    dropped = _in_own_process(
        "unsampled", args.rounds, args.spans, {**unsampled_env, "OTEL_AGENTS_RECORD_UNSAMPLED": "false"}
    )
    rows["unsampled_not_recorded"] = dropped["unsampled"]
    rows |= _in_own_process("noconfig", args.rounds, args.spans, {})
    print(f"\n| {'path':<58} | ratio  |")
    print(f"|{'-' * 60}|--------|")
    for key, label in ROWS:
        print(f"| {label:<58} | {rows[key]['ratio']:5.2f}x |")
    print(f"plain SDK tool span: {rows['tool_all_in']['baseline_us']:.1f} us; plain workflow: "
          f"{rows['workflow_all_in']['baseline_us']:.1f} us")  # fmt: skip
    normaliser = normalise_bench.measure(min(args.rounds, 7), max(args.spans, normalise_bench.BATCH))
    rows["normaliser"] = {f"{key}_us": normaliser[key] for key, _ in normalise_bench.ROWS}
    print("\nforeign-span normaliser, end hook, us per span over a bare call (target: <= 1 us, known keys):")
    for key, label in normalise_bench.ROWS:
        print(f"  {label:<28} {normaliser[key]:6.2f} us")
    _results.write(args.json, "core", rows, rounds=args.rounds, spans=args.spans, workflows=args.workflows)


if __name__ == "__main__":
    main()
