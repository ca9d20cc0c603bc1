"""Counts what the SDK dropped at a span's limits (attributes, events, links), so `doctor` shows it."""

from __future__ import annotations

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util import BoundedList

from otel_agents.api import _counters as stats


def count_limit_drops(span: ReadableSpan) -> None:
    """Count the attributes, events and links the SDK dropped from ``span`` at its limits."""
    # The fields, not the properties: this runs for every span, and nearly all dropped nothing.
    attributes = span._attributes
    if attributes.__class__ is BoundedAttributes and attributes.dropped:
        stats.count_drop("spans.attributes_over_limit", attributes.dropped)
    events = span._events
    if events.__class__ is BoundedList and events.dropped:
        stats.count_drop("spans.events_over_limit", events.dropped)
    links = span._links
    if links.__class__ is BoundedList and links.dropped:
        stats.count_drop("spans.links_over_limit", links.dropped)
