"""The OTLP request encoder: the stock encoder's message, byte for byte in meaning, from any span."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from otel_agents.sdk import _otlp_encode
from otel_agents.sdk._otlp_encode import TraceRequestEncoder
from otel_agents.sdk.processors._copy import copied

REMOTE = SpanContext(0xABC, 0xDEF, True, TraceFlags(1), TraceState([("vendor", "v1"), ("k", "x")]))
LONG = "x" * 20_000  # a length that takes a three-byte varint
VALUES: dict[str, Any] = {
    "text": "acme",
    "empty": "",
    "unicode": "größe ✓ 🚀",
    "long": LONG,
    "yes": True,
    "no": False,
    "zero": 0,
    "negative": -5,
    "int64_min": -(2**63),
    "int64_max": 2**63 - 1,
    "float": 1.5,
    "negative_float": -0.25,
    "inf": float("inf"),
    "ints": (1, -2, 3),
    "texts": ("a", "é", ""),
    "bools": (True, False),
    "floats": (0.5,),
    "no_items": (),
}


def _provider(**kwargs: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(**kwargs)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _varied_spans() -> list[ReadableSpan]:
    """Spans of two resources and several scopes (two equal ones made apart) with every field set."""
    provider, exporter = _provider(resource=Resource.create({"service.name": "svc", "n": 3}, "https://r"))
    other, other_exporter = _provider(resource=Resource.create({"service.name": "other"}))
    tracer = provider.get_tracer("lib", "1.2", schema_url="https://s", attributes={"scope.attr": 1})
    first, second = provider.get_tracer("twin"), provider.get_tracer("twin")
    for kind in SpanKind:
        with tracer.start_as_current_span(f"op {kind.name}", kind=kind, attributes=VALUES) as span:
            span.add_event("event", {"e": "x", "n": 2}, timestamp=123)
            span.add_event("")
            span.add_link(REMOTE, {"link.attr": "y"})
            with first.start_as_current_span("child") as child:
                child.set_status(Status(StatusCode.ERROR, "it broke"))
            with second.start_as_current_span("child 2") as child:
                child.set_status(Status(StatusCode.OK))
    with tracer.start_as_current_span(
        "remote parent", context=trace.set_span_in_context(trace.NonRecordingSpan(REMOTE))
    ):
        pass
    with other.get_tracer("x").start_as_current_span("elsewhere", links=[Link(REMOTE)]):
        pass
    provider.shutdown()
    other.shutdown()
    spans = [*exporter.get_finished_spans(), *other_exporter.get_finished_spans()]
    # The chain's rebuilt spans carry plain attribute dicts instead of the SDK's bounded ones.
    rebuilt = copied(
        spans[0], attributes={**(spans[0].attributes or {}), "redacted": "[REDACTED:secret_key]"}
    )
    return [*spans, rebuilt]


def _decoded(data: bytes) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest.FromString(data)


def test_the_request_is_the_message_the_stock_encoder_builds() -> None:
    """Every field of every span (ids, kinds, times, attributes of each type, events, links, status,
    flags, trace state) decodes to exactly what the stock encoder makes of the same batch."""
    spans = _varied_spans()
    assert _decoded(TraceRequestEncoder().encode(spans)) == encode_spans(spans)


def test_equal_scopes_and_resources_share_one_group_and_the_order_of_spans_holds() -> None:
    """Spans of equal scopes made by separate get_tracer calls land in one ScopeSpans, in order."""
    request = _decoded(TraceRequestEncoder().encode(_varied_spans()))
    assert len(request.resource_spans) == 2
    scopes = [scope_spans.scope.name for scope_spans in request.resource_spans[0].scope_spans]
    assert scopes == ["twin", "lib"]  # in the order their first span ended
    twins = request.resource_spans[0].scope_spans[0].spans
    # Five of each twin, and the rebuilt copy of the first.
    assert len(twins) == 2 * len(SpanKind) + 1 and [s.name for s in twins[:2]] == ["child", "child 2"]


def test_the_drop_counts_the_sdk_kept_are_sent() -> None:
    """Attributes, events and links dropped at the span limits are counted in the request, as stock."""
    provider, exporter = _provider(
        span_limits=SpanLimits(max_span_attributes=2, max_events=1, max_links=1, max_event_attributes=1)
    )
    with provider.get_tracer("t").start_as_current_span("full", links=[Link(REMOTE), Link(REMOTE)]) as span:
        span.set_attributes({"a": 1, "b": 2, "c": 3})
        span.add_event("e0")
        span.add_event("e1", {"x": 1, "y": 2})  # the SDK keeps the newest event
    spans = exporter.get_finished_spans()
    request = _decoded(TraceRequestEncoder().encode(spans))
    assert request == encode_spans(spans)
    sent = request.resource_spans[0].scope_spans[0].spans[0]
    assert (sent.dropped_attributes_count, sent.dropped_events_count, sent.dropped_links_count) == (1, 1, 1)
    assert sent.events[0].dropped_attributes_count == 1


def test_a_nan_is_sent_as_a_nan() -> None:
    """A NaN attribute is a NaN double on the wire (a message holding one never equals itself)."""
    provider, exporter = _provider()
    with provider.get_tracer("t").start_as_current_span("nan", attributes={"v": float("nan")}):
        pass
    sent = _decoded(TraceRequestEncoder().encode(exporter.get_finished_spans()))
    (attribute,) = sent.resource_spans[0].scope_spans[0].spans[0].attributes
    assert math.isnan(attribute.value.double_value)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**70, (1, 2**64)], ids=repr)
def test_values_otlp_cannot_carry_are_left_out_as_the_stock_encoder_leaves_them(value: Any) -> None:
    """An integer outside int64, alone or in an array, is left out and the span's other attributes sent."""
    provider, exporter = _provider()
    with provider.get_tracer("t").start_as_current_span("big", attributes={"big": value, "kept": "yes"}):
        pass
    spans = exporter.get_finished_spans()
    request = _decoded(TraceRequestEncoder().encode(spans))
    assert [a.key for a in request.resource_spans[0].scope_spans[0].spans[0].attributes] == ["kept"]
    assert request == encode_spans(spans)


