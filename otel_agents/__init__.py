"""otel-agents: OpenTelemetry-native telemetry for agents, tools, routing and workflows."""

from __future__ import annotations

__all__: list[str] = []
