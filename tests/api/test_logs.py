"""Log context helpers: the structlog processor and the stdlib filter add trace and run ids."""

from __future__ import annotations

import logging
from typing import Any

import structlog

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.api._logs import TraceContextFilter, structlog_processor


def test_structlog_processor_adds_trace_run_and_agent(pipeline: Any) -> None:
    """A structlog event inside an agent carries trace id, span id, run id and agent name."""
    captured: list[dict[str, Any]] = []

    def capture(logger: Any, method: str, event: Any) -> Any:
        captured.append(dict(event))
        raise structlog.DropEvent

    structlog.configure(processors=[structlog_processor, capture])
    try:
        log = structlog.get_logger()
        with oa.run_context(run_id="r-5"), oa.agent("a") as handle:
            log.info("step", trace_id="mine")
            ctx = handle.span.get_span_context()
    finally:
        structlog.reset_defaults()
    (event,) = captured
    assert event["trace_id"] == "mine"
    assert event["span_id"] == format(ctx.span_id, "016x")
    assert event[semconv.RUN_ID] == "r-5"
    assert event[semconv.GEN_AI_AGENT_NAME] == "a"


def test_stdlib_filter_fills_format_fields(pipeline: Any) -> None:
    """The filter makes %(trace_id)s and %(run_id)s usable in stdlib format strings."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    with oa.run_context(run_id="r-6"), oa.agent("a") as handle:
        TraceContextFilter().filter(record)
        trace_id = format(handle.span.get_span_context().trace_id, "032x")
    assert record.trace_id == trace_id  # type: ignore[attr-defined]
    assert record.run_id == "r-6"  # type: ignore[attr-defined]


def test_filter_outside_any_span_uses_zero_ids() -> None:
    """Outside a span the filter still sets the fields (all zeros) so formats never fail."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert TraceContextFilter().filter(record)
    assert record.trace_id == "0" * 32  # type: ignore[attr-defined]
