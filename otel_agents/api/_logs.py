"""Trace context for log lines: a structlog processor and a stdlib ``logging.Filter``, API-only."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from opentelemetry import trace

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._run_context import current_agent, current_ids

TRACE_ID_KEY = "trace_id"
SPAN_ID_KEY = "span_id"


def log_context() -> dict[str, str]:
    """Trace id, span id, run-context ids and agent name of the current context, as strings."""
    fields: dict[str, str] = {}
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        fields[TRACE_ID_KEY] = format(span_context.trace_id, "032x")
        fields[SPAN_ID_KEY] = format(span_context.span_id, "016x")
    fields.update(current_ids())
    agent = current_agent()
    if agent is not None:
        fields[semconv.GEN_AI_AGENT_NAME] = agent
    return fields


def structlog_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add trace/span ids, run context and agent name (existing keys win)."""
    with never_raise("logs.structlog_processor"):
        for key, value in log_context().items():
            event_dict.setdefault(key, value)
    return event_dict


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id``, ``span_id`` and run-context ids to stdlib records for format strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        with never_raise("logs.filter"):
            context = log_context()
            record.trace_id = context.get(TRACE_ID_KEY, "0" * 32)
            record.span_id = context.get(SPAN_ID_KEY, "0" * 16)
            record.run_id = context.get(semconv.RUN_ID, "")
        return True
