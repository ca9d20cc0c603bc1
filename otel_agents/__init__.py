"""otel-agents: OpenTelemetry-native telemetry for agents, tools, routing and workflows."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_agents.api._run_context import run_context
    from otel_agents.api._runs import end_run, start_run
    from otel_agents.api._spans import agent, embeddings, llm, plan, retrieval, route, tool, workflow
    from otel_agents.api._version import __version__
    from otel_agents.sdk._configure import Telemetry, configure
    from otel_agents.sdk._stats import get_stats

__all__ = [
    "Telemetry",
    "__version__",
    "agent",
    "configure",
    "embeddings",
    "end_run",
    "get_stats",
    "llm",
    "plan",
    "retrieval",
    "route",
    "run_context",
    "start_run",
    "tool",
    "workflow",
]

# Loaded on first use: the SDK only when an application configures (libraries instrument with the
# API alone), and the API only when something instruments: the CLI starts without either.
_LAZY = {
    "run_context": ".api._run_context",
    "agent": ".api._spans",
    "embeddings": ".api._spans",
    "llm": ".api._spans",
    "plan": ".api._spans",
    "retrieval": ".api._spans",
    "route": ".api._spans",
    "tool": ".api._spans",
    "workflow": ".api._spans",
    "__version__": ".api._version",
    "start_run": ".api._runs",
    "end_run": ".api._runs",
    "configure": ".sdk._configure",
    "get_stats": ".sdk._stats",
    "Telemetry": ".sdk._configure",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
