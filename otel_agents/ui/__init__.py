"""The local web UI: a read-only view of the store (runs, traces, agent graph, stats) for a browser."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_agents.ui._app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Starlette loads only when a UI is built: `import otel_agents.ui` stays cheap for the CLI.
    if name == "create_app":
        from otel_agents.ui._app import create_app

        return create_app
    raise AttributeError(f"module 'otel_agents.ui' has no attribute {name!r}")
