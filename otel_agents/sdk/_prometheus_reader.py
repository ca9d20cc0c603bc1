"""The process's one Prometheus reader: it registers with prometheus_client's global registry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from opentelemetry.sdk.metrics.export import MetricReader, MetricsData

EXTRA_HINT: Final = "pip install 'otel-agents[prometheus]'"

_lock = threading.Lock()
_reader: MetricReader | None = None


def _make() -> MetricReader:
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
    except ImportError as exc:
        raise ImportError(f"/metrics needs opentelemetry-exporter-prometheus: {EXTRA_HINT}") from exc

    class _Reader(PrometheusMetricReader):
        """The Prometheus reader, adding the span histograms of the pipeline it reads."""

        merge: Callable[[MetricsData], MetricsData] | None = None
        # Set at shutdown: the SDK lets a reader join one meter provider only, so the next
        # configure() gets a new reader (the old one's collector has left the registry).
        closed = False
        replaced_by: MetricReader | None = None

        def _receive_metrics(
            self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
        ) -> None:
            merge = self.merge
            if merge is not None and metrics_data is not None:
                metrics_data = merge(metrics_data)
            super()._receive_metrics(metrics_data, timeout_millis, **kwargs)

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            self.closed = True
            super().shutdown(timeout_millis, **kwargs)

    return _Reader()


def reader() -> MetricReader:
    """The process-wide ``PrometheusMetricReader``, made on first use and again after a shutdown;
    ImportError names the extra."""
    global _reader  # noqa: PLW0603 - one reader per process: a second would repeat every family
    with _lock:
        if _reader is None or getattr(_reader, "closed", False):
            made_now = _make()
            if _reader is not None:
                _reader.replaced_by = made_now  # type: ignore[attr-defined]
            _reader = made_now
        return _reader


def current(given: MetricReader) -> MetricReader:
    """``given``, or the reader made in its place if ``given`` is one of ours that was shut down."""
    if getattr(given, "closed", False) and hasattr(given, "replaced_by"):
        return reader()
    return given


def same(given: MetricReader) -> bool:
    """True for the live reader, or a reader of ours it replaced."""
    while given is not None and given is not _reader:
        given = getattr(given, "replaced_by", None)  # type: ignore[assignment]
    return given is not None


def is_ours(given: MetricReader) -> bool:
    """True for the reader ``reader()`` made last."""
    return given is _reader and _reader is not None


def feed(merge: Callable[[MetricsData], MetricsData] | None) -> None:
    """Have each scrape add what ``merge`` adds (the pipeline's span histograms), or nothing."""
    if _reader is not None:
        _reader.merge = merge  # type: ignore[attr-defined]


def made() -> MetricReader | None:
    """The reader if it was made, else None."""
    return _reader
