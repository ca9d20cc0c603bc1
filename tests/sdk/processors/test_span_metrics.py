"""Span-derived metrics: GenAI histograms and our counters, recorded off the hot path, bounded."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor


def _points(pipeline: Any, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    return {tuple(sorted(p.attributes.items())): p for p in pipeline.metric_points(name)}


def test_semconv_histograms_and_counters(pipeline: Any) -> None:
    """Workflow, agent, tool and LLM spans feed their duration, token, call, error and cost metrics."""
    with oa.workflow("wf"), oa.agent("a"):
        with oa.llm("gpt-4o-mini", provider="openai") as c:
            c.record_usage(input_tokens=100, output_tokens=10)
        with pytest.raises(ValueError), oa.tool("t"):
            raise ValueError
        oa.route("a", target="b")
    pipeline.spans()
    assert len(pipeline.metric_points(semconv.METRIC_WORKFLOW_DURATION)) == 1
    (agent_point,) = pipeline.metric_points(semconv.METRIC_AGENT_DURATION)
    assert agent_point.attributes[semconv.GEN_AI_AGENT_NAME] == "a"
    (tool_point,) = pipeline.metric_points(semconv.METRIC_TOOL_DURATION)
    assert tool_point.attributes[semconv.ERROR_TYPE] == "ValueError"
    tokens = {
        p.attributes[semconv.GEN_AI_TOKEN_TYPE]: p.sum
        for p in pipeline.metric_points(semconv.METRIC_CLIENT_TOKEN_USAGE)
    }
    assert tokens == {"input": 100, "output": 10}
    (cost,) = pipeline.metric_points(semconv.METRIC_COST)
    assert cost.value == pytest.approx((100 * 0.15 + 10 * 0.6) / 1e6)
    assert cost.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    (errors,) = pipeline.metric_points(semconv.METRIC_ERRORS)
    assert errors.attributes[semconv.GEN_AI_TOOL_NAME] == "t"
    (edge,) = pipeline.metric_points(semconv.METRIC_ROUTE_DECISIONS)
    assert dict(edge.attributes) == {semconv.ROUTE_SOURCE: "a", semconv.ROUTE_TARGET: "b"}
    calls = sum(p.value for p in pipeline.metric_points(semconv.METRIC_CALLS))
    assert calls == 4


def test_high_cardinality_collapses_into_overflow(pipeline: Any) -> None:
    """Past the series limit, new label sets share one overflow series and the excess is counted."""
    telemetry = pipeline.telemetry
    telemetry.span_metrics._cardinality.limit = 5
    for i in range(20):
        with oa.tool(f"tool-{i}"):
            pass
    pipeline.spans()
    points = pipeline.metric_points(semconv.METRIC_TOOL_DURATION)
    assert len(points) == 6
    overflow = [p for p in points if p.attributes.get(semconv.METRIC_OVERFLOW)]
    assert overflow and overflow[0].count == 15
    assert stats.drops()["metrics.cardinality_overflow"] >= 15


def test_pending_queue_is_bounded() -> None:
    """When nothing collects, the pending queue stops at its bound and counts the drops."""
    stats.reset()
    reader = InMemoryMetricReader()
    processor = SpanMetricsProcessor(MeterProvider(metric_readers=[reader]).get_meter("m"), max_pending=10)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for _ in range(25):
        tracer.start_span("x", attributes={semconv.GEN_AI_OPERATION_NAME: "execute_tool"}).end()
    assert stats.drops()["metrics.pending_full"] == 15
    assert processor.drain() == 10


def test_metrics_hostile_input_never_raises(pipeline: Any) -> None:
    """Spans with odd GenAI attributes (wrong types, no end, unknown operations) never raise."""
    from opentelemetry import trace

    tracer = trace.get_tracer("foreign")
    for attrs in (
        {semconv.GEN_AI_OPERATION_NAME: "weird", semconv.GEN_AI_USAGE_INPUT_TOKENS: "many"},
        {semconv.GEN_AI_OPERATION_NAME: "chat", semconv.COST_USD: True},
        {semconv.ROUTE_SOURCE: "a"},
        {semconv.GEN_AI_OPERATION_NAME: ""},
    ):
        tracer.start_span("s", attributes=attrs).end()
    pipeline.spans()
    assert pipeline.metric_points(semconv.METRIC_CALLS)


def test_duplicates_and_upstream_client_metrics_are_not_counted_twice(pipeline: Any) -> None:
    """A span marked as a duplicate adds no call; util-genai's own spans get no second token histogram."""
    from opentelemetry import trace

    from otel_agents.api import _semconv as semconv

    attrs = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 3,
    }
    upstream = trace.get_tracer("opentelemetry.util.genai.handler")
    with upstream.start_as_current_span("chat gpt-4o-mini", attributes=attrs):
        pass
    other = trace.get_tracer("some.framework")
    with other.start_as_current_span(
        "chat gpt-4o-mini", attributes={**attrs, semconv.DUPLICATE_OF: "00000000000000aa"}
    ):
        pass
    with other.start_as_current_span("chat gpt-4o-mini", attributes=attrs):
        pass
    pipeline.spans()
    calls = sum(p.value for p in pipeline.metric_points(semconv.METRIC_CALLS))
    assert calls == 2
    tokens = pipeline.metric_points(semconv.METRIC_CLIENT_TOKEN_USAGE)
    assert sum(p.count for p in tokens) == 1


