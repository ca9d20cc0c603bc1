"""Span histograms aggregated in-process: the same points the SDK's histogram makes, in every export."""

from __future__ import annotations

import functools
import json
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ConsoleMetricExporter,
    InMemoryMetricReader,
)

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.sdk._span_histograms import HistogramSink, HistogramSpec, can_take, temporality_of
from otel_agents.sdk.processors._span_metrics import DURATION_BUCKETS, TOKEN_BUCKETS
from tests.conftest import reset_otel_globals
from tests.support.otlp_receiver import Receiver


@pytest.fixture(autouse=True)
def _fresh_globals() -> None:
    reset_otel_globals()


def _sdk_points(values: list[tuple[tuple[tuple[str, Any], ...], float]], bounds: tuple[float, ...]) -> Any:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("m")
    histogram = meter.create_histogram("h", unit="s", explicit_bucket_boundaries_advisory=bounds)
    for labels, value in values:
        histogram.record(value, dict(labels))
    data = reader.get_metrics_data()
    assert data is not None
    return {
        tuple(sorted(p.attributes.items())): p
        for p in data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    }


@pytest.mark.parametrize("bounds", [DURATION_BUCKETS, TOKEN_BUCKETS])
def test_the_points_are_the_ones_the_sdk_histogram_makes(bounds: tuple[float, ...]) -> None:
    """For the same values, bucket counts, count, sum, min and max equal the SDK's explicit histogram."""
    rnd = random.Random(7)
    series = [(("gen_ai.tool.name", "a"),), (("gen_ai.tool.name", "b"), ("error.type", "X"))]
    values = [
        (rnd.choice(series), rnd.choice([*bounds, 0.0, rnd.uniform(0, bounds[-1] * 2)])) for _ in range(3000)
    ]
    sink = HistogramSink(AggregationTemporality.CUMULATIVE)
    spec = HistogramSpec("h", "s", bounds)
    # In chunks, as a drain hands each series the values it gathered (an empty one included).
    for i in range(0, len(values), 7):
        chunk = values[i : i + 7]
        for labels in series:
            sink.add(spec, labels, [value for key, value in chunk if key == labels])
    [metric] = sink.metrics()
    ours = {tuple(sorted(p.attributes.items())): p for p in metric.data.data_points}
    theirs = _sdk_points(values, bounds)
    assert ours.keys() == theirs.keys()
    for key, point in ours.items():
        sdk = theirs[key]
        assert tuple(point.bucket_counts) == tuple(sdk.bucket_counts)
        assert tuple(point.explicit_bounds) == tuple(sdk.explicit_bounds)
        assert (point.count, point.min, point.max) == (sdk.count, sdk.min, sdk.max)
        assert point.sum == pytest.approx(sdk.sum)
    assert metric.data.aggregation_temporality is AggregationTemporality.CUMULATIVE


def test_delta_points_cover_only_what_came_since_the_last_export() -> None:
    """A delta sink reports each interval's values once, and a series with none in an interval not at all."""
    sink = HistogramSink(AggregationTemporality.DELTA)
    spec = HistogramSpec("h", "s", DURATION_BUCKETS)
    a, b = (("k", "a"),), (("k", "b"),)
    sink.add(spec, a, [0.5])
    sink.add(spec, b, [2.0])
    first = {p.attributes["k"]: p for p in sink.metrics()[0].data.data_points}
    sink.add(spec, a, [0.01])
    [second] = sink.metrics()[0].data.data_points
    assert sink.metrics() == []
    assert (first["a"].count, first["b"].count, second.count) == (1, 1, 1)
    assert second.attributes == {"k": "a"} and second.max == 0.01
    assert second.start_time_unix_nano >= first["a"].time_unix_nano


def test_exporters_choose_the_temporality_and_exponential_ones_keep_the_sdk_path() -> None:
    """An exporter's histogram temporality is followed; one asking for exponential buckets is left out."""
    delta = OTLPMetricExporter(preferred_temporality={oa_histogram(): AggregationTemporality.DELTA})
    assert temporality_of(delta) is AggregationTemporality.DELTA
    assert temporality_of(ConsoleMetricExporter()) is AggregationTemporality.CUMULATIVE
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation

    exponential = ConsoleMetricExporter(
        preferred_aggregation={oa_histogram(): ExponentialBucketHistogramAggregation()}
    )
    assert can_take(ConsoleMetricExporter()) and not can_take(exponential)


def oa_histogram() -> type:
    from opentelemetry.sdk.metrics import Histogram

    return Histogram


def _workflow() -> None:
    with oa.workflow("wf"), oa.agent("support"):
        with oa.tool("lookup"):
            pass
        with oa.llm("gpt-4o-mini", provider="openai") as call:
            call.record_usage(input_tokens=120, output_tokens=30)


