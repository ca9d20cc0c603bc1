"""`alerts export --prometheus`: the same rules as Prometheus alerting rules that promtool accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.cli.cli_helpers import run_cli
from tests.support.alert_workload import VALID

ROOT = Path(__file__).resolve().parents[2]


def test_every_expression_kind_exports_to_rules_promtool_accepts(tmp_path: Path, promtool: Path) -> None:
    """Each expression type and threshold kind becomes a valid alerting rule with its labels and `for`."""
    source = tmp_path / "rules.yml"
    source.write_text(VALID)
    out = tmp_path / "prom.yml"
    result = run_cli("alerts", "export", str(source), "--prometheus", "-o", str(out), home=tmp_path)
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [str(promtool), "check", "rules", str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 6 rules found" in check.stdout
    [group] = yaml.safe_load(out.read_text())["groups"]
    rules = {r["alert"]: r for r in group["rules"]}
    tool = rules["ToolErrors"]
    assert tool["for"] == "1m" and tool["labels"] == {"team": "agents", "severity": "critical"}
    assert 'gen_ai_tool_name="search"' in tool["expr"] and tool["expr"].endswith("> 0.1")
    assert tool["annotations"]["summary"] == "{{ $labels.gen_ai_tool_name }} fails"
    assert "histogram_quantile(0.99" in rules["SlowModel"]["expr"] and " or " in rules["SlowModel"]["expr"]
    assert "otel_agents_cost_USD_total" in rules["Burn"]["expr"] and "* 3600" in rules["Burn"]["expr"]
    assert rules["Quiet"]["expr"].endswith("< 1")
    assert "otel_agents_dropped_total" in rules["Drops"]["expr"]
    assert 'max_over_time(process_memory_usage{k="v"}[5m])' in rules["Memory"]["expr"]


def test_the_shipped_prometheus_rules_are_the_export_of_the_shipped_rule_file(tmp_path: Path) -> None:
    """deploy/prometheus/agents.rules.yml is exactly what exporting deploy/alerts/rules.yml writes."""
    result = run_cli("alerts", "export", str(ROOT / "deploy/alerts/rules.yml"), "--prometheus", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "deploy/prometheus/agents.rules.yml").read_text(), (
        "stale: run `otel-agents alerts export deploy/alerts/rules.yml --prometheus"
        " -o deploy/prometheus/agents.rules.yml`"
    )
