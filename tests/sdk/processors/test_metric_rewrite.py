"""Metric points' attributes are redacted before any exporter reads them, whichever instrument made them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)

import otel_agents as oa
from otel_agents import metrics as oa_metrics
from otel_agents.api import _counters as stats
from otel_agents.sdk._configure import Telemetry
from otel_agents.sdk.processors._metric_rewrite import DROP_REWRITE_FAILED, MetricRewriter
from otel_agents.sdk.processors._redaction import Redactor, marker
from tests.conftest import reset_otel_globals

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


class Captured(MetricExporter):
    """A push exporter that keeps each export's points as JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.exports: list[str] = []

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.exports.append(metrics_data.to_json())
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


@pytest.fixture
def pushed() -> Iterator[tuple[Telemetry, Captured]]:
    reset_otel_globals()
    sink = Captured()
    telemetry = oa.configure(exporter="none", logs=False, metric_exporters=[sink])
    yield telemetry, sink
    telemetry.shutdown(5)
    reset_otel_globals()


def _points(sink: Captured, name: str) -> list[dict[str, Any]]:
    found = []
    for export in sink.exports:
        for resource in json.loads(export)["resource_metrics"]:
            for scope in resource["scope_metrics"]:
                found += [p for m in scope["metrics"] if m["name"] == name for p in m["data"]["data_points"]]
    return found


def test_labels_of_any_instrument_are_redacted_before_a_push_exporter(
    pushed: tuple[Telemetry, Captured],
) -> None:
    """A secret in the labels of an app's own instrument, or of otel_agents.metrics, never reaches the exporter."""
    telemetry, sink = pushed
    meter = metrics.get_meter("app")
    meter.create_counter("app_calls").add(1, {"note": f"key {KEY}", "n": 3})
    meter.create_histogram("app_latency").record(1.5, {"password": "hunter2 hunter3"})
    oa_metrics.counter("our_calls").add(1, labels={"note": KEY})
    telemetry.force_flush(5)
    assert KEY not in "".join(sink.exports) and "hunter2" not in "".join(sink.exports)
    (app,) = _points(sink, "app_calls")
    assert app["attributes"] == {"note": f"key {marker('api_key')}", "n": 3}
    assert _points(sink, "app_latency") and _points(sink, "our_calls")


def test_points_with_nothing_to_redact_come_back_as_the_same_objects() -> None:
    """Clean points are handed on as they were made: nothing is rebuilt."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    provider.get_meter("m").create_counter("c").add(1, {"route": "/items/{id}", "n": 1})
    data = reader.get_metrics_data()
    assert data is not None
    assert MetricRewriter([Redactor()])(data) is data


def test_a_rewriter_that_raises_exports_no_points(lenient: None) -> None:
    """When rewriting fails, the points are dropped and counted rather than sent unread (fail closed)."""

    def broken(key: str, value: str) -> str:
        raise RuntimeError("broken rewriter")

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    provider.get_meter("m").create_counter("c").add(1, {"note": KEY})
    data = reader.get_metrics_data()
    assert data is not None
    stats.reset()
    assert MetricRewriter([broken])(data).resource_metrics == []
    assert stats.drops()[DROP_REWRITE_FAILED] == 1  # the one point, counted as lost
