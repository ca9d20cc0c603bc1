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
    # The fields are read directly, not through the properties, and passed by position (in the
    # order of ReadableSpan's signature): a rebuild is on the hot path of every mapped span, and
    # matching thirteen keywords cost more than the rest of it. Events and links are copied to
    # tuples, as the properties do.
    events_now = span._events if events is None else events
    links = span._links
    return ReadableSpan(
        span._name if name is None else name,
        span._context,
        span._parent,
        span._resource,
        attributes,
        tuple(events_now) if events_now else (),
        tuple(links) if links else (),
        span._kind,
        span._instrumentation_info,
        span._status if status is None else status,
        span._start_time,
        span._end_time,
        span._instrumentation_scope,
    )
