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
    return ReadableSpan(
        name=span.name if name is None else name,
        context=span.get_span_context(),
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events if events is None else events,
        links=span.links,
        kind=span.kind,
        status=span.status if status is None else status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
