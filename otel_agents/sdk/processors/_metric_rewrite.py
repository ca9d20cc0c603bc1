"""Metric points' attributes rewritten (redaction, truncation) before any exporter or scrape reads them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Final

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData

from otel_agents.api import _counters as stats
from otel_agents.api._guard import contained
from otel_agents.sdk.processors._rewrite import RewritePass, Rewriter, Unchanged

DROP_REWRITE_FAILED: Final = "metrics.rewrite_failed"


class MetricRewriter:
    """Rewrites the text in every data point's attributes and its exemplars' attributes, rebuilding
    only what changed through the SDK's own (frozen) point types."""

    def __init__(self, rewriters: Sequence[Rewriter]) -> None:
        self._rewriters = tuple(rewriters)
        # Label values repeat from one collection to the next: each is read once.
        self._unchanged = Unchanged()

    def __call__(self, data: MetricsData) -> MetricsData:
        try:
            return _data(data, RewritePass(self._rewriters, self._unchanged))
        except Exception as exc:
            if not contained("metrics.rewrite", exc):
                raise
            # Fail closed: no points at all rather than points that may carry a secret.
            stats.count_drop(DROP_REWRITE_FAILED, _count_points(data))
            return MetricsData(resource_metrics=[])


def _count_points(data: MetricsData) -> int:
    """How many data points ``data`` holds (1 when it cannot be read: at least one was lost)."""
    try:
        return sum(
            len(getattr(metric.data, "data_points", ()))
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        )
    except Exception:  # noqa: BLE001 - the same broken data the rewrite failed on
        return 1


def _data(data: MetricsData, run: RewritePass) -> MetricsData:
    resources = _each(data.resource_metrics, lambda r: _resource(r, run))
    return data if resources is None else MetricsData(resource_metrics=resources)


def _resource(resource: Any, run: RewritePass) -> Any:
    scopes = _each(resource.scope_metrics, lambda s: _scope(s, run))
    return resource if scopes is None else dataclasses.replace(resource, scope_metrics=scopes)


def _scope(scope: Any, run: RewritePass) -> Any:
    metrics = _each(scope.metrics, lambda m: _metric(m, run))
    return scope if metrics is None else dataclasses.replace(scope, metrics=metrics)


def _metric(metric: Any, run: RewritePass) -> Any:
    points = getattr(metric.data, "data_points", None)
    if not points:
        return metric
    new_points = _each(points, lambda p: _point(p, run))
    if new_points is None:
        return metric
    return dataclasses.replace(metric, data=dataclasses.replace(metric.data, data_points=new_points))


def _point(point: Any, run: RewritePass) -> Any:
    changes: dict[str, Any] = {}
    attributes = run.mapping(point.attributes)
    if attributes is not None:
        changes["attributes"] = attributes
    exemplars = _each(getattr(point, "exemplars", None) or (), lambda e: _exemplar(e, run))
    if exemplars is not None:
        changes["exemplars"] = exemplars
    return dataclasses.replace(point, **changes) if changes else point


def _exemplar(exemplar: Any, run: RewritePass) -> Any:
    attributes = run.mapping(exemplar.filtered_attributes)
    return exemplar if attributes is None else dataclasses.replace(exemplar, filtered_attributes=attributes)


def _each(items: Sequence[Any], rewrite: Callable[[Any], Any]) -> list[Any] | None:
    """``items`` each rewritten, as a new list, or None when every one came back as it was."""
    out: list[Any] | None = None
    for i, item in enumerate(items):
        new = rewrite(item)
        if new is not item:
            if out is None:
                out = list(items)
            out[i] = new
    return out


class RewritingMetricExporter(MetricExporter):
    """A push exporter that exports every batch of points with their attributes rewritten."""

    def __init__(self, exporter: MetricExporter, rewrite: MetricRewriter) -> None:
        super().__init__(
            preferred_temporality=getattr(exporter, "_preferred_temporality", None),
            preferred_aggregation=getattr(exporter, "_preferred_aggregation", None),
        )
        self.exporter = exporter
        self._rewrite = rewrite

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return self.exporter.export(self._rewrite(metrics_data), timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return bool(self.exporter.force_flush(timeout_millis=timeout_millis))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.exporter.shutdown(timeout_millis=timeout_millis, **kwargs)


def then(
    first: Callable[[MetricsData], MetricsData] | None, second: Callable[[MetricsData], MetricsData]
) -> Callable[[MetricsData], MetricsData]:
    """``second`` applied to what ``first`` (if any) made."""
    if first is None:
        return second
    return lambda data: second(first(data))
