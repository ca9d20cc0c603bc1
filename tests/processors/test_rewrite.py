"""The rewrite processors: hand spans and logs on, rebuilt only when changed, safe when a rewriter breaks."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_agents import stats
from otel_agents.processors.rewrite import RewriteSpanProcessor


class Broken:
    """A rewriter with a bug."""

    count_attribute = None

    def __call__(self, key: str, value: str) -> str:
        raise RuntimeError("rewriter bug")


def _provider(rewriters: list[Any]) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RewriteSpanProcessor(SimpleSpanProcessor(exporter), rewriters))
    return provider, exporter


def test_broken_rewriter_exports_span_without_any_text(lenient: None) -> None:
    """When a rewriter fails, the span still goes out, stripped of every string, and the error is counted."""
    stats.reset()
    provider, exporter = _provider([Broken()])
    with provider.get_tracer("t").start_as_current_span("secret sk-abc", attributes={"a": "secret", "n": 3}):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.name == "secret"
    assert dict(span.attributes) == {"n": 3}
    assert stats.errors()["processor.rewrite.on_end"] == 1


def test_broken_rewriter_is_loud_under_tests() -> None:
    """Under the test suite the same bug re-raises, so it cannot hide."""
    provider, _ = _provider([Broken()])
    with (
        pytest.raises(RuntimeError),
        provider.get_tracer("t").start_as_current_span("s", attributes={"a": "x"}),
    ):
        pass


def test_rewrite_processor_hostile_input_never_raises() -> None:
    """Spans with odd attribute shapes (empty, mixed sequences, no events) pass through."""
    provider, exporter = _provider([lambda k, v: v.upper()])
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span(
        "s", attributes={"empty": "", "seq": ("a", "b"), "ints": (1, 2), "b": True}
    ) as s:
        s.add_event("e", {"x": "y"})
    (span,) = exporter.get_finished_spans()
    assert span.attributes["seq"] == ("A", "B")
    assert span.events[0].attributes["x"] == "Y"
