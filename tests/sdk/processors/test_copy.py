"""A rebuilt span keeps every field of the original but the ones replaced, its drop counts included."""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from otel_agents.sdk.processors._copy import copied


def _ended() -> ReadableSpan:
    provider = TracerProvider(resource=Resource.create({"service.name": "copy-test"}), shutdown_on_exit=False)
    tracer = provider.get_tracer("copy.scope", "1.2.3")
    with tracer.start_as_current_span("parent") as parent:
        link = Link(parent.get_span_context(), {"why": "test"})
        span = tracer.start_span("child", kind=SpanKind.CLIENT, attributes={"a": 1}, links=[link])
        span.add_event("e", {"k": "v"})
        span.set_status(Status(StatusCode.ERROR, "boom"))
        span.end()
    return span._readable_span()  # the copy the SDK hands every processor's on_end


def test_a_copy_keeps_every_field_it_does_not_replace() -> None:
    """Name, ids, parent, resource, events, links, kind, status, times and scope all survive a copy."""
    span = _ended()
    copy = copied(span, attributes={"b": 2})
    assert dict(copy.attributes or {}) == {"b": 2}
    for field in (
        "name",
        "context",
        "parent",
        "resource",
        "kind",
        "status",
        "start_time",
        "end_time",
        "instrumentation_scope",
    ):
        assert getattr(copy, field) == getattr(span, field), field
    assert copy.events == span.events
    assert copy.links == span.links
    assert copy.status.description == "boom"
    assert copy.instrumentation_scope is not None
    assert copy.instrumentation_scope.version == "1.2.3"


def test_a_copy_replaces_exactly_what_it_is_given() -> None:
    """Given events, a name and a status, the copy carries those and the original is untouched."""
    span = _ended()
    events = (Event("other", {"x": 1}, 5),)
    copy = copied(span, attributes={}, events=events, name="renamed", status=Status(StatusCode.OK))
    assert copy.name == "renamed"
    assert copy.events == events
    assert copy.status.status_code is StatusCode.OK
    assert span.name == "child"
    assert span.status.status_code is StatusCode.ERROR
    assert copy.context == span.context


def _over_the_limits() -> ReadableSpan:
    limits = SpanLimits(max_span_attributes=4, max_events=2, max_links=1)
    provider = TracerProvider(span_limits=limits, shutdown_on_exit=False)
    tracer = provider.get_tracer("copy.scope")
    with tracer.start_as_current_span("parent") as parent:
        links = [Link(parent.get_span_context()), Link(parent.get_span_context())]
        span = tracer.start_span("child", attributes={f"k{i}": i for i in range(7)}, links=links)
        for i in range(5):
            span.add_event(f"e{i}")
        span.end()
    return span._readable_span()


def test_a_copy_keeps_the_counts_the_sdk_dropped_at_its_limits() -> None:
    """Attributes, events and links dropped at the span limits are still counted on a copy."""
    span = _over_the_limits()
    assert (span.dropped_attributes, span.dropped_events, span.dropped_links) == (3, 3, 1)
    copy = copied(span, attributes={**(span.attributes or {}), "added": 1})
    assert (copy.dropped_attributes, copy.dropped_events, copy.dropped_links) == (3, 3, 1)
    assert dict(copy.attributes or {}) == {**(span.attributes or {}), "added": 1}
    assert copy.events == span.events
    assert copy.links == span.links
    replaced = copied(span, attributes={"only": "this"}, events=(Event("other", {}, 5),))
    assert (replaced.dropped_attributes, replaced.dropped_events) == (3, 3)
    assert [event.name for event in replaced.events] == ["other"]
