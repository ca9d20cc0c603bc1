"""Routing keys live under otel_agents.route.*; the pre-0.2 gen_ai.agent.handoff.* keys only behind an option."""

from __future__ import annotations

from typing import Any

import otel_agents as oa
from otel_agents.api import _semconv as semconv


def test_route_spans_use_our_namespace(pipeline: Any) -> None:
    """By default a route span carries otel_agents.route.source/target and no gen_ai.agent.handoff.* key."""
    oa.route("planner", target="writer")
    attrs = pipeline.span("route planner").attributes
    assert (attrs[semconv.ROUTE_SOURCE], attrs[semconv.ROUTE_TARGET]) == ("planner", "writer")
    assert not [k for k in attrs if k.startswith("gen_ai.agent.handoff")]
    [edge] = pipeline.metric_points(semconv.METRIC_ROUTE_DECISIONS)
    assert dict(edge.attributes) == {semconv.ROUTE_SOURCE: "planner", semconv.ROUTE_TARGET: "writer"}


def test_legacy_route_keys_option_writes_both(make_pipeline: Any) -> None:
    """legacy_route_keys=True also writes gen_ai.agent.handoff.source.name/target.name, for one release."""
    pipeline = make_pipeline(legacy_route_keys=True)
    oa.route("planner", target="writer")
    attrs = pipeline.span("route planner").attributes
    assert attrs[semconv.LEGACY_ROUTE_SOURCE] == "planner"
    assert attrs[semconv.LEGACY_ROUTE_TARGET] == "writer"
    assert attrs[semconv.ROUTE_TARGET] == "writer"
    [edge] = pipeline.metric_points(semconv.METRIC_ROUTE_DECISIONS)
    assert edge.value == 1


def test_spans_with_only_the_legacy_keys_still_count(pipeline: Any) -> None:
    """A route span from an older otel-agents (legacy keys only) still feeds otel_agents.route.decisions."""
    from opentelemetry import trace

    span = trace.get_tracer("older").start_span(
        "route a", attributes={semconv.LEGACY_ROUTE_SOURCE: "a", semconv.LEGACY_ROUTE_TARGET: "b"}
    )
    span.end()
    pipeline.spans()
    [edge] = pipeline.metric_points(semconv.METRIC_ROUTE_DECISIONS)
    assert dict(edge.attributes) == {semconv.ROUTE_SOURCE: "a", semconv.ROUTE_TARGET: "b"}
