"""The process's one Prometheus reader: it registers with prometheus_client's global registry."""

from __future__ import annotations

import threading
from typing import Final

from opentelemetry.sdk.metrics.export import MetricReader

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
            _reader = PrometheusMetricReader()
        return _reader


def made() -> MetricReader | None:
    """The reader if it was made, else None."""
    return _reader
