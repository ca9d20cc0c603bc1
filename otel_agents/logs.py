"""Public log helpers: trace context for structlog and stdlib logging (re-exported from the API layer)."""

from __future__ import annotations

from otel_agents.api._logs import TraceContextFilter, log_context, structlog_processor

__all__ = ["TraceContextFilter", "log_context", "structlog_processor"]