def _atoms_only(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_atoms_only(item) for item in value)
    return value is None or type(value) in (bool, int, float, str)


def test_pending_records_are_nothing_the_garbage_collector_walks(pipeline: Any) -> None:
    """The records waiting for the next drain hold only atoms, which the collector untracks, so a
    full collection does not walk them."""
    metrics = pipeline.telemetry.span_metrics
    assert metrics is not None
    metrics.drain()
    for i in range(50):
        with pytest.raises(ValueError), oa.tool("lookup", call_id=f"call-{i}"):
            raise ValueError("boom")  # a failed span: its status is what a record keeps
        with oa.llm("gpt-4o-mini") as call:
            call.record_usage(input_tokens=10, output_tokens=2)
    assert pipeline.telemetry.tracer_provider.force_flush(10_000)
    pending = list(metrics._pending)
    assert len(pending) == 100
    assert all(_atoms_only(record) for record in pending)
    metrics.drain()


def _metric_state(reader: InMemoryMetricReader, sink: Any) -> dict[tuple[Any, ...], Any]:
    """Every counter's and span histogram's series, by metric name and label set."""
    state: dict[tuple[Any, ...], Any] = {}
    data = reader.get_metrics_data()
    metrics = (
        [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics] if data else []
    )
    for metric in [*metrics, *sink.metrics()]:
        for point in metric.data.data_points:
            key = (metric.name, tuple(sorted(point.attributes.items())))
            if hasattr(point, "bucket_counts"):
                state[key] = (
                    point.count,
                    pytest.approx(point.sum),
                    tuple(point.bucket_counts),
                    point.min,
                    point.max,
                )
            else:
                state[key] = pytest.approx(point.value)
    return state