def test_the_store_gets_the_span_histograms_with_the_counters(tmp_path: Path) -> None:
    """Through configure()'s store, the tool, agent, workflow and LLM histograms arrive once each with
    their labels, beside the span counters, and no SDK histogram instrument recorded them."""
    telemetry = oa.configure(home=tmp_path, logs=False)
    try:
        assert telemetry.span_metrics is not None
        assert all(isinstance(r, functools.partial) for r in telemetry.span_metrics._durations.values())
        for _ in range(3):
            _workflow()
        assert telemetry.force_flush(20)
    finally:
        telemetry.shutdown(10)
    conn = sqlite3.connect(tmp_path / "store.sqlite")
    rows = conn.execute("SELECT name, type, attributes, count FROM metric_points").fetchall()
    conn.close()
    histograms = {(name, attrs): count for name, kind, attrs, count in rows if kind == "histogram"}
    tool = [(json.loads(a), c) for (n, a), c in histograms.items() if n == semconv.METRIC_TOOL_DURATION]
    assert tool and max(c for _, c in tool) == 3
    assert tool[0][0][semconv.GEN_AI_TOOL_NAME] == "lookup"
    names = {n for n, _ in histograms}
    assert {
        semconv.METRIC_WORKFLOW_DURATION,
        semconv.METRIC_AGENT_DURATION,
        semconv.METRIC_CLIENT_OPERATION_DURATION,
        semconv.METRIC_CLIENT_TOKEN_USAGE,
    } <= names
    assert semconv.METRIC_CALLS in {n for n, *_ in rows}


def test_otlp_delta_exports_each_span_histogram_value_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With delta temporality over OTLP, the tool histogram's counts over every export add up to the
    tool spans made, each value in exactly one export."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")
    receiver = Receiver()
    try:
        telemetry = oa.configure(exporter="otlp", otlp_endpoint=receiver.endpoint, home=tmp_path, logs=False)
        try:
            for _ in range(2):
                _workflow()
            assert telemetry.force_flush(20)
            _workflow()
            assert telemetry.force_flush(20)
        finally:
            telemetry.shutdown(10)
        counts = [
            (m.histogram.aggregation_temporality, p.count)
            for request in receiver.metrics
            for rm in request.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == semconv.METRIC_TOOL_DURATION
            for p in m.histogram.data_points
        ]
    finally:
        receiver.close()
    assert sum(c for _, c in counts) == 3, counts
    assert {t for t, _ in counts} == {1}  # AGGREGATION_TEMPORALITY_DELTA


def test_a_reader_the_app_passes_keeps_the_sdk_instruments(tmp_path: Path) -> None:
    """With an app's own metric reader in the provider, the span histograms are SDK instruments it reads."""
    reader = InMemoryMetricReader()
    telemetry = oa.configure(home=tmp_path, logs=False, metric_readers=(reader,))
    try:
        assert telemetry.span_metrics is not None
        assert not any(isinstance(r, functools.partial) for r in telemetry.span_metrics._durations.values())
        _workflow()
        assert telemetry.force_flush(20)
        data = reader.get_metrics_data()
    finally:
        telemetry.shutdown(10)
    assert data is not None
    names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert semconv.METRIC_TOOL_DURATION in names


# The Prometheus reader is one per process and the SDK lets it join one meter provider only.
_PROMETHEUS = textwrap.dedent(
    """
    import functools, json, otel_agents as oa
    from prometheus_client import REGISTRY, generate_latest
    from otel_agents.sdk import _prometheus_reader

    def tool_count():
        text = generate_latest(REGISTRY).decode()
        lines = [l for l in text.splitlines() if l.startswith("gen_ai_execute_tool_duration")]
        return [float(l.rsplit(" ", 1)[1]) for l in lines if "_count" in l.split("{")[0]]

    def workflow():
        with oa.workflow("wf"), oa.agent("support"), oa.tool("lookup"):
            pass

    telemetry = oa.configure(logs=False, metric_readers=[_prometheus_reader.reader()])
    ours = all(isinstance(r, functools.partial) for r in telemetry.span_metrics._durations.values())
    workflow(); workflow()
    telemetry.tracer_provider.force_flush(10_000)
    first = tool_count()
    workflow()
    telemetry.tracer_provider.force_flush(10_000)
    print(json.dumps({"in_process": ours, "counts": [first, tool_count()]}))
    telemetry.shutdown(5)
    """
)


def test_prometheus_scrapes_show_the_span_histograms(tmp_path: Path) -> None:
    """Through our Prometheus reader, each scrape shows the span histograms' cumulative counts."""
    env = {**os.environ, "OTEL_AGENTS_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", _PROMETHEUS], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"in_process": True, "counts": [[2.0], [3.0]]}
