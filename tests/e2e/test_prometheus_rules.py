"""The shipped Prometheus config and alert rules: promtool checks them and runs their unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import ROOT

PROM_DIR = ROOT / "deploy" / "prometheus"


def run_promtool(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args],
        cwd=PROM_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_alert_rules_pass_their_unit_tests(promtool: Path) -> None:
    """Every alert in alerts.yml fires and stays silent exactly as alerts_test.yml expects."""
    proc = run_promtool(promtool, "test", "rules", "alerts_test.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_prometheus_config_is_valid(promtool: Path) -> None:
    """promtool accepts prometheus.yml together with the rule file it loads."""
    proc = run_promtool(promtool, "check", "config", "prometheus.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
