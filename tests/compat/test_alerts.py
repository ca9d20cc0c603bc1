"""The compat alert APIs (shared utilities and marketing AlertManager) through the alert seam."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.compat import _alerting
from otel_agents.compat import monitoring_utils as mu
from otel_agents.compat.marketing_observability import AlertManager, AlertRule
from tests.compat.conftest import Example

BACKENDS = ["log_records", "engine"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each alert test runs on the alert engine (always in the package) and on the log-record
    fallback the seam keeps for an engine that fails to import."""
    if request.param == "engine":
        engine = _alerting._engine_module()
        assert engine is not None, "otel_agents.alerts no longer imports"
        monkeypatch.setattr(_alerting, "ENGINE", engine)
    else:
        monkeypatch.setattr(_alerting, "ENGINE", None)
    mu._backend = None
    mu._alert_handlers.clear()
    yield request.param
    mu._backend = None
    mu._alert_handlers.clear()


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def _state_changes(pipeline: Any, name: str) -> list[tuple[str, str]]:
    return [
        (r.log_record.attributes[semconv.ALERT_PREVIOUS_STATE], r.log_record.attributes[semconv.ALERT_STATE])
        for r in pipeline.logs()
        if r.log_record.event_name == semconv.ALERT_EVENT
        and r.log_record.attributes[semconv.ALERT_NAME] == name
    ]


def test_manual_alert_lifecycle_notifies_and_logs(pipeline: Any, backend: str) -> None:
    """trigger, update, acknowledge and resolve by id notify the handlers and log each state change."""
    got: list[dict[str, Any]] = []
    mu.add_alert_handler(got.append)
    alert_id = mu.trigger_alert(
        "db_down", "primary unreachable", mu.AlertSeverity.ERROR, {"service": "api"}, 3
    )
    assert alert_id == "db_down"
    assert mu.trigger_alert("db_down", "still down") == "db_down"  # deduplicated: updated, not re-raised
    assert mu.update_alert(alert_id, message="replica promoted", state=mu.AlertState.ACKNOWLEDGED)
    assert mu.resolve_alert(alert_id)
    assert not mu.resolve_alert(alert_id)
    _wait(lambda: len(got) >= 3)
    first, last = got[0], got[-1]
    assert first["name"] == "db_down" and first["state"] == "firing" and first["severity"] == "critical"
    assert first["message"] == "primary unreachable" and first["value"] == 3.0
    assert first["labels"] == {"service": "api", "compat_severity": "error"}
    assert last["state"] == "resolved"
    assert _state_changes(pipeline, "db_down") == [
        ("inactive", "firing"),
        ("firing", "acknowledged"),
        ("acknowledged", "resolved"),
    ]


def test_threshold_rules_fire_resolve_and_respect_cooldown(pipeline: Any, backend: str) -> None:
    """threshold_above/below/outside_range fire once per breach, resolve when back, and wait out the cooldown."""
    above = mu.AlertRule("lat", metric_name="p95", threshold_above=1.0, cooldown_period=0.3)
    assert above.check(0.5) is None
    assert above.check(2.0) == "lat"
    assert above.check(3.0) is None  # already active
    assert above.check(0.5) is None  # resolves
    assert above.check(2.0) is None  # within the cooldown
    time.sleep(0.35)
    assert above.check(2.0) == "lat"
    below = mu.AlertRule("low", threshold_below=5)
    outside = mu.AlertRule("range", outside_range=(0, 10))
    assert below.check(3) == "low" and outside.check(11) == "range" and outside.check(-1) is None
    assert _state_changes(pipeline, "lat") == [
        ("inactive", "firing"),
        ("firing", "resolved"),
        ("resolved", "firing"),
    ]


