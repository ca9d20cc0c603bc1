"""Alerts in the real path: app -> collector -> Prometheus (exported rules) -> Alertmanager -> webhook."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.alertmanager import alertmanager_binary
from tests.support.webhook_receiver import WebhookReceiver

from .conftest import (
    HOST,
    ROOT,
    Collector,
    Deps,
    Supervisor,
    collector_env,
    free_port,
    http_get,
    http_json,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)
SERVICE = "agent-alerts"


def start_alertmanager(sup: Supervisor, workdir: Path, receiver: WebhookReceiver) -> str:
    """Debian's alertmanager on the shipped config, its receivers and intervals made test-sized."""
    text = (ROOT / "deploy/alertmanager/alertmanager.yml").read_text()
    base = receiver.url.rsplit("/", 1)[0]
    assert "http://127.0.0.1:9095" in text
    text = text.replace("http://127.0.0.1:9095", base)
    for slow in ("group_wait: 30s", "group_wait: 10s", "group_interval: 5m", "group_interval: 1m"):
        assert slow in text, slow
        text = text.replace(slow, slow.split(":")[0] + ": 1s")
    config = workdir / "alertmanager.yml"
    config.write_text(text)
    port = free_port()
    proc = sup.start(
        "alertmanager",
        [
            str(alertmanager_binary()),
            f"--config.file={config}",
            f"--storage.path={workdir / 'am-data'}",
            f"--web.listen-address={HOST}:{port}",
            "--cluster.listen-address=",
        ],
    )
    url = f"http://{HOST}:{port}"
    wait_until(lambda: http_get(f"{url}/-/ready", 1)[0] == 200, 60, what=f"alertmanager\n{proc.tail()}")
    return url