def test_a_lone_surrogate_never_makes_the_request_invalid_utf8() -> None:
    """A lone surrogate in a name, a key, a value, an event or a status is replaced, so a receiver
    (which rejects the whole request over invalid UTF-8) takes the rest as sent."""
    provider, exporter = _provider()
    bad = "a\ud800b"
    with provider.get_tracer("t").start_as_current_span(bad, attributes={bad: bad, "list": (bad,)}) as span:
        span.add_event(bad, {"k": bad})
        span.set_status(Status(StatusCode.ERROR, bad))
    data = TraceRequestEncoder().encode(exporter.get_finished_spans())
    sent = _decoded(data).resource_spans[0].scope_spans[0].spans[0]  # strict UTF-8 parse
    assert sent.name == "a?b" and sent.events[0].name == "a?b" and sent.status.message == "a?b"
    assert {
        (a.key, a.value.string_value or a.value.array_value.values[0].string_value) for a in sent.attributes
    } == {
        ("a?b", "a?b"),
        ("list", "a?b"),
    }


def _unique_spans(n: int) -> Iterator[ReadableSpan]:
    provider, exporter = _provider()
    tracer = provider.get_tracer("t")
    for i in range(n):
        with tracer.start_as_current_span(
            "tool", attributes={"gen_ai.tool.call.id": f"call-{i}", "op": "execute_tool"}
        ):
            pass
    yield from exporter.get_finished_spans()


def test_the_memory_of_encoded_pairs_is_bounded_and_forgetting_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Values that never recur (fresh call ids) never grow the kept pairs past their bound, and a
    batch encoded after the memory was emptied is the same message."""
    monkeypatch.setattr(_otlp_encode, "_PAIRS_MAX", 50)
    encoder = TraceRequestEncoder()
    spans = list(_unique_spans(400))
    for start in range(0, 400, 40):
        batch = spans[start : start + 40]
        assert _decoded(encoder.encode(batch)) == encode_spans(batch)
        assert len(encoder._pairs) <= 50
    assert _decoded(encoder.encode(spans[:40])) == encode_spans(spans[:40])


def test_an_empty_batch_is_an_empty_request() -> None:
    """No spans: an empty request, as the stock encoder's."""
    assert TraceRequestEncoder().encode([]) == b"" == encode_spans([]).SerializeToString()


def test_long_values_are_encoded_every_time_and_never_kept() -> None:
    """A value longer than the kept pairs' bound is not remembered (the memory is bounded in bytes),
    and still encoded as stock."""
    provider, exporter = _provider()
    with provider.get_tracer("t").start_as_current_span("s", attributes={"long": LONG, "short": "chat"}):
        pass
    encoder = TraceRequestEncoder()
    spans = exporter.get_finished_spans()
    assert _decoded(encoder.encode(spans)) == encode_spans(spans)
    assert list(encoder._pairs) == [("short", "chat")]
