"""The Monitoring Service API as OTel metrics and log records, its Grafana calls through grafana-client.

==================================================  ===============================================
old call                                            OTel-native equivalent
==================================================  ===============================================
``MonitoringService(config)``                       ``oa.configure(service_name=, environment=)``
                                                    unless already configured; a bad config raises
``svc.log_error(message, error_type, component,     an ERROR log record (body ``message``,
context)``                                          ``error.type``, ``component``, ``context.*``) +
                                                    ``system_errors_total{error_type,component}``
``svc.record_metric(name, value, labels)``          the declared instrument below (``add`` for
                                                    counters, ``record`` for histograms, ``set``
                                                    for gauges); other names: a gauge, or a
                                                    counter when the name ends ``_total``
``svc.record_rate_limit(platform, limit_type,       ``rate_limit_hits_total{platform,limit_type}``
remaining, reset_time)``                            +1, gauge ``rate_limit_remaining`` and a
                                                    WARNING log record with the reset time
``svc.create_grafana_dashboard(dashboard)``         ``GrafanaApi.dashboard.update_dashboard`` (POST
                                                    /api/dashboards/db, ``overwrite`` false)
``svc.update_grafana_dashboard(uid, dashboard)``    the same POST with the uid and ``overwrite`` true
``svc.get_grafana_dashboard(uid)``                  ``GrafanaApi.dashboard.get_dashboard`` (GET
                                                    /api/dashboards/uid/{uid})
``svc.create_grafana_alert(rule)``                  ``GrafanaApi.alertingprovisioning
                                                    .create_alertrule`` (POST
                                                    /api/v1/provisioning/alert-rules)
``svc.get_grafana_alerts()``                        ``...get_alertrules_all`` (GET
                                                    /api/v1/provisioning/alert-rules)
==================================================  ===============================================

The metrics and their labels (anything else is logged once, counted and dropped):

- ``system_errors_total`` (counter): ``error_type``, ``component``
- ``request_duration_seconds`` (histogram, s): ``method``, ``endpoint``, ``status_code``
- ``processing_time_seconds`` (histogram, s): ``operation``, ``component``
- ``rate_limit_hits_total`` (counter): ``platform``, ``limit_type``
- ``memory_usage_bytes`` (gauge, By): ``component``
- ``cpu_usage_percent`` (gauge, %): ``component``
- ``prospect_score`` (histogram): ``source``, ``campaign``
- ``engagement_total`` (counter): ``platform``, ``engagement_type``

The Grafana calls need the ``compat-grafana`` extra (``grafana-client``); they build the requests
of Grafana's HTTP API and were tested against a local HTTP receiver, never against Grafana itself.
A failed Grafana call returns None and is logged once and counted, like every other call here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from otel_agents.api import _semconv as semconv
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

__all__ = ["METRICS", "MetricSpec", "MonitoringConfig", "MonitoringService"]

SCOPE: Final = "monitoring_service"
GRAFANA_EXTRA: Final = "pip install 'otel-agents[compat-grafana]'"


@dataclass(frozen=True)
class MetricSpec:
    """One of the Monitoring Service's metrics: instrument kind, unit, description and labels."""

    kind: str
    unit: str
    description: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


# Prometheus client's default buckets, for the histograms in seconds.
SECONDS_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCORE_BUCKETS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


METRICS: Final[dict[str, MetricSpec]] = {
    "system_errors_total": MetricSpec(
        "counter", "", "Errors logged by component", ("error_type", "component")
    ),
    "request_duration_seconds": MetricSpec(
        "histogram", "s", "Request duration", ("method", "endpoint", "status_code"), SECONDS_BUCKETS
    ),
    "processing_time_seconds": MetricSpec(
        "histogram", "s", "Processing time per operation", ("operation", "component"), SECONDS_BUCKETS
    ),
    "rate_limit_hits_total": MetricSpec("counter", "", "Rate limit hits", ("platform", "limit_type")),
    "memory_usage_bytes": MetricSpec("gauge", "By", "Memory in use", ("component",)),
    "cpu_usage_percent": MetricSpec("gauge", "%", "CPU use", ("component",)),
    "prospect_score": MetricSpec("histogram", "", "Prospect scores", ("source", "campaign"), SCORE_BUCKETS),
    "engagement_total": MetricSpec("counter", "", "Engagements", ("platform", "engagement_type")),
}
RATE_LIMIT_REMAINING: Final = "rate_limit_remaining"


