"""The run-context processor: stamps ids and agent names on foreign spans, whatever the baggage holds."""

from __future__ import annotations

from typing import Any

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._stamping import RunContextProcessor


def test_foreign_span_keeps_its_own_agent_name(pipeline: Any) -> None:
    """A foreign span that names its own agent keeps it; the stamp only fills what is missing."""
    own = {semconv.GEN_AI_AGENT_NAME: "own"}
    with oa.agent("outer"), trace.get_tracer("agents-sdk").start_as_current_span("x", attributes=own):
        pass
    assert pipeline.span("x").attributes[semconv.GEN_AI_AGENT_NAME] == "own"


def _span_under_hostile_baggage(tracer: trace.Tracer) -> None:
    ctx = otel_context.get_current()
    for key, value in (
        (semconv.RUN_ID, "\u00e9\u4e2d\U0001f600"),
        (semconv.SESSION_ID, ""),
        (semconv.USER_ID, "x" * 100_000),
        (semconv.REQUEST_ID, "a\nb\x00c"),
    ):
        ctx = baggage.set_baggage(key, value, ctx)
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span("s"):
            pass
    finally:
        otel_context.detach(token)


def _assert_stamped_sanely(attrs: Any) -> None:
    assert attrs[semconv.RUN_ID] == "\u00e9\u4e2d\U0001f600"
    assert semconv.SESSION_ID not in attrs
    assert len(attrs[semconv.USER_ID]) == 256


def test_run_context_processor_hostile_input_never_raises() -> None:
    """The standalone processor, on a provider of its own: odd baggage never makes stamping raise."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(RunContextProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _span_under_hostile_baggage(provider.get_tracer("t"))
    (span,) = exporter.get_finished_spans()
    _assert_stamped_sanely(span.attributes)


def test_stamping_in_the_pipeline_under_hostile_baggage(pipeline: Any) -> None:
    """Odd baggage (non-ASCII, empty, huge, control characters) never makes the pipeline's stamping raise."""
    _span_under_hostile_baggage(trace.get_tracer("t"))
    _assert_stamped_sanely(pipeline.span("s").attributes)
