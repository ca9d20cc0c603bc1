"""Span and log processors: run-context stamping, redaction, truncation, span metrics, and the fused chain."""

from __future__ import annotations

from otel_agents.processors.chain import SpanChain
from otel_agents.processors.context import RunContextLogProcessor, RunContextProcessor
from otel_agents.processors.metrics import SpanMetricsProcessor
from otel_agents.processors.redaction import Redactor
from otel_agents.processors.rewrite import RewriteLogProcessor
from otel_agents.processors.truncation import Truncator

__all__ = [
    "Redactor",
    "RewriteLogProcessor",
    "RunContextLogProcessor",
    "RunContextProcessor",
    "SpanChain",
    "SpanMetricsProcessor",
    "Truncator",
]