def test_marketing_rules_need_their_duration_and_call_async_handlers(pipeline: Any, backend: str) -> None:
    """A rule with a duration fires only after holding that long; async handlers are awaited."""
    manager = AlertManager()
    got: list[dict[str, Any]] = []

    async def handler(alert: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        got.append(alert)

    manager.add_notification_handler(handler)
    manager.add_rule(
        AlertRule("errors", "error_rate >= threshold", threshold=0.1, duration=0.2, severity="error")
    )
    manager.add_rule(AlertRule("custom", lambda m: m.get("queue", 0) > 100, severity="info"))
    assert manager.check_rules({"error_rate": 0.2, "queue": 5}) == []
    time.sleep(0.25)
    fired = manager.check_rules({"error_rate": 0.2, "queue": 500})
    assert sorted(a["name"] for a in fired) == ["custom", "errors"]
    errors = next(a for a in fired if a["name"] == "errors")
    assert errors["message"] == "errors: error_rate is 0.2 (threshold 0.1)"
    assert sorted(manager.active_alerts()) == ["custom", "errors"]
    manager.check_rules({"error_rate": 0.0, "queue": 1})
    assert manager.active_alerts() == []
    assert manager.flush()
    _wait(lambda: len(got) == 4)
    assert sorted((a["name"], a["state"]) for a in got) == [
        ("custom", "firing"),
        ("custom", "resolved"),
        ("errors", "firing"),
        ("errors", "resolved"),
    ]


def test_a_failing_handler_is_contained_and_counted(pipeline: Any, backend: str, lenient: None) -> None:
    """A handler that raises never reaches the caller; the failure is counted and the next handler still runs."""
    got: list[str] = []

    def broken(alert: dict[str, Any]) -> None:
        raise RuntimeError("slack is down")

    mu.add_alert_handler(broken)
    mu.add_alert_handler(lambda alert: got.append(alert["name"]))
    mu.trigger_alert("x", "y")
    _wait(lambda: got == ["x"])
    if backend == "log_records":
        assert stats.errors()["compat.alerts.handler"] == 1


def test_bad_input_is_counted_never_raised(pipeline: Any, backend: str) -> None:
    """Bad names, severities, ids, values and metrics are logged once and counted; nothing raises."""
    assert mu.trigger_alert(None) is None  # type: ignore[arg-type]
    assert mu.trigger_alert("x", severity="loud") == "x"
    assert mu.trigger_alert() is None  # type: ignore[call-arg]
    assert mu.update_alert("nope", message="m") is False
    assert mu.update_alert("x", state="sleeping") is True
    assert mu.resolve_alert("nope") is False
    assert mu.AlertRule("r", threshold_above=1).check("high") is None  # type: ignore[arg-type]
    manager = AlertManager()
    manager.add_rule(AlertRule("boom", lambda m: 1 / 0))
    manager.add_rule(AlertRule("nan", "rate > threshold"))
    assert manager.check_rules("not a dict") == []  # type: ignore[arg-type]
    assert manager.check_rules({"rate": "high"}) == []
    assert manager.check_rules({}) == []
    errors = stats.errors()
    expected = {
        "monitoring_utils.trigger_alert": 3,
        "monitoring_utils.update_alert": 2,
        "monitoring_utils.resolve_alert": 1,
        "monitoring_utils.AlertRule.check": 1,
        "marketing_observability.check_rules": 4,
    }
    for site, count in expected.items():
        assert errors[f"compat.{site}"] == count, site


@pytest.mark.parametrize(
    "make",
    [
        lambda: mu.AlertRule("r"),
        lambda: mu.AlertRule("r", threshold_above=float("nan")),
        lambda: mu.AlertRule("r", outside_range=(5, 1)),
        lambda: mu.AlertRule("r", threshold_below=1, cooldown_period=-1),
        lambda: mu.AlertRule("r", threshold_below=1, severity="loud"),
        lambda: AlertRule("r", "error_rate is high"),
        lambda: AlertRule("r", "x > threshold", threshold="5"),
        lambda: AlertRule("r", "x > threshold", severity="urgent"),
        lambda: AlertRule("", "x > threshold"),
    ],
)
def test_a_wrong_rule_fails_loudly(make: Any) -> None:
    """A rule is configuration: a missing condition, a bad threshold, range, cooldown or severity raises."""
    with pytest.raises(ValueError, match="AlertRule"):
        make()


def test_manager_configuration_calls_fail_loudly(pipeline: Any) -> None:
    """add_rule with a non-rule and add_notification_handler with a non-callable raise TypeError."""
    manager = AlertManager()
    with pytest.raises(TypeError, match="AlertRule"):
        manager.add_rule({"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        manager.add_notification_handler("slack")  # type: ignore[arg-type]


def test_readme_alert_examples_log_their_state_changes(tmp_path: Path, example: Example) -> None:
    """Both READMEs' alert examples print what fired and store every state change as an OTel log record."""
    home = tmp_path / "store"
    result = example("monitoring_utils_alerts", tmp_path, {"OTEL_AGENTS_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert "p95=2.1: alert p95_latency_high" in result.stdout and "p95=3.0: ok" in result.stdout
    assert "queue: queue_depth_out_of_range" in result.stdout and "signups: signups_low" in result.stdout
    conn = sqlite3.connect(home / "store.sqlite")
    rows = conn.execute(
        "SELECT severity_text, attributes FROM logs WHERE event_name = ?", (semconv.ALERT_EVENT,)
    )
    changes = [(sev, json.loads(a)) for sev, a in rows]
    conn.close()
    payment = [a[semconv.ALERT_STATE] for _, a in changes if a[semconv.ALERT_NAME] == "payment_gateway_down"]
    assert payment == ["firing", "acknowledged", "resolved"]
    queue = next(a for _, a in changes if a[semconv.ALERT_NAME] == "queue_depth_out_of_range")
    assert queue[semconv.ALERT_SEVERITY] == "critical" and queue[semconv.ALERT_VALUE] == 1500
    assert queue[semconv.ALERT_LABEL_PREFIX + "compat_severity"] == "error"

    marketing = example("marketing_observability", tmp_path, {"OTEL_AGENTS_HOME": str(tmp_path / "m")})
    assert marketing.returncode == 0, marketing.stderr
    out = marketing.stdout
    assert "fired: ['high_error_rate']" in out and "fired again: []" in out and "active: []" in out
    assert "ALERT firing [critical] Error rate 8.0% is above 5%" in out
    assert "ALERT resolved [critical] Error rate 8.0% is above 5%" in out
