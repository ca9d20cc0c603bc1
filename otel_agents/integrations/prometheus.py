"""The process's Prometheus reader (one per process) and the text exposition served at ``/metrics``."""

from __future__ import annotations

import logging
import threading
from typing import Final

from opentelemetry.sdk.metrics.export import MetricReader

from otel_agents.api._guard import never_raise
from otel_agents.sdk._configure import Telemetry

__all__ = ["reader"]

_log = logging.getLogger("otel_agents")
_lock = threading.Lock()
_reader: MetricReader | None = None
_warned = False

EXTRA_HINT: Final = "pip install 'otel-agents[prometheus]'"


def available() -> bool:
    """True when ``opentelemetry-exporter-prometheus`` is installed."""
    try:
        import opentelemetry.exporter.prometheus  # noqa: F401
    except ImportError:
        return False
    return True


def reader() -> MetricReader:
    """The process-wide ``PrometheusMetricReader``; pass it to ``configure(metric_readers=[...])``."""
    global _reader  # noqa: PLW0603 - one reader per process: it registers with the global registry
    with _lock:
        if _reader is None:
            try:
                from opentelemetry.exporter.prometheus import PrometheusMetricReader
            except ImportError as exc:
                raise ImportError(f"/metrics needs opentelemetry-exporter-prometheus: {EXTRA_HINT}") from exc
            _reader = PrometheusMetricReader()
        return _reader


def attached(telemetry: Telemetry) -> bool:
    """True when ``telemetry``'s meter provider feeds the Prometheus reader."""
    return _reader is not None and any(r is _reader for r in telemetry.options.metric_readers)


def warn_if_detached(telemetry: Telemetry) -> None:
    """Say once, clearly, why ``/metrics`` lacks the OTel metrics when the pipeline was built without us."""
    global _warned  # noqa: PLW0603 - warn once per process
    if attached(telemetry) or _warned:
        return
    _warned = True
    _log.warning(
        "otel_agents: configure() ran before setup_monitoring() without the Prometheus reader, so "
        "/metrics shows no OpenTelemetry metrics; pass "
        "metric_readers=[otel_agents.integrations.prometheus.reader()] to that configure() call"
    )


@never_raise("integrations.prometheus.render", default=(b"", "text/plain; charset=utf-8"))
def render() -> tuple[bytes, str]:
    """The Prometheus text exposition of this process's registry and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
