"""Hostile attribute values never make a store exporter raise, and the record is still stored."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
from opentelemetry._logs import LogRecord as ApiLogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, Status, StatusCode
from store_spans import finished, provider, query, workflow_trace

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.store import LocalStore
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    __repr__ = __str__


class ExplodingMapping(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("cannot iterate")


def hostile_attributes() -> dict[Any, Any]:
    loop: list[Any] = []
    loop.append(loop)
    loop.extend([loop] * 50)
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    return {
        "nan": math.nan,
        "inf": -math.inf,
        "bytes": b"\x00\xff binary",
        "huge": "x" * 5_000_000,
        "bigint": 2**100,
        "unprintable": Unprintable(),
        "recursive_list": loop,
        "recursive_dict": cycle,
        "set": {1, 2},
        "surrogate": "bad \udc80 value",
        "mixed": (1, "a", None, 2.5, b"b"),
        "exploding": ExplodingMapping(a=1),
        7: "non-string key",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: "not a number",
        semconv.COST_USD: math.nan,
        semconv.RUN_KIND: semconv.RUN_KIND_WORKFLOW,
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
        semconv.GEN_AI_WORKFLOW_NAME: "wf \udc80 with a lone surrogate",
        semconv.RUN_METRICS: "{not json",
        semconv.RUN_METADATA_PREFIX + "obj": Unprintable(),
    }


def _all_lines_parse(home: Path, signal: str) -> int:
    """Every line reads back; returns how many records (spans, log records, metrics) they hold."""
    report = ndjson.ReadReport()
    found = 0
    for f in ndjson.list_files(paths.ndjson_dir(home), signal):
        for request in ndjson.read_file(f, report):
            for resource in next(iter(request.values())):
                for scope in resource[next(k for k in resource if k.startswith("scope"))]:
                    found += len(scope.get("spans") or scope.get("logRecords") or scope.get("metrics") or [])
    assert report.torn == 0
    return found


def test_span_exporter_survives_hostile_attributes(store: LocalStore, home: Path) -> None:
    """A span whose attributes, events and status hold hostile values is exported and stored."""
    ctx = SpanContext(0xABC, 0xDEF, False)
    span = ReadableSpan(
        name="invoke_workflow \udc80 bad surrogate",
        context=ctx,
        resource=Resource({semconv.SERVICE_NAME: "hostile"}),
        attributes=hostile_attributes(),
        events=[Event("evil", hostile_attributes(), 5)],
        status=Status(StatusCode.ERROR, "x" * 100_000),
        start_time=10,
        end_time=5,
        instrumentation_scope=InstrumentationScope("s"),
    )
    assert store.span_exporter.export([span]) is SpanExportResult.SUCCESS
    assert query(home, "SELECT count(*) FROM spans") == [(1,)]
    assert query(home, "SELECT count(*) FROM runs") == [(1,)]
    [(attrs,)] = query(home, "SELECT attributes FROM spans")
    assert orjson.loads(str(attrs))["nan"] == "NaN"
    assert _all_lines_parse(home, "traces") == 1
    assert stats.errors() == {}


def test_log_exporter_survives_hostile_bodies_and_attributes(store: LocalStore, home: Path) -> None:
    """Log records with hostile bodies and attributes are exported and stored."""
    records = [
        ReadableLogRecord(
            ApiLogRecord(
                timestamp=1, body=body, attributes=hostile_attributes(), severity_text=Unprintable()
            ),  # type: ignore[arg-type]
            resource=Resource.get_empty(),
        )
        for body in (Unprintable(), hostile_attributes(), b"\xff", math.nan, "y" * 3_000_000)
    ]
    assert store.log_exporter.export(records) is LogRecordExportResult.SUCCESS
    assert query(home, "SELECT count(*) FROM logs") == [(5,)]
    assert _all_lines_parse(home, "logs") == 5
    assert stats.errors() == {}


def test_metric_exporter_survives_hostile_points(store: LocalStore, home: Path) -> None:
    """Metric points with hostile attributes and non-finite values are exported and stored."""
    points = [
        NumberDataPoint(attributes=hostile_attributes(), start_time_unix_nano=1, time_unix_nano=2, value=v)
        for v in (math.nan, math.inf, 2**70, 3)
    ]
    data = MetricsData(
        [
            ResourceMetrics(
                Resource.get_empty(),
                [ScopeMetrics(InstrumentationScope("m"), [Metric("g", None, None, Gauge(points))], "")],
                "",
            )
        ]
    )
    assert store.metric_exporter.export(data) is MetricExportResult.SUCCESS
    assert query(home, "SELECT count(*) FROM metric_points") == [(4,)]
    assert _all_lines_parse(home, "metrics") == 1
    assert stats.errors() == {}


class BrokenSpan(ReadableSpan):
    def get_span_context(self) -> SpanContext:  # type: ignore[override]
        raise RuntimeError("a span our code cannot read")


def test_one_unreadable_span_costs_only_itself(store: LocalStore, home: Path, lenient: None) -> None:
    """In production mode a span that breaks our encoder is dropped and counted; its batch is kept."""
    good = ReadableSpan(
        name="fine",
        context=SpanContext(0x1, 0x2, False),
        resource=Resource.get_empty(),
        start_time=1,
        end_time=2,
    )
    assert store.span_exporter.export([good, BrokenSpan(name="broken"), good]) is SpanExportResult.SUCCESS
    assert query(home, "SELECT count(*) FROM spans") == [(2,)]
    assert stats.drops() == {"store.unencodable_record": 1}
    assert stats.errors() == {"store.export.span": 1}


def test_a_huge_service_name_is_cut_in_every_row_it_is_copied_to(store: LocalStore, home: Path) -> None:
    """A 100 KB service name (an operator's slip) is kept once with its resource (up to the store's
    64 KiB cap of a value), and cut to the filterable columns' 4096 characters in each span, run and
    log row it is copied to, not stored at length in each."""
    tp, mem = provider(service="s" * 100_000)
    workflow_trace(tp, run_id="r-1")
    assert store.span_exporter.export(finished(mem)) is SpanExportResult.SUCCESS
    [(spans, longest)] = query(home, "SELECT count(*), max(length(service)) FROM spans")
    assert spans > 1 and longest == 4096
    assert query(home, "SELECT max(length(service)) FROM runs") == [(4096,)]
    [(attributes,)] = query(home, "SELECT attributes FROM resources")
    assert len(orjson.loads(str(attributes))[semconv.SERVICE_NAME]) > 64_000