def export_test_rules(workdir: Path) -> str:
    """The shipped AgentErrorRateHigh rule with a 15 s window and no `for`, exported by the CLI."""
    shipped = yaml.safe_load((ROOT / "deploy/alerts/rules.yml").read_text())
    [rule] = [r for r in shipped["rules"] if r["name"] == "AgentErrorRateHigh"]
    rule.update({"window": "15s", "for": "0s"})
    source = workdir / "rules.yml"
    source.write_text(yaml.safe_dump({"notifiers": shipped["notifiers"], "rules": [rule]}))
    result = subprocess.run(
        [sys.executable, "-m", "otel_agents.cli", "alerts", "export", str(source), "--prometheus"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def start_prometheus(sup: Supervisor, deps: Deps, col: Collector, workdir: Path, am: str) -> str:
    conf_dir = workdir / "prometheus"
    shutil.copytree(ROOT / "deploy/prometheus", conf_dir)
    (conf_dir / "agents.rules.yml").write_text(export_test_rules(workdir))
    text = (conf_dir / "prometheus.yml").read_text()
    for default in ("127.0.0.1:8889", "127.0.0.1:8888", "127.0.0.1:9093"):
        assert default in text, default
    text = (
        text.replace("127.0.0.1:8889", col.prometheus_target)
        .replace("127.0.0.1:8888", col.telemetry_target)
        .replace("127.0.0.1:9093", am.removeprefix("http://"))
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("evaluation_interval: 15s", "evaluation_interval: 1s")
    )
    (conf_dir / "prometheus.yml").write_text(text)
    port = free_port()
    proc = sup.start(
        "prometheus",
        [
            str(deps.prometheus),
            f"--config.file={conf_dir / 'prometheus.yml'}",
            f"--web.listen-address={HOST}:{port}",
            f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        ],
    )
    url = f"http://{HOST}:{port}"
    wait_until(lambda: http_get(f"{url}/-/ready", 1)[0] == 200, 60, what=f"prometheus\n{proc.tail()}")
    return url


def alerts_with(receiver: WebhookReceiver, status: str) -> list[dict[str, Any]]:
    return [
        (path, alert)
        for path, body in zip(receiver.paths, receiver.bodies, strict=True)
        for alert in body["alerts"]
        if body["status"] == status and alert["labels"]["alertname"] == "AgentErrorRateHigh"
    ]


def test_failing_agent_fires_then_resolves_through_alertmanager(
    deps: Deps, supervisor: Supervisor, tmp_path: Path
) -> None:
    """An agent whose tool fails reaches the webhook as a firing alert, and as resolved once it recovers."""
    with WebhookReceiver() as receiver:
        col = start_collector(supervisor, Collector(collector_env(deps, tmp_path)))
        am = start_alertmanager(supervisor, tmp_path, receiver)
        prometheus = start_prometheus(supervisor, deps, col, tmp_path, am)
        flag = tmp_path / "fail"
        flag.touch()
        supervisor.start(
            "app",
            [sys.executable, str(ROOT / "tests/e2e/alerting_app.py")],
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": col.otlp_http,
                "ALERTING_APP_FAIL_FLAG": str(flag),
                "PYTHONPATH": str(ROOT),
            },
        )
        firing = wait_until(
            lambda: alerts_with(receiver, "firing"), 90, what="a firing AgentErrorRateHigh at the webhook"
        )
        path, alert = firing[0]
        assert path == "/alerts/team"  # severity warning -> the team receiver
        assert alert["labels"]["gen_ai_agent_name"] == "planner"
        assert alert["labels"]["service"] == SERVICE and alert["labels"]["severity"] == "warning"
        assert alert["annotations"]["summary"] == f"Agent planner in {SERVICE} fails 100% of runs"
        rules = http_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
        assert any(r["name"] == "AgentErrorRateHigh" for g in rules for r in g["rules"])

        flag.unlink()  # the tool recovers
        resolved = wait_until(
            lambda: alerts_with(receiver, "resolved"), 90, what="the resolved AgentErrorRateHigh"
        )
        assert resolved[0][1]["fingerprint"] == alert["fingerprint"]
        assert resolved[0][1]["endsAt"] > resolved[0][1]["startsAt"]


def test_shipped_alertmanager_config_is_valid() -> None:
    """amtool (from the same Debian package) accepts deploy/alertmanager/alertmanager.yml."""
    amtool = alertmanager_binary().parent / "amtool"
    result = subprocess.run(
        [str(amtool), "check-config", str(ROOT / "deploy/alertmanager/alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 receivers" in result.stdout and "1 inhibit rules" in result.stdout


def test_verify_compares_a_canary_with_production_in_prometheus(
    deps: Deps, supervisor: Supervisor, tmp_path: Path
) -> None:
    """`verify --prometheus` finds the series, passes production against itself and fails a slow canary."""
    col = start_collector(supervisor, Collector(collector_env(deps, tmp_path)))
    prometheus = start_prometheus(supervisor, deps, col, tmp_path, "http://127.0.0.1:9")
    for version, sleep_ms in (("1.0", "20"), ("2.0", "200")):
        supervisor.start(
            f"app-{version}",
            [sys.executable, str(ROOT / "tests/e2e/alerting_app.py")],
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": col.otlp_http,
                "OTEL_AGENTS_SERVICE_VERSION": version,
                "ALERTING_APP_SLEEP_MS": sleep_ms,
                "PYTHONPATH": str(ROOT),
            },
        )

    def verify(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "otel_agents.cli",
                "verify",
                "--prometheus",
                prometheus,
                "--service",
                SERVICE,
                "--duration",
                "20s",
                "--json",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def has_runs() -> bool:
        result = verify("--version", "2.0", "--baseline-version", "1.0")
        return result.returncode in (0, 1) and "no runs" not in result.stdout

    wait_until(has_runs, 60, interval=2, what="both versions' runs in Prometheus")
    wait_until(
        lambda: verify("--version", "1.0", "--baseline-version", "1.0").returncode == 0,
        30,
        interval=2,
        what="production passing against itself",
    )
    same = json.loads(
        verify("--version", "1.0", "--baseline-version", "1.0", "--expect-metric", "otel_agents.calls").stdout
    )
    assert {c["name"]: c["status"] for c in same}["metric otel_agents.calls"] == "pass"
    canary = verify("--version", "2.0", "--baseline-version", "1.0")
    assert canary.returncode == 1, canary.stdout + canary.stderr
    got = {c["name"]: c["status"] for c in json.loads(canary.stdout)}
    assert got["p95 latency"] == "fail" and got["error rate"] == "pass"
