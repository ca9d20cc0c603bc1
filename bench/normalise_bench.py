"""Per-span cost of the foreign-span normaliser's end hook, against a bare call in the same run.

Run: ``.venv/bin/python -m bench.normalise_bench`` (a few seconds); ``make bench-core`` prints the
same rows. Each round makes fresh spans through a real tracer provider whose processor runs the
normaliser's start hook, as the span chain does, so every span has its own ids, its own token counts
and response id, and its own ``ReadableSpan`` (nothing memoised from the span before). Only the end
hook the chain calls on the ending thread, ``Normaliser.end``, is timed, per span, with every layout
already a cached plan (the steady state):

1. an HTTP client span with no GenAI key: handed on as it is (target: at most 1 us over the bare call);
2. an openai-v2 LLM span whose keys are all known: mapped, priced, rebuilt;
3. an OpenInference LLM span: tokens and model mapped, content keys removed, priced, rebuilt;
4. the floor of mapping a known-layout span, on the openai-v2 spans of row 2: only the layout's key,
   its plan's lookup, the plan's generated reader and one rebuilt ``ReadableSpan`` with a cost key
   merged into the attributes; no role, pricing, duplicate check or roll-up. The house rule that a
   processor changing a span rebuilds it through public SDK types makes this the least any mapped
   span can cost here.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._copy import copied
from otel_agents.sdk.processors._normalise import Normaliser

ROWS = (
    ("http", "HTTP span, no GenAI key"),
    ("openai_v2", "openai-v2 LLM span"),
    ("openinference", "OpenInference LLM span"),
    ("floor", "floor: key, read, rebuild"),
)


class _Collect(SpanProcessor):
    """Runs the normaliser's start hook as the chain does and keeps each ended span for timing."""

    def __init__(self, normaliser: Normaliser) -> None:
        self.normaliser = normaliser
        self.ended: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        self.normaliser.start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


def _http(i: int) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    start = {
        "http.request.method": "GET",
        "url.full": f"http://127.0.0.1/items/{i}",
        "server.address": "127.0.0.1",
        "otel_agents.run.id": "r-1",
        "gen_ai.agent.name": "support",
    }
    return "opentelemetry.instrumentation.requests", "GET", start, {"http.response.status_code": 200}


def _openai_v2(i: int) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    start = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": 8000,
    }
    end = {
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": f"chatcmpl-{i:012d}",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 11 + i % 97,
        "gen_ai.usage.output_tokens": 7 + i % 31,
    }
    return "opentelemetry.util.genai.handler", "chat gpt-4o-mini", start, end


def _openinference(i: int) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    end = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.provider": "openai",
        "llm.token_count.prompt": 11 + i % 97,
        "llm.token_count.completion": 7 + i % 31,
        "input.value": f"question {i}",
        "output.value": f"answer {i}",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": f"question {i}",
    }
    return "openinference.instrumentation.langchain", "ChatOpenAI", {}, end


# Spans made and timed at a time: few enough to stay in the CPU caches, like a span just ended.
BATCH = 64
_MAKERS = {"http": _http, "openai_v2": _openai_v2, "openinference": _openinference, "floor": _openai_v2}


def _spans(
    collect: _Collect,
    make: Callable[[int], tuple[str, str, dict[str, Any], dict[str, Any]]],
    first: int,
    n: int,
) -> list[ReadableSpan]:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(collect)
    collect.ended = []
    for i in range(first, first + n):
        scope, name, start, end = make(i)
        span = provider.get_tracer(scope).start_span(name, attributes=start)
        span.set_attributes(end)
        span.end()
    return collect.ended


def _us(fn: Callable[[ReadableSpan], object], spans: list[ReadableSpan]) -> float:
    # CPU time of this thread: on a shared machine, time spent preempted is not the normaliser's.
    start = time.thread_time()
    for span in spans:
        fn(span)
    return (time.thread_time() - start) / len(spans) * 1e6


def measure(rounds: int = 7, spans: int = 5000) -> dict[str, float]:
    """Median us per span over the bare call for each of ``ROWS``, fresh spans every round."""
    # As configure() does: the price table's objects leave the collector's scans, which then see
    # only what the spans themselves allocate (the collections they trigger are timed).
    pricing.warm_up(freeze_gc=True)
    normaliser = Normaliser()
    collect = _Collect(normaliser)
    counter = itertools.count(0, BATCH)

    def bare(span: ReadableSpan) -> None:
        return None

    end = normaliser.end
    plans = normaliser._plans

    def floor(span: ReadableSpan) -> ReadableSpan:
        attrs = span._attributes._dict  # type: ignore[union-attr]
        plan = plans[(span._name, *attrs)]
        assert plan is not None
        plan.read(attrs)
        return copied(span, attributes={**attrs, semconv.COST_USD: 0.0})

    timed = {key: floor if key == "floor" else end for key in _MAKERS}
    for make in _MAKERS.values():  # the steady state: every layout has its plan
        for span in _spans(collect, make, next(counter), BATCH):
            end(span)
    results: dict[str, list[float]] = {key: [] for key in _MAKERS}
    for _ in range(rounds):
        for key, make in _MAKERS.items():
            # Small batches, so each span is about as warm in the CPU caches as one that has
            # just ended; a round is the mean over all its batches.
            total = 0.0
            for _ in range(max(spans // BATCH, 1)):
                batch = _spans(collect, make, next(counter), BATCH)
                total += _us(timed[key], batch) - _us(bare, batch)
            results[key].append(total / max(spans // BATCH, 1))
    return {key: statistics.median(values) for key, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--spans", type=int, default=5000)
    args = parser.parse_args()
    figures = measure(args.rounds, args.spans)
    for key, label in ROWS:
        print(f"{label:28s} {figures[key]:6.2f} us/span over the bare call")


if __name__ == "__main__":
    main()
