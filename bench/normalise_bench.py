"""Per-span cost of the foreign-span normaliser's end hook, against a bare call in the same run.

Run: ``.venv/bin/python -m bench.normalise_bench`` (a few seconds). Three spans, each ended once and
normalised repeatedly, so every layout is a cached plan (the steady state):

1. an HTTP client span with no GenAI key: handed on as it is (target: at most 1 us over the bare call);
2. an openai-v2 LLM span whose keys are all known: mapped, priced, rebuilt;
3. an OpenInference LLM span: tokens and model mapped, content keys removed, priced, rebuilt.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from otel_agents.api import _pricing as pricing
from otel_agents.sdk.processors._normalise import Normaliser


def _ended(scope: str, name: str, attrs: dict[str, Any]) -> ReadableSpan:
    span = TracerProvider().get_tracer(scope).start_span(name, attributes=attrs)
    span.end()
    return span._readable_span()


def _us(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--spans", type=int, default=20000)
    args = parser.parse_args()
    pricing.warm_up()
    normaliser = Normaliser()
    http = _ended(
        "opentelemetry.instrumentation.requests",
        "GET",
        {
            "http.request.method": "GET",
            "url.full": "http://127.0.0.1/x",
            "server.address": "127.0.0.1",
            "http.response.status_code": 200,
            "otel_agents.run.id": "r-1",
            "gen_ai.agent.name": "support",
        },
    )
    llm = _ended(
        "opentelemetry.util.genai.handler",
        "chat gpt-4o-mini",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 11,
            "gen_ai.usage.output_tokens": 7,
        },
    )
    oi = _ended(
        "openinference.instrumentation.langchain",
        "ChatOpenAI",
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.provider": "openai",
            "llm.token_count.prompt": 11,
            "llm.token_count.completion": 7,
            "input.value": "question",
            "output.value": "answer",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "question",
        },
    )

    def bare() -> None:
        return None

    cases = {
        "bare call": bare,
        "HTTP span, no GenAI key": lambda: normaliser.end(http),
        "openai-v2 LLM span": lambda: normaliser.end(llm),
        "OpenInference LLM span": lambda: normaliser.end(oi),
    }
    results: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(args.rounds):
        for label, fn in cases.items():
            results[label].append(_us(fn, args.spans))
    base = statistics.median(results["bare call"])
    for label, values in results.items():
        if label == "bare call":
            continue
        print(f"{label:28s} {statistics.median(values) - base:6.2f} us/span over the bare call")


if __name__ == "__main__":
    main()
