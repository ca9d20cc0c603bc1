"""Manual alerts: trigger, update, acknowledge and resolve by dedup key, to notifiers and Alertmanager."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from otel_agents.alerts import CallableNotifier, Dispatcher, ManualAlerts, WebhookNotifier
from otel_agents.api import _semconv as semconv
from tests.cli.cli_helpers import run_cli
from tests.support.alertmanager import alertmanager_binary, get_json, running_alertmanager
from tests.support.webhook_receiver import WebhookReceiver


def test_trigger_dedups_updates_acknowledges_and_resolves(
    tmp_path: Path, receiver: WebhookReceiver, pipeline: Any
) -> None:
    """A dedup key is one alert: a second trigger does not notify again; resolve sends the end."""
    dispatcher = Dispatcher()
    alerts = ManualAlerts(home=tmp_path, notifiers=[WebhookNotifier(receiver.url)], dispatcher=dispatcher)
    key = alerts.trigger(
        "QuotaLow",
        dedup_key="quota-openai",
        severity="critical",
        summary="3% of the quota left",
        labels={"platform": "openai"},
    )
    assert key == "quota-openai"
    assert alerts.trigger("QuotaLow", dedup_key="quota-openai", severity="critical") == key
    assert dispatcher.flush(5) and len(receiver.bodies) == 1
    [first] = receiver.bodies[0]["alerts"]
    assert first["labels"] == {
        "alertname": "QuotaLow",
        "platform": "openai",
        "dedup_key": "quota-openai",
        "severity": "critical",
    }
    assert first["annotations"] == {"summary": "3% of the quota left"}
    assert alerts.update(key, summary="1% of the quota left")
    assert dispatcher.flush(5)
    assert receiver.bodies[1]["alerts"][0]["annotations"]["summary"] == "1% of the quota left"
    assert receiver.bodies[1]["alerts"][0]["fingerprint"] == first["fingerprint"]
    assert alerts.acknowledge(key, by="oncall@example.com")
    assert [a.state for a in alerts.active()] == ["acknowledged"]
    assert alerts.resolve(key)
    assert not alerts.resolve(key) and not alerts.update(key, summary="x") and alerts.active() == []
    assert dispatcher.flush(5)
    assert [b["status"] for b in receiver.bodies] == ["firing", "firing", "resolved"]
    # The state is shared with the CLI, and every change was an OTel log record.
    listed = json.loads(run_cli("alerts", "list", "--history", "--json", home=tmp_path).stdout)
    assert [h["state"] for h in listed["history"]] == ["resolved", "acknowledged", "firing"]
    states = [
        r.log_record.attributes[semconv.ALERT_STATE]
        for r in pipeline.logs()
        if r.log_record.event_name == semconv.ALERT_EVENT
    ]
    assert states == ["firing", "acknowledged", "resolved"]


def test_bad_arguments_fail_loudly(tmp_path: Path) -> None:
    """A bad severity or name is a ValueError at the call, not a silent no-op."""
    alerts = ManualAlerts(home=tmp_path, notifiers=[CallableNotifier(lambda p: None)])
    with pytest.raises(ValueError, match="severity"):
        alerts.trigger("X", severity="urgent")
    with pytest.raises(ValueError, match="name"):
        alerts.trigger("")
    with pytest.raises(ValueError, match="alertmanager_url"):
        ManualAlerts(home=tmp_path, alertmanager_url="127.0.0.1:9093")


def test_manual_alerts_reach_a_real_alertmanager(tmp_path: Path) -> None:
    """Alertmanager's v2 API receives the alert on trigger and ends it on resolve."""
    binary = alertmanager_binary()
    config = tmp_path / "am.yml"
    config.write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    with running_alertmanager(binary, config, tmp_path) as url:
        dispatcher = Dispatcher()
        alerts = ManualAlerts(home=tmp_path, alertmanager_url=url, dispatcher=dispatcher)
        alerts.trigger("DiskFull", dedup_key="disk-1", summary="disk 97% full", labels={"host": "db1"})
        assert dispatcher.flush(10) and dispatcher.failed == 0
        active = get_json(f"{url}/api/v2/alerts")
        [alert] = [a for a in active if a["labels"]["alertname"] == "DiskFull"]
        assert alert["labels"]["dedup_key"] == "disk-1" and alert["labels"]["host"] == "db1"
        assert alert["annotations"]["summary"] == "disk 97% full" and alert["status"]["state"] == "active"
        alerts.resolve("disk-1")
        assert dispatcher.flush(10) and dispatcher.failed == 0
        deadline = time.monotonic() + 10
        while any(
            a["labels"]["alertname"] == "DiskFull" for a in get_json(f"{url}/api/v2/alerts?active=true")
        ):
            assert time.monotonic() < deadline, "alertmanager kept the resolved alert active"
            time.sleep(0.2)


def test_a_broken_state_location_never_raises_into_the_app(tmp_path: Path, lenient: None) -> None:
    """With the store home unusable (a file), trigger/resolve/active return quietly and count the error."""
    from otel_agents.api import _counters as counters

    counters.reset()
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("x")
    alerts = ManualAlerts(home=blocked / "home", notifiers=[CallableNotifier(lambda p: None)])
    assert alerts.trigger("X", dedup_key="k") == "k"
    assert alerts.resolve("k") is False and alerts.active() == []
    assert counters.errors()["alerts.manual.trigger"] == 1


def test_notices_still_retrying_at_exit_are_counted_and_exit_is_bounded(tmp_path: Path) -> None:
    """An app exiting while a notice to an unreachable webhook is being retried waits briefly, then counts it."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"  # closed again: connections are refused
    home = tmp_path / "store"
    script = (
        "import otel_agents as oa\n"
        "from otel_agents.alerts import ManualAlerts, WebhookNotifier\n"
        f"oa.configure(service_name='app', exporter='store', home={str(home)!r})\n"
        f"alerts = ManualAlerts(home={str(home)!r}, notifiers=[WebhookNotifier({dead!r}, retries=20, timeout=1)])\n"
        "alerts.trigger('DiskFull', severity='critical')\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert took < 20, took  # 20 retries with backoff would take minutes
    doctor = run_cli("doctor", "--json", home=home)
    counters = {c["reason"]: c["count"] for c in json.loads(doctor.stdout)["store"]["counters"]}
    assert counters.get("alerts.notification_failed") == 1, counters


def test_text_with_a_lone_surrogate_is_stored_and_notified_with_a_replacement(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """A name, key, label, annotation or acknowledger holding a lone surrogate (text SQLite and
    JSON cannot encode) goes through every step, with "?" in its place, and no internal error."""
    from otel_agents.api import _counters as stats

    stats.reset()
    dispatcher = Dispatcher()
    alerts = ManualAlerts(home=tmp_path, notifiers=[WebhookNotifier(receiver.url)], dispatcher=dispatcher)
    odd = "quota\udc80"
    key = alerts.trigger(odd, dedup_key=odd, summary=odd, labels={odd: odd}, annotations={"note": odd})
    assert key == "quota?"
    assert alerts.update(odd, summary=f"{odd} again")
    assert alerts.acknowledge(odd, by=odd)
    assert alerts.resolve(odd)
    assert dispatcher.flush(5)
    assert [b["status"] for b in receiver.bodies] == ["firing", "firing", "resolved"]
    first = receiver.bodies[0]["alerts"][0]
    assert first["labels"]["alertname"] == "quota?" and first["labels"]["quota?"] == "quota?"
    assert stats.errors() == {}
