"""The shipped Prometheus config and alert rules: promtool checks them and runs their unit tests."""

from __future__ import annotations

import subprocess

from .conftest import ROOT, Deps

PROM_DIR = ROOT / "deploy" / "prometheus"


def promtool(deps: Deps, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(deps.promtool), *args],
        cwd=PROM_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_alert_rules_pass_their_unit_tests(deps: Deps) -> None:
    """Every alert in alerts.yml fires and stays silent exactly as alerts_test.yml expects."""
    proc = promtool(deps, "test", "rules", "alerts_test.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_prometheus_config_is_valid(deps: Deps) -> None:
    """promtool accepts prometheus.yml together with the rule file it loads."""
    proc = promtool(deps, "check", "config", "prometheus.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
