"""A finished span copied with some of its fields replaced, through the SDK's public ``ReadableSpan``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status


def copied(
    span: ReadableSpan,
    *,
    attributes: Mapping[str, Any],
    events: Sequence[Event] | None = None,
    links: Sequence[Link] | None = None,
    name: str | None = None,
    status: Status | None = None,
) -> ReadableSpan:
    """``span`` with new attributes and, where given, new events, links, name or status; the counts
    of attributes, events and links the SDK dropped at its limits stay with it."""
    # The fields are read directly, not through the properties, and passed by position (in the
    # order of ReadableSpan's signature): a rebuild is on the hot path of every mapped span, and
    # matching thirteen keywords cost more than the rest of it. Events and links are copied to
    # tuples, as the properties do.
    events_now = span._events if events is None else events
    links = span._links if links is None else links
    events_out: Sequence[Event] = tuple(events_now) if events_now else ()
    links_out: Sequence[Any] = tuple(links) if links else ()
    # A plain dict or tuple says nothing was dropped, which OTLP would then export: a span that hit
    # the SDK's limits (rare) keeps its counts in the SDK's own bounded containers.
    old = span._attributes
    if old.__class__ is BoundedAttributes and old.dropped:
        attributes = _bounded_attributes(attributes, old.dropped)
    if span._events.__class__ is BoundedList and span._events.dropped:
        events_out = _bounded_list(events_out, span._events.dropped)
    if span._links.__class__ is BoundedList and span._links.dropped:
        links_out = _bounded_list(links_out, span._links.dropped)
    return ReadableSpan(
        span._name if name is None else name,
        span._context,
        span._parent,
        span._resource,
        attributes,
        events_out,
        links_out,
        span._kind,
        span._instrumentation_info,
        span._status if status is None else status,
        span._start_time,
        span._end_time,
        span._instrumentation_scope,
    )


def _bounded_attributes(attributes: Mapping[str, Any], dropped: int) -> BoundedAttributes:
    kept = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
    kept.dropped = dropped
    return kept


def _bounded_list(items: Sequence[Any], dropped: int) -> BoundedList[Any]:
    kept = BoundedList.from_seq(None, items)
    kept.dropped = dropped
    return kept
