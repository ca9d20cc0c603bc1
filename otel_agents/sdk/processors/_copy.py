"""A finished span copied with some of its fields replaced, through the SDK's public ``ReadableSpan``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Status


def copied(
    span: ReadableSpan,
    *,
    attributes: Mapping[str, Any],
    events: Sequence[Event] | None = None,
    name: str | None = None,
    status: Status | None = None,
) -> ReadableSpan:
    """``span`` with new attributes and, where given, new events, name or status."""
    # The fields are read directly, not through the properties: a rebuild is on the hot path of
    # every mapped span. Events and links are copied to tuples, as the properties do.
    events_now = span._events if events is None else events
    links = span._links
    return ReadableSpan(
        name=span._name if name is None else name,
        context=span._context,
        parent=span._parent,
        resource=span._resource,
        attributes=attributes,
        events=tuple(events_now) if events_now else (),
        links=tuple(links) if links else (),
        kind=span._kind,
        status=span._status if status is None else status,
        start_time=span._start_time,
        end_time=span._end_time,
        instrumentation_scope=span._instrumentation_scope,
    )
