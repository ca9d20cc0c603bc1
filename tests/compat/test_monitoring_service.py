"""The Monitoring Service shim: errors, metrics and rate limits as OTel signals; Grafana requests via grafana-client."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.compat.monitoring_service import METRICS, MonitoringService
from tests.compat.conftest import Example, run_readme_in_process
from tests.compat.grafana_fake import GrafanaFake
from tests.support.otlp_receiver import Receiver


def _points(pipeline: Any, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    return {tuple(sorted(p.attributes.items())): p for p in pipeline.metric_points(name)}


def test_readme_records_every_metric_with_its_labels(
    pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grafana: GrafanaFake
) -> None:
    """Each of the eight metrics the README uses is recorded with exactly its declared labels."""
    monkeypatch.setenv("GRAFANA_URL", grafana.url)
    run_readme_in_process("monitoring_service", tmp_path, monkeypatch)
    errors = _points(pipeline, "system_errors_total")
    assert errors[(("component", "linkedin_client"), ("error_type", "UpstreamError"))].value == 1
    duration = _points(pipeline, "request_duration_seconds")
    (point,) = duration.values()
    assert point.count == 1 and point.sum == pytest.approx(0.182)
    assert point.explicit_bounds[:3] == (0.005, 0.01, 0.025)
    assert set(dict(next(iter(duration))).keys()) == set(METRICS["request_duration_seconds"].labels)
    assert _points(pipeline, "memory_usage_bytes")[(("component", "worker"),)].value == 512 * 1024 * 1024
    assert _points(pipeline, "cpu_usage_percent")[(("component", "worker"),)].value == 37.5
    assert next(iter(_points(pipeline, "prospect_score").values())).sum == pytest.approx(0.87)
    assert (
        _points(pipeline, "engagement_total")[(("engagement_type", "reply"), ("platform", "linkedin"))].value
        == 3
    )
    hits = _points(pipeline, "rate_limit_hits_total")
    assert hits[(("limit_type", "daily_invites"), ("platform", "linkedin"))].value == 1
    assert next(iter(_points(pipeline, "processing_time_seconds").values())).sum > 1.5


def test_readme_errors_and_rate_limits_are_log_records(
    pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grafana: GrafanaFake
) -> None:
    """log_error is an ERROR record with error.type, component and context; a rate limit a WARN with its reset time."""
    monkeypatch.setenv("GRAFANA_URL", grafana.url)
    run_readme_in_process("monitoring_service", tmp_path, monkeypatch)
    records = {r.log_record.event_name: r.log_record for r in pipeline.logs()}
    error = records["system_error"]
    assert error.body == "LinkedIn API returned 502"
    assert error.severity_number is SeverityNumber.ERROR
    assert error.attributes[semconv.ERROR_TYPE] == "UpstreamError"
    assert error.attributes["component"] == "linkedin_client"
    assert error.attributes["context.endpoint"] == "/v2/people" and error.attributes["context.attempt"] == 3
    limit = records["rate_limit"]
    assert limit.severity_number is SeverityNumber.WARN
    assert limit.attributes["remaining"] == 0 and "T" in limit.attributes["reset_time"]


def test_grafana_requests_are_what_grafanas_http_api_expects(
    pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grafana: GrafanaFake
) -> None:
    """The README's five Grafana calls send these methods, paths, JSON bodies and bearer token, in order."""
    monkeypatch.setenv("GRAFANA_URL", grafana.url)
    monkeypatch.setenv("GRAFANA_API_KEY", "glsa_test_token")
    run_readme_in_process("monitoring_service", tmp_path, monkeypatch)
    sent = [(r.method, r.path) for r in grafana.requests]
    assert sent == [
        ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
        ("GET", "/api/dashboards/uid/d0001"),
        ("POST", "/api/v1/provisioning/alert-rules"),
        ("GET", "/api/v1/provisioning/alert-rules"),
    ]
    assert {r.authorization for r in grafana.requests} == {"Bearer glsa_test_token"}
    create, update, _, alert, _ = (r.body for r in grafana.requests)
    assert create == {
        "dashboard": {
            "title": "Prospecting",
            "panels": [
                {
                    "type": "timeseries",
                    "title": "Errors",
                    "targets": [{"expr": "sum(rate(system_errors_total[5m]))"}],
                }
            ],
        },
        "overwrite": False,
    }
    assert update["overwrite"] is True and update["dashboard"]["uid"] == "d0001"
    assert update["dashboard"]["title"] == "Prospecting (v2)"
    assert alert["title"] == "High error rate" and alert["condition"] == "A" and alert["for"] == "5m"
    assert grafana.dashboards["d0001"]["version"] == 2


