"""Stamp the run context ids and the enclosing agent's name on every span and log record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._run_context import stamp


def is_own(span: Span) -> bool:
    """True for spans made by ``otel_agents`` itself: they are born stamped (see spans.py)."""
    # The field, not the property: this runs twice for every span of every library.
    scope = span._instrumentation_scope
    return scope is not None and scope.name == semconv.SCOPE_NAME


def stamped_attributes(span: Span, stamped: Mapping[str, Any]) -> dict[str, Any]:
    """What of the context's ``stamped`` ids and agent name goes onto ``span`` (a new dict): an agent
    name the span was started with stays."""
    if semconv.GEN_AI_AGENT_NAME in stamped:
        existing = span.attributes
        if existing and semconv.GEN_AI_AGENT_NAME in existing:
            return {k: v for k, v in stamped.items() if k != semconv.GEN_AI_AGENT_NAME}
    return dict(stamped)


def set_all(span: Span, update: Mapping[str, Any]) -> None:
    """``update`` onto ``span`` in one SDK call (``set_attribute`` for one key: half the cost)."""
    if len(update) == 1:
        for key, value in update.items():
            span.set_attribute(key, value)
    elif update:
        span.set_attributes(update)


def stamp_span(span: Span, parent_context: otel_context.Context | None) -> None:
    """Copy run/session/user/request ids and ``gen_ai.agent.name`` from the context onto ``span``
    (a span from another tracer: see ``is_own``)."""
    ctx = parent_context if parent_context is not None else otel_context.get_current()
    attrs = stamp(ctx)
    if attrs:
        set_all(span, stamped_attributes(span, attrs))


class RunContextProcessor(SpanProcessor):
    """On start, copy run/session/user/request ids and ``gen_ai.agent.name`` onto the span."""

    @never_raise("processor.run_context.on_start")
    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        if not is_own(span):
            stamp_span(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class RunContextLogProcessor(LogRecordProcessor):
    """On emit, add the run-context ids and agent name to the record (attributes it has win)."""

    @never_raise("processor.run_context.on_emit")
    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        attrs = stamp()
        if not attrs:
            return
        record = log_record.log_record
        merged: dict[str, Any] = dict(attrs)
        merged.update(record.attributes or {})
        record.attributes = merged

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
