"""Stamp the run context ids and the enclosing agent's name on every span, whoever creates it."""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_agents import semconv
from otel_agents.context import current_agent, current_ids
from otel_agents.guard import never_raise


class RunContextProcessor(SpanProcessor):
    """On start, copy run/session/user/request ids and ``gen_ai.agent.name`` onto the span."""

    @never_raise("processor.run_context.on_start")
    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        ctx = parent_context if parent_context is not None else otel_context.get_current()
        attrs = dict(current_ids(ctx))
        agent = current_agent(ctx)
        if agent is not None:
            existing = span.attributes
            if existing is None or semconv.GEN_AI_AGENT_NAME not in existing:
                attrs[semconv.GEN_AI_AGENT_NAME] = agent
        if attrs:
            span.set_attributes(attrs)

    def on_end(self, span: ReadableSpan) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
