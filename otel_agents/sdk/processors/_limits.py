"""Counts what the SDK dropped at a span's limits (attributes, events, links), so `doctor` shows it."""

from __future__ import annotations

from typing import Final

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util import BoundedList

from otel_agents.api import _counters as stats

ATTRIBUTES: Final = "spans.attributes" + stats.OVER_LIMIT
EVENTS: Final = "spans.events" + stats.OVER_LIMIT
LINKS: Final = "spans.links" + stats.OVER_LIMIT


def count_limit_drops(span: ReadableSpan) -> None:
    """Count the attributes, events and links the SDK dropped from ``span`` at its limits."""
    # The fields, not the properties: this runs for every span, and nearly all dropped nothing.
    attributes = span._attributes
    if attributes.__class__ is BoundedAttributes and attributes.dropped:
        stats.count_drop(ATTRIBUTES, attributes.dropped)
    events = span._events
    if events.__class__ is BoundedList and events.dropped:
        stats.count_drop(EVENTS, events.dropped)
    links = span._links
    if links.__class__ is BoundedList and links.dropped:
        stats.count_drop(LINKS, links.dropped)
