"""Costs left to the pipeline while the price table loaded, added to their spans off the caller's thread."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan

from otel_agents.api import _counters as stats
from otel_agents.api import _pricing as pricing
from otel_agents.sdk.processors._copy import copied
from otel_agents.sdk.processors._snapshot import span_attributes


def settle(span: ReadableSpan) -> ReadableSpan:
    """``span`` itself, or, when its cost was deferred, a copy with the cost (or its roll-up) added."""
    context = span.context
    attributes = pricing.take_deferred(context.span_id) if context is not None else None
    if attributes is None:
        return span
    if not pricing.wait_loaded(pricing.SETTLE_WAIT_S):
        stats.count_drop("pricing.settle_timeout")
    merged = dict(span_attributes(span))
    merged.update(attributes())
    return copied(span, attributes=merged)
