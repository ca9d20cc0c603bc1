"""Span-derived histograms aggregated in-process and added to each metric export as standard points."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.view import DefaultAggregation, ExplicitBucketHistogramAggregation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_agents.api import _semconv as semconv
from otel_agents.api._version import __version__

# A series' label set, as the span metrics build it.
Labels = tuple[tuple[str, Any], ...]
_SCOPE = InstrumentationScope(semconv.SCOPE_NAME, __version__, semconv.SCHEMA_URL)


class HistogramSpec:
    """One histogram: its name, unit and explicit bucket boundaries (as the SDK's instrument had)."""

    __slots__ = ("bounds", "name", "unit")

    def __init__(self, name: str, unit: str, bounds: Sequence[float]) -> None:
        self.name = name
        self.unit = unit
        self.bounds = tuple(float(b) for b in bounds)


class _Series:
    """One label set's buckets, as the SDK's explicit bucket aggregation keeps them."""

    __slots__ = ("count", "counts", "max", "min", "start", "sum")

    def __init__(self, buckets: int, start: int) -> None:
        self.counts = [0] * buckets
        self.count = 0
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")
        self.start = start


class HistogramSink:
    """One exporter's view of the span histograms: cumulative, or reset at every export (delta)."""

    def __init__(self, temporality: AggregationTemporality) -> None:
        self.temporality = temporality
        self._lock = threading.Lock()
        self._series: dict[tuple[HistogramSpec, Labels], _Series] = {}
        self._last_export = time.time_ns()

    def add(self, spec: HistogramSpec, labels: Labels, values: Sequence[float]) -> None:
        """Count ``values`` into the series of ``spec`` and ``labels``, in one hold of the lock."""
        if not values:
            return
        key = (spec, labels)
        bounds = spec.bounds
        with self._lock:
            series = self._series.get(key)
            if series is None:
                cumulative = self.temporality is AggregationTemporality.CUMULATIVE
                start = time.time_ns() if cumulative else self._last_export
                series = self._series[key] = _Series(len(bounds) + 1, start)
            counts = series.counts
            total = series.sum
            for value in values:
                counts[bisect_left(bounds, value)] += 1
                total += value  # one by one, as each value arrived: the same float sum
            series.sum = total
            series.count += len(values)
            low, high = min(values), max(values)
            series.min = min(series.min, low)
            series.max = max(series.max, high)

    def metrics(self) -> list[Metric]:
        """The points since the start (cumulative) or since the last call (delta), one metric per name."""
        now = time.time_ns()
        with self._lock:
            # Copied under the lock: a cumulative series goes on taking values while points are built.
            taken = [
                (spec, labels, s.start, s.count, s.sum, tuple(s.counts), s.min, s.max)
                for (spec, labels), s in self._series.items()
            ]
            if self.temporality is AggregationTemporality.DELTA:
                self._series = {}
            self._last_export = now
        by_spec: dict[HistogramSpec, list[HistogramDataPoint]] = {}
        for spec, labels, start, count, total, counts, low, high in taken:
            by_spec.setdefault(spec, []).append(
                HistogramDataPoint(
                    attributes=dict(labels),
                    start_time_unix_nano=start,
                    time_unix_nano=now,
                    count=count,
                    sum=total,
                    bucket_counts=counts,
                    explicit_bounds=spec.bounds,
                    min=low,
                    max=high,
                )
            )
        return [
            Metric(
                name=spec.name,
                description="",
                unit=spec.unit,
                data=Histogram(data_points=points, aggregation_temporality=self.temporality),
            )
            for spec, points in by_spec.items()
        ]


class SpanHistograms:
    """What the span metrics record into: every value goes to each exporter's sink (a bisect each,
    where an SDK ``Histogram.record`` costs about 10 us)."""

    def __init__(self) -> None:
        self.sinks: tuple[HistogramSink, ...] = ()

    def sink(self, temporality: AggregationTemporality) -> HistogramSink:
        made = HistogramSink(temporality)
        self.sinks = (*self.sinks, made)
        return made

    def record(self, spec: HistogramSpec, labels: Labels, values: Sequence[float]) -> None:
        """Count ``values`` (those of one series, gathered by the caller) into every sink."""
        for sink in self.sinks:
            sink.add(spec, labels, values)


def can_take(exporter: MetricExporter) -> bool:
    """True when ``exporter`` wants explicit bucket histograms, the only kind the sinks keep."""
    # The reader reads the same two attributes to honour an exporter's preferences.
    preferred = getattr(exporter, "_preferred_aggregation", None) or {}
    aggregation = preferred.get(HistogramInstrument)
    return aggregation is None or isinstance(
        aggregation, (DefaultAggregation, ExplicitBucketHistogramAggregation)
    )


def temporality_of(exporter: MetricExporter) -> AggregationTemporality:
    """The histogram temporality ``exporter`` asks its reader for (cumulative by default)."""
    preferred = getattr(exporter, "_preferred_temporality", None) or {}
    temporality = preferred.get(HistogramInstrument, AggregationTemporality.CUMULATIVE)
    return (
        temporality if isinstance(temporality, AggregationTemporality) else AggregationTemporality.CUMULATIVE
    )


def with_histograms(metrics_data: MetricsData, sink: HistogramSink, resource: Resource) -> MetricsData:
    """``metrics_data`` with the sink's histograms added to our scope's metrics."""
    ours = sink.metrics()
    if not ours:
        return metrics_data
    # One meter provider, so one resource; our scope is there when a counter of ours was added.
    if not metrics_data.resource_metrics:
        scope = ScopeMetrics(_SCOPE, ours, semconv.SCHEMA_URL)
        return MetricsData([ResourceMetrics(resource, [scope], "")])
    first, *rest = metrics_data.resource_metrics
    scopes = list(first.scope_metrics)
    for i, scope in enumerate(scopes):
        if scope.scope.name == semconv.SCOPE_NAME:
            scopes[i] = ScopeMetrics(scope.scope, [*scope.metrics, *ours], scope.schema_url)
            break
    else:
        scopes.append(ScopeMetrics(_SCOPE, ours, semconv.SCHEMA_URL))
    return MetricsData([ResourceMetrics(first.resource, scopes, first.schema_url), *rest])


class WithSpanHistograms(MetricExporter):
    """A push exporter whose every export also carries the span histograms of its sink, in our
    scope's metrics (the reader drains the span metrics into the sink just before, at collection)."""

    def __init__(self, exporter: MetricExporter, sink: HistogramSink, resource: Resource) -> None:
        super().__init__(
            preferred_temporality=getattr(exporter, "_preferred_temporality", None),
            preferred_aggregation=getattr(exporter, "_preferred_aggregation", None),
        )
        self.exporter = exporter
        self._sink = sink
        self._resource = resource

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        merged = with_histograms(metrics_data, self._sink, self._resource)
        return self.exporter.export(merged, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return bool(self.exporter.force_flush(timeout_millis=timeout_millis))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.exporter.shutdown(timeout_millis=timeout_millis, **kwargs)