@dataclass(frozen=True)
class MonitoringConfig:
    """The service's settings; Grafana is optional."""

    service_name: str = "monitoring-service"
    environment: str | None = None
    grafana_url: str | None = None
    grafana_api_key: str | None = None
    grafana_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.service_name, str) or not self.service_name:
            raise TypeError("MonitoringService(config): service_name must be a non-empty string")
        for name in ("environment", "grafana_api_key"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise TypeError(f"MonitoringService(config): {name} must be a string")
        if self.grafana_url is not None and not (
            isinstance(self.grafana_url, str) and self.grafana_url.startswith(("http://", "https://"))
        ):
            raise ValueError("MonitoringService(config): grafana_url must be an http(s) URL")
        timeout = self.grafana_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError("MonitoringService(config): grafana_timeout must be a positive number")


def _config_of(config: object) -> MonitoringConfig:
    if config is None:
        return MonitoringConfig()
    if isinstance(config, MonitoringConfig):
        return config
    if isinstance(config, Mapping):
        names = {f.name for f in fields(MonitoringConfig)}
        unknown = sorted(str(k) for k in config if k not in names)
        if unknown:
            raise TypeError(f"MonitoringService(config): unknown key(s) {', '.join(unknown)}")
        return MonitoringConfig(**config)
    raise TypeError(
        f"MonitoringService(config): expected a mapping or MonitoringConfig, got {type(config).__name__}"
    )


def _grafana(config: MonitoringConfig) -> Any:
    try:
        from grafana_client.api import GrafanaApi
    except ImportError as exc:
        raise ImportError(f"the Grafana calls need the grafana-client package: {GRAFANA_EXTRA}") from exc
    return GrafanaApi.from_url(
        url=config.grafana_url, credential=config.grafana_api_key, timeout=config.grafana_timeout
    )


class MonitoringService:
    """Errors, metrics and rate limits as OTel signals; Grafana dashboards and alert rules."""

    def __init__(self, config: MonitoringConfig | Mapping[str, Any] | None = None) -> None:
        self.config = _config_of(config)
        options: dict[str, Any] = {"service_name": self.config.service_name}
        if self.config.environment is not None:
            options["environment"] = self.config.environment
        self.telemetry = pipeline(**options)
        # Made now, so a missing extra fails here (configuration) rather than at the first call.
        self._grafana = _grafana(self.config) if self.config.grafana_url is not None else None

    @tolerant("monitoring_service.log_error")
    def log_error(
        self,
        error_message: str,
        error_type: str = "error",
        component: str = "unknown",
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an error: an ERROR log record and ``system_errors_total{error_type,component}``."""
        site = "monitoring_service.log_error"
        if not isinstance(error_message, str):
            bad_input(site, "error_message must be a string")
        kind = error_type if isinstance(error_type, str) and error_type else "error"
        where = component if isinstance(component, str) and component else "unknown"
        attrs: dict[str, Any] = {semconv.ERROR_TYPE: kind, "component": where}
        if context is not None:
            if isinstance(context, Mapping):
                attrs.update(attributes(context, "context."))
            else:
                bad_input(site, "context must be a dict")
        emit_log(SCOPE, "error", error_message, attrs, event_name="system_error")
        self._record("system_errors_total", 1, {"error_type": kind, "component": where}, site)

    @tolerant("monitoring_service.record_metric")
    def record_metric(self, metric_name: str, value: float, labels: Mapping[str, Any] | None = None) -> None:
        """Record ``value`` on the metric ``metric_name`` with ``labels``."""
        site = "monitoring_service.record_metric"
        name = valid_name(site, metric_name)
        if name is not None:
            self._record(name, value, labels, site)

    @tolerant("monitoring_service.record_rate_limit")
    def record_rate_limit(
        self,
        platform: str,
        limit_type: str = "requests",
        remaining: int | None = None,
        reset_time: dt.datetime | float | None = None,
    ) -> None:
        """Count a rate-limit hit on ``platform``, keep the remaining quota, log when it resets."""
        site = "monitoring_service.record_rate_limit"
        where = {"platform": str(platform), "limit_type": str(limit_type)}
        self._record("rate_limit_hits_total", 1, where, site)
        attrs: dict[str, Any] = dict(where)
        if remaining is not None:
            left = number(site, remaining)
            if left is not None:
                instrument("gauge", RATE_LIMIT_REMAINING, "", "Requests left before the limit").set(
                    left, where
                )
                attrs["remaining"] = left
        reset = _iso(site, reset_time)
        if reset is not None:
            attrs["reset_time"] = reset
        emit_log(
            SCOPE, "warning", f"rate limit hit on {platform} ({limit_type})", attrs, event_name="rate_limit"
        )

    def _record(self, name: str, value: object, given: object, site: str) -> None:
        amount = number(site, value)
        if amount is None:
            return
        attrs = clean_labels(site, given)
        spec = METRICS.get(name)
        if spec is None:
            spec = MetricSpec("counter" if name.endswith("_total") else "gauge", "", "", ())
        else:
            unknown = set(attrs) - set(spec.labels)
            if unknown:
                bad_input(site, f"labels not declared for {name}")
                attrs = {k: v for k, v in attrs.items() if k in spec.labels}
        made = instrument(spec.kind, name, spec.unit, spec.description, spec.buckets)
        if spec.kind == "counter":
            if amount < 0:
                bad_input(site, "a counter only goes up")
                return
            made.add(amount, attrs)
        elif spec.kind == "histogram":
            made.record(amount, attrs)
        else:
            made.set(amount, attrs)

    # --- Grafana ---------------------------------------------------------------------------

    def _api(self, site: str) -> Any:
        if self._grafana is None:
            bad_input(site, "no grafana_url in the MonitoringService config")
        return self._grafana

    def _call(self, site: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - a refused or unreachable Grafana is a result
            bad_input(site, f"Grafana answered with {type(exc).__name__}")
            return None

    @tolerant("monitoring_service.create_grafana_dashboard")
    def create_grafana_dashboard(
        self, dashboard: Mapping[str, Any], folder_uid: str | None = None, overwrite: bool = False
    ) -> dict[str, Any] | None:
        """Create a dashboard from its JSON model; Grafana's answer (uid, url, version) or None."""
        site = "monitoring_service.create_grafana_dashboard"
        api = self._api(site)
        if api is None or not isinstance(dashboard, Mapping):
            return None
        body: dict[str, Any] = {"dashboard": dict(dashboard), "overwrite": bool(overwrite)}
        if folder_uid is not None:
            body["folderUid"] = folder_uid
        return self._call(site, api.dashboard.update_dashboard, body)  # type: ignore[no-any-return]

    @tolerant("monitoring_service.update_grafana_dashboard")
    def update_grafana_dashboard(
        self, dashboard_uid: str, dashboard: Mapping[str, Any], folder_uid: str | None = None
    ) -> dict[str, Any] | None:
        """Replace the dashboard ``dashboard_uid`` with ``dashboard``; Grafana's answer or None."""
        site = "monitoring_service.update_grafana_dashboard"
        api = self._api(site)
        if api is None or not isinstance(dashboard, Mapping):
            return None
        model = {**dashboard, "uid": dashboard_uid}
        model.pop("id", None)
        body: dict[str, Any] = {"dashboard": model, "overwrite": True}
        if folder_uid is not None:
            body["folderUid"] = folder_uid
        return self._call(site, api.dashboard.update_dashboard, body)  # type: ignore[no-any-return]

    @tolerant("monitoring_service.get_grafana_dashboard")
    def get_grafana_dashboard(self, dashboard_uid: str) -> dict[str, Any] | None:
        """The dashboard ``dashboard_uid`` (``{"dashboard": ..., "meta": ...}``) or None."""
        site = "monitoring_service.get_grafana_dashboard"
        api = self._api(site)
        if api is None:
            return None
        return self._call(site, api.dashboard.get_dashboard, str(dashboard_uid))  # type: ignore[no-any-return]

    @tolerant("monitoring_service.create_grafana_alert")
    def create_grafana_alert(self, alert_rule: Mapping[str, Any]) -> dict[str, Any] | None:
        """Create a Grafana-managed alert rule (provisioning API body); the created rule or None."""
        site = "monitoring_service.create_grafana_alert"
        api = self._api(site)
        if api is None or not isinstance(alert_rule, Mapping):
            return None
        return self._call(site, api.alertingprovisioning.create_alertrule, dict(alert_rule))  # type: ignore[no-any-return]

    @tolerant("monitoring_service.get_grafana_alerts")
    def get_grafana_alerts(self) -> list[dict[str, Any]] | None:
        """Every Grafana-managed alert rule, or None."""
        site = "monitoring_service.get_grafana_alerts"
        api = self._api(site)
        if api is None:
            return None
        return self._call(site, api.alertingprovisioning.get_alertrules_all)  # type: ignore[no-any-return]


def _iso(site: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    seconds = number(site, value)
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).isoformat()
