"""otel-agents: OpenTelemetry-native telemetry for agents, tools, routing and workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_agents.api._run_context import run_context
from otel_agents.api._spans import agent, embeddings, llm, plan, retrieval, route, tool, workflow
from otel_agents.api._version import __version__

if TYPE_CHECKING:
    from otel_agents.sdk._configure import Telemetry, configure

__all__ = [
    "Telemetry",
    "__version__",
    "agent",
    "configure",
    "embeddings",
    "llm",
    "plan",
    "retrieval",
    "route",
    "run_context",
    "tool",
    "workflow",
]


def __getattr__(name: str) -> Any:
    # The SDK loads only when an application configures: libraries instrument with the API alone.
    if name in ("configure", "Telemetry"):
        import importlib

        return getattr(importlib.import_module("otel_agents.sdk._configure"), name)
    raise AttributeError(f"module 'otel_agents' has no attribute {name!r}")
