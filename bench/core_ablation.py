"""Where a tool span's cost goes: the core benchmark's ratio with the pipeline built up part by part.

Run: ``.venv/bin/python -m bench.core_ablation`` (or ``make bench-core-ablation``).

Each variant runs in its own process (the global tracer provider can be set once per process) and
reports its own ratio against the plain SDK span measured in that same process, as in
``bench/core_bench.py``. Consecutive variants differ by one part, so the differences in µs show
what each part adds:

- ``api``: ``oa.tool(...)`` on a provider with only the SDK's ``BatchSpanProcessor``;
- ``chain``: the span chain as the active processor, with no rewriter and no metrics, and our
  exporter queue;
- ``chain+rewrite``: plus redaction and truncation;
- ``chain+rewrite+metrics``: plus the span-metric values;
- ``configure``: what ``oa.configure()`` builds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import cast

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor as SdkBatchSpanProcessor

import otel_agents as oa
from bench.core_bench import Discard, measure_rounds, tool_spans
from otel_agents.sdk._batching import SpanExportQueue
from otel_agents.sdk.processors._chain import SpanChain
from otel_agents.sdk.processors._redaction import Redactor
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor
from otel_agents.sdk.processors._truncation import Truncator

VARIANTS = ("api", "chain", "chain+rewrite", "chain+rewrite+metrics", "configure")
_QUEUE = 1_000_000


def _sdk_provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(
        SdkBatchSpanProcessor(Discard(), max_queue_size=_QUEUE, schedule_delay_millis=200)
    )
    return provider


def _chain_provider(rewrite: bool, metrics: bool) -> TracerProvider:
    meter = MeterProvider().get_meter("bench")
    chain = SpanChain(
        [Redactor(), Truncator(4096)] if rewrite else [],
        metrics=SpanMetricsProcessor(meter, max_pending=10**8) if metrics else None,
        exporters=[SpanExportQueue(Discard(), max_queue_size=_QUEUE, schedule_delay=0.2)],
        max_queue_size=_QUEUE,
        schedule_delay=0.2,
    )
    return TracerProvider(active_span_processor=cast(SynchronousMultiSpanProcessor, chain))


def _install(variant: str) -> Callable[[], object]:
    """Install ``variant``'s provider globally; returns its flush."""
    if variant == "configure":
        telemetry = oa.configure(
            exporter="none", span_exporters=[Discard()], logs=False, max_queue_size=_QUEUE, schedule_delay=0.2
        )
        return lambda: telemetry.tracer_provider.force_flush(10_000)
    if variant == "api":
        provider = _sdk_provider()
    else:
        provider = _chain_provider("rewrite" in variant, "metrics" in variant)
    trace.set_tracer_provider(provider)
    return lambda: provider.force_flush(10_000)


def _measure(variant: str, rounds: int, n: int) -> None:
    flush_ours = _install(variant)
    plain = _sdk_provider()
    with oa.run_context(run_id="r-1", session_id="s-1", user_id="u-1"), oa.agent("researcher"):
        baseline, ours, _ = tool_spans(plain.get_tracer("bench"), flush_ours)
        base_us, _, ratio = measure_rounds(
            (baseline, lambda: plain.force_flush(10_000)), (ours, flush_ours), rounds, n
        )
    print(f"{base_us:.2f} {ratio:.4f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--spans", type=int, default=2000)
    parser.add_argument("--variant", choices=VARIANTS, help="measure one variant in this process")
    args = parser.parse_args(argv)
    if args.variant:
        _measure(args.variant, args.rounds, args.spans)
        return
    print(f"{args.rounds} rounds x {args.spans} spans per variant; one process per variant")
    previous = 0.0
    for variant in VARIANTS:
        out = subprocess.run(
            [sys.executable, "-m", "bench.core_ablation", "--variant", variant, "--rounds", str(args.rounds),
             "--spans", str(args.spans)],
            check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        base, ratio = float(out[-2]), float(out[-1])
        extra = (ratio - 1) * base
        step = "" if variant == "configure" else f"  (+{extra - previous:4.1f} us over the previous)"
        print(f"{variant:<24} ratio {ratio:.3f}x  ~{extra:4.1f} us over the plain span{step}")
        previous = extra if variant != "configure" else previous


if __name__ == "__main__":
    main()
