"""The process's one Prometheus reader: it registers with prometheus_client's global registry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from opentelemetry.sdk.metrics.export import MetricReader, MetricsData

EXTRA_HINT: Final = "pip install 'otel-agents[prometheus]'"

_lock = threading.Lock()
_reader: MetricReader | None = None


def reader() -> MetricReader:
    """The process-wide ``PrometheusMetricReader``, made on first use; ImportError names the extra."""
    global _reader  # noqa: PLW0603 - one reader per process: a second would repeat every family
    with _lock:
        if _reader is None:
            try:
                from opentelemetry.exporter.prometheus import PrometheusMetricReader
            except ImportError as exc:
                raise ImportError(f"/metrics needs opentelemetry-exporter-prometheus: {EXTRA_HINT}") from exc

            class _Reader(PrometheusMetricReader):
                """The Prometheus reader, adding the span histograms of the pipeline it reads."""

                merge: Callable[[MetricsData], MetricsData] | None = None

                def _receive_metrics(
                    self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
                ) -> None:
                    merge = self.merge
                    if merge is not None and metrics_data is not None:
                        metrics_data = merge(metrics_data)
                    super()._receive_metrics(metrics_data, timeout_millis, **kwargs)

            _reader = _Reader()
        return _reader


def is_ours(reader: MetricReader) -> bool:
    """True for the reader ``reader()`` made."""
    return reader is _reader and _reader is not None


def feed(merge: Callable[[MetricsData], MetricsData] | None) -> None:
    """Have each scrape add what ``merge`` adds (the pipeline's span histograms), or nothing."""
    if _reader is not None:
        _reader.merge = merge  # type: ignore[attr-defined]


def made() -> MetricReader | None:
    """The reader if it was made, else None."""
    return _reader
