"""Unknown prices, for foreign spans and oa.llm alike: marked, NULL in the store, never $0 in stats."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace

import otel_agents as oa
from otel_agents.api import _semconv as semconv


def _tracer(name: str = "some.framework") -> trace.Tracer:
    return trace.get_tracer(name)


def test_unknown_price_is_marked_and_never_zero(store_run: Any) -> None:
    """An unpriced foreign call and an unpriced oa.llm: cost.unknown, NULL cost, an unpriced count."""
    run = store_run()
    with oa.workflow("w"):
        with _tracer().start_as_current_span(
            "chat my-private-model",
            attributes={
                semconv.GEN_AI_OPERATION_NAME: "chat",
                semconv.GEN_AI_REQUEST_MODEL: "my-private-model",
            },
        ) as span:
            span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, 5)
        with oa.llm("my-private-model") as llm:
            llm.record_usage(input_tokens=3, output_tokens=1)
    run.flush()
    spans = [s for s in run.captured.spans() if s.name == "chat my-private-model"]
    assert len(spans) == 2
    assert all(s.attributes[semconv.COST_UNKNOWN] is True for s in spans)
    (row,) = [r for r in run.cli_json("stats") if r["kind"] == "model"]
    assert row["calls"] == 2 and row["cost_usd"] is None and row["unpriced_calls"] == 2
    (workflow,) = [r for r in run.cli_json("stats") if r["kind"] == "workflow"]
    assert workflow["cost_usd"] is None and workflow["unpriced_calls"] == 2
    assert "$0" not in run.cli("stats")


def test_short_windows_keep_unpriced_calls_and_null_cost(store_run: Any) -> None:
    """`stats --since 1m`, read from the spans at the window's edge, also keeps NULL cost and the count."""
    run = store_run()
    with oa.workflow("w"):
        with oa.llm("my-private-model") as llm:
            llm.record_usage(input_tokens=3, output_tokens=1)
        with oa.llm("gpt-4o-mini", provider="openai") as priced:
            priced.record_usage(input_tokens=1000, output_tokens=10)
    run.flush()
    rows = {(r["kind"], r["name"]): r for r in run.cli_json("stats", "--since", "1m")}
    unpriced = rows[("model", "my-private-model")]
    assert unpriced["calls"] == 1 and unpriced["cost_usd"] is None and unpriced["unpriced_calls"] == 1
    assert rows[("model", "gpt-4o-mini")]["cost_usd"] > 0
    workflow = rows[("workflow", "w")]
    assert workflow["cost_usd"] == rows[("model", "gpt-4o-mini")]["cost_usd"]
    assert workflow["unpriced_calls"] == 1


def test_short_windows_count_one_call_once(store_run: Any) -> None:
    """Two nested spans of one model call count once in `stats --since 1m`, as in the hourly rows."""
    run = store_run()
    attributes = {semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini"}
    with (
        oa.workflow("w"),
        _tracer("outer.instrumentation").start_as_current_span("chat gpt-4o-mini", attributes=attributes),
        _tracer("inner.instrumentation").start_as_current_span(
            "chat gpt-4o-mini", attributes=attributes
        ) as inner,
    ):
        inner.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, 10)
        inner.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, 2)
    run.flush()
    whole = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    edge = {(r["kind"], r["name"]): r for r in run.cli_json("stats", "--since", "1m")}
    assert whole[("model", "gpt-4o-mini")]["calls"] == 1
    assert edge[("model", "gpt-4o-mini")]["calls"] == 1
    assert edge[("model", "gpt-4o-mini")]["input_tokens"] == whole[("model", "gpt-4o-mini")]["input_tokens"]
