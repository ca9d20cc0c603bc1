"""Span and log processors: run-context stamping, redaction, truncation, span metrics, and the fused chain."""

from __future__ import annotations

from otel_agents.sdk.processors._chain import SpanChain
from otel_agents.sdk.processors._preview import PreviewCutter
from otel_agents.sdk.processors._redaction import Redactor
from otel_agents.sdk.processors._rewrite import RewriteLogProcessor
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor
from otel_agents.sdk.processors._stamping import RunContextLogProcessor, RunContextProcessor
from otel_agents.sdk.processors._truncation import Truncator

__all__ = [
    "PreviewCutter",
    "Redactor",
    "RewriteLogProcessor",
    "RunContextLogProcessor",
    "RunContextProcessor",
    "SpanChain",
    "SpanMetricsProcessor",
    "Truncator",
]