def test_a_failing_grafana_returns_none_and_is_counted(pipeline: Any) -> None:
    """A Grafana that refuses connections makes each call return None, logged once and counted."""
    svc = MonitoringService({"grafana_url": "http://127.0.0.1:9", "grafana_timeout": 1})
    assert svc.get_grafana_dashboard("x") is None
    assert svc.get_grafana_alerts() is None
    assert svc.create_grafana_dashboard("not a dict") is None  # type: ignore[arg-type]
    no_grafana = MonitoringService()
    assert no_grafana.create_grafana_alert({"title": "x"}) is None
    errors = stats.errors()
    assert errors["compat.monitoring_service.get_grafana_dashboard"] == 1
    assert errors["compat.monitoring_service.get_grafana_alerts"] == 1
    assert errors["compat.monitoring_service.create_grafana_alert"] == 1


def test_readme_metrics_and_logs_reach_otlp(
    tmp_path: Path, example: Example, otlp_receiver: Receiver, grafana: GrafanaFake
) -> None:
    """Run as a script with an OTLP endpoint, the README's metrics and error records arrive over OTLP."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint, "GRAFANA_URL": grafana.url}
    result = example("monitoring_service", tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "Prospecting (v2)" in result.stdout and "1 alert rules" in result.stdout
    assert set(METRICS) <= otlp_receiver.metric_names()
    bodies = {r.body.string_value for r in otlp_receiver.log_records()}
    assert "LinkedIn API returned 502" in bodies


def test_bad_input_is_counted_never_raised(pipeline: Any) -> None:
    """Undeclared labels, non-numbers, bad names, negative counts and missing arguments are counted, not raised."""
    svc = MonitoringService()
    svc.record_metric("request_duration_seconds", 0.1, {"method": "GET", "user_id": "u-1"})
    svc.record_metric("cpu_usage_percent", "high", {"component": "x"})  # type: ignore[arg-type]
    svc.record_metric("bad name", 1)
    svc.record_metric("engagement_total", -2, {"platform": "x"})
    svc.record_metric()  # type: ignore[call-arg]
    svc.log_error(ValueError("not a str"), context="not a dict")  # type: ignore[arg-type]
    svc.log_error()  # type: ignore[call-arg]
    svc.record_rate_limit("x", "y", remaining="lots", reset_time="soon")  # type: ignore[arg-type]
    errors = stats.errors()
    assert errors["compat.monitoring_service.record_metric"] == 5
    assert errors["compat.monitoring_service.log_error"] == 3
    assert errors["compat.monitoring_service.record_rate_limit"] == 2
    (point,) = pipeline.metric_points("request_duration_seconds")
    assert dict(point.attributes) == {"method": "GET"}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (5, TypeError),
        ({"servce_name": "typo"}, TypeError),
        ({"grafana_url": "localhost:3000"}, ValueError),
        ({"grafana_timeout": 0}, ValueError),
        ({"service_name": ""}, TypeError),
    ],
)
def test_a_wrong_config_fails_loudly(config: object, error: type[Exception]) -> None:
    """MonitoringService(config) with a wrong key, type or value raises at once, as configure() does."""
    with pytest.raises(error, match=r"MonitoringService\(config\)"):
        MonitoringService(config)  # type: ignore[arg-type]


def test_grafana_without_the_extra_names_it(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With grafana-client missing, a config naming Grafana fails with the extra to install."""
    monkeypatch.setitem(sys.modules, "grafana_client", None)
    monkeypatch.setitem(sys.modules, "grafana_client.api", None)
    with pytest.raises(ImportError, match=r"otel-agents\[compat-grafana\]"):
        MonitoringService({"grafana_url": "http://127.0.0.1:3000"})
