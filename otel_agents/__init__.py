"""otel-agents: OpenTelemetry-native telemetry for agents, tools, routing and workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_agents.api._run_context import run_context
from otel_agents.api._runs import end_run, start_run
from otel_agents.api._spans import agent, llm, route, tool, workflow
from otel_agents.api._version import __version__

if TYPE_CHECKING:
    from otel_agents.sdk._configure import Telemetry, configure
    from otel_agents.sdk._stats import get_stats

__all__ = [
    "Telemetry",
    "__version__",
    "agent",
    "configure",
    "end_run",
    "get_stats",
    "llm",
    "route",
    "run_context",
    "start_run",
    "tool",
    "workflow",
]


def __getattr__(name: str) -> Any:
    # The SDK loads only when an application configures: libraries instrument with the API alone.
    if name in ("configure", "Telemetry"):
        import importlib

        return getattr(importlib.import_module("otel_agents.sdk._configure"), name)
    if name == "get_stats":
        import importlib

        return importlib.import_module("otel_agents.sdk._stats").get_stats
    raise AttributeError(f"module 'otel_agents' has no attribute {name!r}")
