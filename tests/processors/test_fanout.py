"""Fan-out: one processor that raises does not keep spans or log records from the others."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_agents import stats
from otel_agents.processors.fanout import FanOutSpanProcessor


class Raising(SpanProcessor):
    """A user processor with a bug in every hook."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise RuntimeError("start")

    def on_end(self, span: Any) -> None:
        raise RuntimeError("end")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        raise RuntimeError("flush")

    def shutdown(self) -> None:
        raise RuntimeError("shutdown")


def test_fanout_hostile_processor_never_raises(lenient: None) -> None:
    """A raising processor is isolated: the next one still exports, and the errors are counted."""
    stats.reset()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(FanOutSpanProcessor([Raising(), SimpleSpanProcessor(exporter)]))
    with provider.get_tracer("t").start_as_current_span("s"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["s"]
    assert provider.force_flush() is True
    provider.shutdown()
    errors = stats.errors()
    assert errors["fanout.on_start"] == 1
    assert errors["fanout.on_end"] == 1


class Counting(SpanProcessor):
    """A user processor that needs both hooks."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started.append(span.name)

    def on_end(self, span: Any) -> None:
        self.ended.append(span.name)
        self.last_attributes = dict(span.attributes)


def test_user_processors_get_on_start_and_redacted_on_end(make_pipeline: Any) -> None:
    """A processor passed to configure() sees every span start, and its end only after redaction."""
    import otel_agents as oa

    user = Counting()
    pipeline = make_pipeline(span_processors=[user])
    with oa.tool("t") as t:
        t.set_attribute("password", "hunter2")
    pipeline.spans()
    assert user.started == ["execute_tool t"]
    assert user.ended == ["execute_tool t"]
    assert user.last_attributes["password"] == "[REDACTED:secret_key]"
