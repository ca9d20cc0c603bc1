"""Span and log processors: run-context stamping, redaction, truncation, span-derived metrics."""

from __future__ import annotations

from otel_agents.processors.context import RunContextLogProcessor, RunContextProcessor
from otel_agents.processors.metrics import SpanMetricsProcessor
from otel_agents.processors.redaction import Redactor
from otel_agents.processors.rewrite import RewriteLogProcessor, RewriteSpanProcessor
from otel_agents.processors.truncation import Truncator

__all__ = [
    "Redactor",
    "RewriteLogProcessor",
    "RewriteSpanProcessor",
    "RunContextLogProcessor",
    "RunContextProcessor",
    "SpanMetricsProcessor",
    "Truncator",
]
