"""Helpers for store tests: real SDK spans from a plain TracerProvider, and reading the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_agents.api import _semconv as semconv
from otel_agents.store import _paths as paths


def provider(service: str = "store-tests") -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tp = TracerProvider(resource=Resource.create({semconv.SERVICE_NAME: service}))
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    return tp, exporter


def workflow_trace(
    tp: TracerProvider,
    *,
    run_id: str = "r-1",
    fail_tool: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """One workflow run: a router agent with a route span, an agent with an LLM call and a tool."""
    tracer = tp.get_tracer("store-tests", "1.0")
    ids = {semconv.RUN_ID: run_id, semconv.SESSION_ID: "s-1", semconv.USER_ID: "u-1"}
    with tracer.start_as_current_span(
        "invoke_workflow triage",
        attributes={
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
            semconv.GEN_AI_WORKFLOW_NAME: "triage",
            semconv.RUN_KIND: semconv.RUN_KIND_WORKFLOW,
            semconv.RUN_ITEMS_DISCOVERED: 3,
            semconv.RUN_ITEMS_SUCCEEDED: 2,
            semconv.RUN_ITEMS_FAILED: 1,
            semconv.RUN_INPUT_SUMMARY: "3 tickets",
            semconv.RUN_OUTPUT_SUMMARY: "2 replies",
            semconv.RUN_METRICS: '{"accuracy": 0.9}',
            semconv.RUN_METADATA_PREFIX + "product": "helpdesk",
            semconv.RUN_METADATA_PREFIX + "git_branch": "main",
            semconv.GEN_AI_USAGE_INPUT_TOKENS: 120,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 30,
            semconv.COST_USD: 0.0025,
            **ids,
            **(extra or {}),
        },
    ) as wf:
        wf.add_event("checkpoint", {"step": 1})
        with tracer.start_as_current_span(
            "route router",
            attributes={
                semconv.ROUTE_SOURCE: "router",
                semconv.ROUTE_TARGET: "writer",
                semconv.ROUTE_CANDIDATES: ("writer", "researcher"),
                semconv.ROUTE_REASON: "needs prose",
                semconv.ROUTE_CONFIDENCE: 0.8,
                **ids,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "invoke_agent writer",
            attributes={
                semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
                semconv.GEN_AI_AGENT_NAME: "writer",
                **ids,
            },
        ):
            with tracer.start_as_current_span(
                "chat gpt-4o-mini",
                kind=SpanKind.CLIENT,
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
                    semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                    semconv.GEN_AI_PROVIDER_NAME: "openai",
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: 120,
                    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 30,
                    semconv.COST_USD: 0.0025,
                    **ids,
                },
            ):
                pass
            with tracer.start_as_current_span(
                "execute_tool search",
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
                    semconv.GEN_AI_TOOL_NAME: "search",
                    semconv.GEN_AI_AGENT_NAME: "writer",
                    **ids,
                },
            ) as tool:
                if fail_tool:
                    tool.set_attribute(semconv.ERROR_TYPE, "TimeoutError")
                    tool.set_status(Status(StatusCode.ERROR, "search timed out"))
        if fail_tool:
            wf.set_attribute(semconv.ERROR_TYPE, "TimeoutError")
            wf.set_status(Status(StatusCode.ERROR, "search timed out"))


def plain_spans(tp: TracerProvider, n: int, *, tag: str = "x", batch: int = 0) -> None:
    """``n`` tool spans carrying ``tag`` and ``batch`` so a test can count what landed."""
    tracer = tp.get_tracer("store-tests", "1.0")
    for i in range(n):
        with tracer.start_as_current_span(
            "execute_tool lookup",
            attributes={
                semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
                semconv.GEN_AI_TOOL_NAME: "lookup",
                "test.tag": tag,
                "test.batch": batch,
                "test.i": i,
                "test.payload": "p" * 200,
            },
        ):
            pass


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    spans = list(exporter.get_finished_spans())
    exporter.clear()
    return spans


def query(home: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Run ``sql`` on the store's database through a fresh connection."""
    conn = sqlite3.connect(paths.db_path(home))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
