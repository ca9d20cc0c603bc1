"""Explicit runs: start_run/end_run across calls, custom statuses, events and the bounded registry."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import StatusCode

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _runs as runs
from otel_agents.api import _semconv as semconv


def _begin(name: str) -> str:
    return oa.start_run(name).run_id


def test_run_started_in_one_call_is_ended_in_another(pipeline: Any) -> None:
    """A run started in one function and ended by id in another is one workflow span with a generated run id."""
    run_id = _begin("nightly_sync")
    assert len(run_id) == 32 and runs.get_run(run_id) is not None
    assert oa.end_run(run_id) is True
    assert oa.end_run(run_id) is False
    span = pipeline.span("invoke_workflow nightly_sync")
    assert span.attributes[semconv.RUN_ID] == run_id
    assert span.attributes[semconv.RUN_KIND] == semconv.RUN_KIND_WORKFLOW
    assert span.status.status_code is StatusCode.UNSET
    assert runs.get_run(run_id) is None


def test_spans_inside_activate_are_children_and_carry_the_run_id(pipeline: Any) -> None:
    """Spans started inside run.activate() are children of the run span and carry its run id."""
    run = oa.start_run("crawler", kind="agent", run_id="given-1", session_id="s-9")
    with run.activate(), oa.tool("fetch"):
        pass
    run.end()
    parent = pipeline.span("invoke_agent crawler")
    child = pipeline.span("execute_tool fetch")
    assert child.parent.span_id == parent.context.span_id
    assert child.attributes[semconv.RUN_ID] == "given-1"
    assert child.attributes[semconv.SESSION_ID] == "s-9"
    assert child.attributes[semconv.GEN_AI_AGENT_NAME] == "crawler"


@pytest.mark.parametrize(("status", "code"), [("failed", StatusCode.ERROR), ("partial", StatusCode.UNSET)])
def test_custom_status_is_recorded_and_failed_like_ones_are_errors(
    pipeline: Any, status: str, code: StatusCode
) -> None:
    """A custom status lands in otel_agents.run.status; a failed-like one also sets span status ERROR."""
    run = oa.start_run("job")
    oa.end_run(run.run_id, status=status)
    span = pipeline.span("invoke_workflow job")
    assert span.attributes[semconv.RUN_STATUS] == status
    assert span.status.status_code is code


def test_end_with_an_exception_records_it(pipeline: Any) -> None:
    """Ending a run with an exception records the exception event, error.type and status error."""
    run = oa.start_run("job")
    run.end(error=ValueError("boom"))
    span = pipeline.span("invoke_workflow job")
    assert span.attributes[semconv.ERROR_TYPE] == "ValueError"
    assert span.attributes[semconv.RUN_STATUS] == "error"
    assert [e.name for e in span.events] == ["exception"]


def test_log_event_adds_a_span_event_with_the_payload(pipeline: Any) -> None:
    """run.log_event adds an event named by its type with the payload as JSON."""
    run = oa.start_run("job")
    run.log_event("page_done", {"url": "https://example.test", "n": 3})
    run.end()
    (event,) = pipeline.span("invoke_workflow job").events
    assert event.name == "page_done"
    assert '"n":3' in event.attributes[semconv.RUN_EVENT_PAYLOAD]


def test_open_runs_are_bounded_and_the_oldest_is_ended_as_abandoned(
    pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_OPEN_RUNS the oldest open run is ended as "abandoned" and counted as a drop."""
    monkeypatch.setattr(runs, "MAX_OPEN_RUNS", 3)
    ids = [oa.start_run(f"r{i}").run_id for i in range(5)]
    assert runs.open_runs() == 3
    assert runs.get_run(ids[0]) is None and runs.get_run(ids[4]) is not None
    assert stats.drops()[runs.DROP_EVICTED] == 2
    first = pipeline.span("invoke_workflow r0")
    assert first.attributes[semconv.RUN_STATUS] == semconv.RUN_STATUS_ABANDONED
    for rid in ids[2:]:
        oa.end_run(rid)


def test_hostile_arguments_never_raise(pipeline: Any) -> None:
    """start_run/end_run with non-string names, ids and statuses still make and end a run."""
    run = oa.start_run(123, run_id=456, attributes={"k": object()})  # type: ignore[arg-type]
    assert run.run_id == "456"
    assert oa.end_run(run.run_id, status=7) is True  # type: ignore[arg-type]
    assert oa.end_run(None) is False  # type: ignore[arg-type]
    span = pipeline.span("invoke_workflow 123")
    assert span.attributes[semconv.RUN_STATUS] == "7"
