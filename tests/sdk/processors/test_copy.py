"""A rebuilt span keeps every field of the original but the ones replaced."""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
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
