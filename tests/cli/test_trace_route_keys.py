"""otel-agents trace reads the routing keys of old and new stores."""

from __future__ import annotations

from otel_agents.api import _semconv as semconv
from otel_agents.cli._cmd_trace import _details


def test_trace_command_reads_old_and_new_keys() -> None:
    """otel-agents trace shows the routing edge from stores written with either key set."""
    base = {"events": [], "logs": [], "status_code": 0, "error_type": None, "model": None, "operation": None}
    new = _details({**base, "attributes": {semconv.ROUTE_SOURCE: "a", semconv.ROUTE_TARGET: "b"}})
    old = _details(
        {**base, "attributes": {semconv.LEGACY_ROUTE_SOURCE: "a", semconv.LEGACY_ROUTE_TARGET: "b"}}
    )
    assert new == old == ["route a → b"]
