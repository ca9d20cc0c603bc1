"""The process's Prometheus reader (one per process) and the text exposition served at ``/metrics``."""

from __future__ import annotations

import logging
from typing import Final

from opentelemetry.sdk.metrics.export import MetricReader

from otel_agents.api._guard import never_raise
from otel_agents.sdk import _prometheus_reader
from otel_agents.sdk._configure import Telemetry

__all__ = ["reader"]

_log = logging.getLogger("otel_agents")
_warned = False

EXTRA_HINT: Final = _prometheus_reader.EXTRA_HINT


def available() -> bool:
    """True when ``opentelemetry-exporter-prometheus`` is installed."""
    try:
        import opentelemetry.exporter.prometheus  # noqa: F401
    except ImportError:
        return False
    return True


def reader() -> MetricReader:
    """The process-wide ``PrometheusMetricReader``; pass it to ``configure(metric_readers=[...])``."""
    return _prometheus_reader.reader()


def attached(telemetry: Telemetry) -> bool:
    """True when ``telemetry``'s meter provider feeds the Prometheus reader."""
    made = _prometheus_reader.made()
    if made is None:
        return False
    options = telemetry.options
    return any(
        _prometheus_reader.same(r) for r in options.metric_readers
    ) or "prometheus" in options.exporters_for("metrics")


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