def _random_spans(rnd: Any, n: int) -> list[Any]:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, Status, StatusCode

    scopes = [
        InstrumentationScope(semconv.SCOPE_NAME),
        InstrumentationScope("opentelemetry.instrumentation.openai_v2"),
        InstrumentationScope("other"),
        None,
    ]
    ops = [
        semconv.OP_EXECUTE_TOOL,
        semconv.OP_INVOKE_AGENT,
        semconv.OP_INVOKE_WORKFLOW,
        semconv.OP_CHAT,
        semconv.OP_PLAN,
        "embeddings",
        None,
    ]
    spans = []
    for i in range(n):
        attrs: dict[str, Any] = {}
        op = rnd.choice(ops)
        if op is not None:
            attrs[semconv.GEN_AI_OPERATION_NAME] = op
        for key, choices in (
            (semconv.GEN_AI_TOOL_NAME, ["search", "crm"]),
            (semconv.GEN_AI_AGENT_NAME, ["a", "b"]),
            (semconv.GEN_AI_WORKFLOW_NAME, ["wf"]),
            (semconv.GEN_AI_REQUEST_MODEL, ["gpt-4o", "claude"]),
            (semconv.GEN_AI_PROVIDER_NAME, ["openai"]),
            (semconv.SERVER_PORT, [443, 8080]),
            (semconv.ERROR_TYPE, ["Timeout"]),
            (semconv.ROUTE_SOURCE, ["a"]),
            (semconv.ROUTE_TARGET, ["b"]),
            (semconv.LEGACY_ROUTE_SOURCE, ["b"]),
            (semconv.GEN_AI_USAGE_INPUT_TOKENS, [0, 7, 120, True, "9"]),
            (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, [3, 40]),
            (semconv.COST_USD, [0.0, 0.25, 1e-6, 3]),
            (semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, [0.02, 1.5]),
            (semconv.DUPLICATE_OF, [f"{i:016x}"]),
        ):
            if rnd.random() < (0.05 if key == semconv.DUPLICATE_OF else 0.4):
                attrs[key] = rnd.choice(choices)
        start = rnd.randrange(10**12)
        code = StatusCode.ERROR if rnd.random() < 0.3 else StatusCode.UNSET
        spans.append(
            ReadableSpan(
                name="s",
                context=SpanContext(1, i + 1, False),
                attributes=attrs,
                status=Status(code),
                start_time=start,
                end_time=start + rnd.randrange(10**10),
                instrumentation_scope=rnd.choice(scopes),
            )
        )
    return spans


def test_a_drain_of_many_records_what_one_drain_per_span_records() -> None:
    """Records drained together, grouped by what decides their series, give every counter and
    histogram series the values that draining them one at a time gives, drops included."""
    import random

    from otel_agents.sdk._span_histograms import SpanHistograms

    spans = _random_spans(random.Random(20261202), 3000)
    states, drops = [], []
    for one_by_one in (True, False):
        stats.reset()
        reader = InMemoryMetricReader()
        histograms = SpanHistograms()
        sink = histograms.sink(AggregationTemporality.CUMULATIVE)
        processor = SpanMetricsProcessor(
            MeterProvider(metric_readers=[reader]).get_meter("m"), histograms=histograms, max_series=10_000
        )
        for span in spans:
            processor.note(span)
            if one_by_one:
                processor.drain()
        processor.drain()
        # Only the drops this processor counts: the counters are process-wide, and a thread left
        # by an earlier test (a store closing) once counted one of its own in between.
        states.append({k: v for k, v in _metric_state(reader, sink).items() if not _foreign_drop(k)})
        drops.append({r: n for r, n in stats.drops().items() if r.startswith(_METRIC_DROPS)})
    assert states[0] == states[1]
    assert len(states[0]) > 50  # the corpus reaches many series
    assert drops[0] == drops[1]


_METRIC_DROPS = "metrics."


def _foreign_drop(key: tuple[Any, ...]) -> bool:
    """A series of the drop counter for a reason another part of the process counted."""
    name, labels = key
    reasons = [value for label, value in labels if label == semconv.LABEL_REASON]
    return name == semconv.METRIC_DROPPED and not any(str(r).startswith(_METRIC_DROPS) for r in reasons)


def test_overflowing_records_are_each_counted_when_drained_together() -> None:
    """Past the series cap, every record of a kind drained in one go is counted as an overflow drop."""
    stats.reset()
    processor = SpanMetricsProcessor(
        MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("m"), max_series=2
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    for i in range(4):
        for _ in range(300):  # more than one chunk of a kind
            attrs = {
                semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
                semconv.GEN_AI_TOOL_NAME: f"t{i}",
            }
            tracer.start_span("x", attributes=attrs).end()
    assert processor.drain() == 1200
    # Tool duration and calls each admit t0 and t1; the 600 records of t2 and t3 overflow both.
    assert stats.drops()["metrics.cardinality_overflow"] == 1200
