"""Run context: ids bound in contextvars and W3C baggage, stamped on every span, across processes."""

from __future__ import annotations

from typing import Any

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagate import extract, inject

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.api._run_context import MAX_BAGGAGE_VALUE, current_ids


def test_run_context_stamps_every_span_including_foreign(pipeline: Any) -> None:
    """Spans from any tracer inside run_context carry run, session and user ids."""
    with oa.run_context(run_id="r-1", session_id="s-1", user_id="u-1"):
        with trace.get_tracer("sqlalchemy").start_as_current_span("SELECT"):
            pass
        with oa.tool("t"):
            pass
    for name in ("SELECT", "execute_tool t"):
        attrs = pipeline.span(name).attributes
        assert attrs[semconv.RUN_ID] == "r-1"
        assert attrs[semconv.SESSION_ID] == "s-1"
        assert attrs[semconv.USER_ID] == "u-1"


def test_nested_run_context_merges_and_restores() -> None:
    """An inner run_context overrides only what it names and is undone on exit."""
    with oa.run_context(run_id="r-1", user_id="u-1"):
        with oa.run_context(run_id="r-2") as inner:
            assert inner.run_id == "r-2"
            assert inner.user_id == "u-1"
        assert current_ids()[semconv.RUN_ID] == "r-1"
    assert current_ids() == {}


def test_ids_cross_process_boundaries_through_standard_propagators(make_pipeline: Any) -> None:
    """With every host allowed, injected headers carry the ids; a receiver stamps them on its spans."""
    pipeline = make_pipeline(baggage_hosts=["*"])
    carrier: dict[str, str] = {}
    with oa.run_context(run_id="r-9", session_id="s-9"), oa.agent("caller"):
        inject(carrier)
    assert "baggage" in carrier and "traceparent" in carrier
    # The "other process": nothing but the headers.
    token = otel_context.attach(extract(carrier))
    try:
        with trace.get_tracer("server").start_as_current_span("POST /run"):
            pass
    finally:
        otel_context.detach(token)
    server = pipeline.span("POST /run")
    assert server.attributes[semconv.RUN_ID] == "r-9"
    assert server.attributes[semconv.SESSION_ID] == "s-9"
    assert server.context.trace_id == pipeline.span("invoke_agent caller").context.trace_id


def test_only_allow_listed_baggage_keys_are_stamped(pipeline: Any) -> None:
    """Foreign baggage entries are not copied onto spans; allowed ones are length-capped."""
    ctx = W3CBaggagePropagator().extract(
        {"baggage": f"user.id={'u' * 1000},password=hunter2,{semconv.RUN_ID}=r-1"}
    )
    assert baggage.get_baggage("password", ctx) == "hunter2"
    token = otel_context.attach(ctx)
    try:
        with trace.get_tracer("x").start_as_current_span("s"):
            pass
    finally:
        otel_context.detach(token)
    attrs = pipeline.span("s").attributes
    assert "password" not in attrs
    assert len(attrs[semconv.USER_ID]) == MAX_BAGGAGE_VALUE
    assert attrs[semconv.RUN_ID] == "r-1"


def test_the_apps_own_run_context_wins_over_ids_in_a_callers_baggage(pipeline: Any) -> None:
    """A client's baggage may claim any user id: the run context the app sets inside the request is
    what its spans carry, on every span below it, foreign ones included."""
    ctx = W3CBaggagePropagator().extract({"baggage": "user.id=someone-else,session.id=forged"})
    token = otel_context.attach(ctx)
    try:
        with (
            trace.get_tracer("x").start_as_current_span("server"),
            oa.run_context(user_id="u-authenticated", session_id="s-real"),
            oa.agent("a"),
            trace.get_tracer("lib").start_as_current_span("library call"),
        ):
            pass
    finally:
        otel_context.detach(token)
    for name in ("invoke_agent a", "library call"):
        attrs = pipeline.span(name).attributes
        assert (attrs[semconv.USER_ID], attrs[semconv.SESSION_ID]) == ("u-authenticated", "s-real")
    assert pipeline.span("server").attributes[semconv.USER_ID] == "someone-else"
