"""Rewriting spans and logs: rebuilt only when changed, stripped of all text when a rewriter breaks."""

from __future__ import annotations

from typing import Any, cast

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._chain import SpanChain
from otel_agents.sdk.processors._redaction import Redactor
from otel_agents.sdk.processors._rewrite import RewriteLogProcessor, Unchanged, rewrite_span


class Broken:
    """A rewriter with a bug."""

    count_attribute = None

    def __call__(self, key: str, value: str) -> str:
        raise RuntimeError("rewriter bug")


def _provider(rewriters: list[Any]) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    # A user processor makes the chain rewrite on the ending thread, where a bug can be seen.
    chain = SpanChain(rewriters, processors=[SimpleSpanProcessor(exporter)])
    provider = TracerProvider(
        active_span_processor=cast(SynchronousMultiSpanProcessor, chain), shutdown_on_exit=False
    )
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


def test_rewrite_log_processor_hostile_input_never_raises() -> None:
    """Log records with odd bodies (bytes, nested maps, None, NaN) and attributes pass through rewritten."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        RewriteLogProcessor(SimpleLogRecordProcessor(exporter), [lambda k, v: v.upper()])
    )
    logger = provider.get_logger("t")
    for body in (b"\xff", {"a": "x", "n": {"deep": "y"}}, None, float("nan"), "text"):
        logger.emit(body=body, attributes={"k": "v", "seq": ("a", 1), "e": ""})
    records = [r.log_record for r in exporter.get_finished_logs()]
    assert len(records) == 5
    assert records[1].body["a"] == "X"
    assert records[4].body == "TEXT"
    assert all(r.attributes["k"] == "V" for r in records)


def _ended(tracer: Any, attributes: dict[str, Any]) -> Any:
    span = tracer.start_span("chat m", attributes=attributes)
    span.end()
    return span._readable_span()


def test_a_span_whose_text_lists_were_seen_clean_is_handed_on_as_it_is() -> None:
    """A finish-reasons list seen clean before lets the span skip the rewrite; a secret in one never does."""
    redactor = Redactor()
    unchanged = Unchanged()
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("t")
    clean = {"gen_ai.response.finish_reasons": ("stop", "length"), "n": 1}
    first = _ended(tracer, clean)
    assert rewrite_span(first, [redactor], unchanged) is first
    again = _ended(tracer, clean)
    calls: list[str] = []

    def counting(key: str, value: str) -> str:
        calls.append(value)
        return redactor(key, value)

    assert rewrite_span(again, [counting], unchanged) is again
    assert calls == []  # every text of it was remembered clean: no rewriter ran
    secret = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
    hostile = _ended(tracer, {"gen_ai.response.finish_reasons": ("stop", f"x {secret}"), "n": 1})
    out = rewrite_span(hostile, [redactor], unchanged)
    assert out is not hostile
    assert secret not in str(out.attributes["gen_ai.response.finish_reasons"])
    assert out.attributes["gen_ai.response.finish_reasons"][0] == "stop"


def test_a_fresh_secret_beside_texts_seen_clean_is_redacted_and_counted_once() -> None:
    """A new secret value in a span whose other texts are all known is redacted, and counted, once."""
    stats.reset()
    redactor = Redactor()
    unchanged = Unchanged()
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("t")
    known = {"gen_ai.tool.name": "lookup", "gen_ai.tool.call.id": "call-1"}
    first = _ended(tracer, known)
    assert rewrite_span(first, [redactor], unchanged) is first
    secret = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
    hostile = _ended(tracer, {**known, "gen_ai.tool.call.id": f"call {secret}"})
    out = rewrite_span(hostile, [redactor], unchanged)
    assert secret not in str(dict(out.attributes or {}))
    assert out.attributes["gen_ai.tool.name"] == "lookup"
    assert out.attributes[semconv.REDACTED_COUNT] == 1
    assert stats.redactions() == {"api_key": 1}
