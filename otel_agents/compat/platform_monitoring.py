"""The ``platform_monitoring`` API (``log_event``, ``prometheus_metric``) as OTel log records and metrics.

=========================================  ====================================================
old call                                   OTel-native equivalent
=========================================  ====================================================
``log_event({"event_type": "signup",       an OTel log record through the logs API: event name
"level": "info", "message": ..., **kv})``  ``event_type``, severity from ``level``, body
                                           ``message``, every other key an attribute; it carries
                                           the current trace and run ids
``prometheus_metric("jobs_total", 1,       ``meter.create_counter("jobs_total").add(1, labels)``
{"queue": "default"})``                    for names ending ``_total``; otherwise
                                           ``meter.create_gauge(name).set(value, labels)``
=========================================  ====================================================

The first call configures the pipeline (``oa.configure()`` from the environment) unless the app
already did. Metrics reach ``/metrics`` through ``setup_monitoring`` (or any Prometheus reader) and
OTLP through
``configure()``; nothing is registered with ``prometheus_client`` directly. Neither call raises: a
non-dict event, a bad metric name, a non-numeric value or a bad label is logged once and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from otel_agents.compat._support import (
    attributes,
    bad_input,
    emit_log,
    instrument,
    number,
    pipeline,
    tolerant,
    valid_name,
)
from otel_agents.compat._support import labels as clean_labels

__all__ = ["log_event", "prometheus_metric"]

SCOPE: Final = "platform_monitoring"
DEFAULT_EVENT: Final = "platform_monitoring.event"
_SPECIAL: Final = ("event_type", "level", "message")


@tolerant("platform_monitoring.log_event")
def log_event(event: dict[str, Any]) -> None:
    """Record ``event`` (``event_type``, ``level``, ``message`` and any other keys) as a log record."""
    pipeline()
    if not isinstance(event, Mapping):
        bad_input("platform_monitoring.log_event", "event must be a dict")
        emit_log(SCOPE, "info", event, event_name=DEFAULT_EVENT)
        return
    event_type = event.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        bad_input("platform_monitoring.log_event", "event_type must be a non-empty string")
        event_type = DEFAULT_EVENT
    rest = {k: v for k, v in event.items() if k not in _SPECIAL}
    message = event.get("message", event_type)
    emit_log(SCOPE, event.get("level", "info"), message, attributes(rest), event_name=event_type)


@tolerant("platform_monitoring.prometheus_metric")
def prometheus_metric(name: str, value: float, labels: dict[str, str] | None = None) -> None:
    """Add ``value`` to the counter ``name`` (names ending ``_total``) or set the gauge ``name``."""
    site = "platform_monitoring.prometheus_metric"
    pipeline()
    metric = valid_name(site, name)
    amount = number(site, value)
    if metric is None or amount is None:
        return
    attrs = clean_labels(site, labels)
    if metric.endswith("_total"):
        if amount < 0:
            bad_input(site, "a counter only goes up")
            return
        instrument("counter", metric).add(amount, attrs)
    else:
        instrument("gauge", metric).set(amount, attrs)
