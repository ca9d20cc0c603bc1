"""The pre-configured rules (deploy/alerts/rules.yml) on the local engine, over stores filled through the API."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics

import otel_agents as oa
from otel_agents.alerts import Dispatcher, Engine, Report, load_rules, parse_rules
from otel_agents.alerts._rules import RuleSet, Threshold
from tests.cli.cli_spans import tool, write

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_rules(ROOT / "deploy/alerts/rules.yml")


def shipped(name: str, **changes: Any) -> RuleSet:
    """One shipped rule without its `for` (time cannot pass in a test), optionally adjusted."""
    [rule] = [r for r in SHIPPED.rules if r.name == name]
    rule = dataclasses.replace(rule, for_s=0.0, **changes)
    return RuleSet(SHIPPED.path, (rule,), SHIPPED.notifiers)


def run(home: Path, rules: RuleSet) -> Report:
    return Engine(rules, home, notifiers={}, dispatcher=Dispatcher()).evaluate()


def summaries(report: Report) -> list[str]:
    return [a.annotations["summary"] for a in report.firing]


def test_every_shipped_rule_is_tested_here() -> None:
    """Each rule of the shipped file has a local-engine test in this module."""
    source = Path(__file__).read_text()
    assert all(f'"{r.name}"' in source for r in SHIPPED.rules)


@pytest.mark.parametrize(("failures", "fires"), [(3, True), (0, False)])
def test_agent_and_tool_error_rates(store_home: Callable[..., Path], failures: int, fires: bool) -> None:
    """3 failed runs in 10 fire AgentErrorRateHigh (>10%) and ToolErrorRateHigh (>20%); none fire nothing."""
    home = store_home(runs=10, failures=failures)
    agent = run(home, shipped("AgentErrorRateHigh"))
    tool = run(home, shipped("ToolErrorRateHigh"))
    if fires:
        assert summaries(agent) == ["Agent planner in svc fails 30% of runs"]
        assert summaries(tool) == ["Tool search in svc fails 30% of calls"]
    else:
        assert agent.firing == [] and tool.firing == []


def test_agent_latency_p95(store_home: Callable[..., Path]) -> None:
    """AgentLatencyP95High reads the agents' p95 (a 30 s threshold scaled to 10 ms for the test)."""
    home = store_home(runs=10, failures=0, tool_sleep=0.02)
    assert run(home, shipped("AgentLatencyP95High")).firing == []  # far under 30 s
    report = run(home, shipped("AgentLatencyP95High", threshold=Threshold(above=0.01)))
    [alert] = report.firing
    assert alert.labels["gen_ai_agent_name"] == "planner" and 0.02 <= (alert.value or 0) < 1
    assert alert.annotations["summary"].startswith("Agent planner in svc: p95 latency 0.0")


def test_cost_burn_warning_and_critical(store_home: Callable[..., Path]) -> None:
    """$20 spent just now is over the $10 hourly budget and, projected from 10 minutes, over $50/h."""
    home = store_home(runs=10, failures=0, cost_usd=2.0)
    assert summaries(run(home, shipped("CostBurnHigh"))) == ["svc spent $20.00 on LLM calls in the last hour"]
    assert summaries(run(home, shipped("CostBurnCritical"))) == ["svc is burning $120/h on LLM calls"]


def test_cheap_runs_burn_nothing(store_home: Callable[..., Path]) -> None:
    """One cent in total stays under both cost thresholds."""
    cheap = store_home(runs=10, failures=0, cost_usd=0.001)
    assert run(cheap, shipped("CostBurnHigh")).firing == []
    assert run(cheap, shipped("CostBurnCritical")).firing == []


def overflow(home: Path, make_pipeline: Any) -> None:
    """200 tool spans of service "svc" through a 4-span queue: most are dropped, and counted."""
    captured = make_pipeline(
        exporter="store", home=home, service_name="svc", max_queue_size=4, schedule_delay=30
    )
    for i in range(200):
        with oa.tool(f"t{i % 3}"):
            pass
    assert captured.telemetry.force_flush(10)


def test_dropped_telemetry(tmp_path: Path, make_pipeline: Any) -> None:
    """Spans dropped by a full export queue fire TelemetryDroppedInApp with the drop reason, and leave
    CollectorUnreachable quiet (and not reported as missing)."""
    home = tmp_path / "store"
    overflow(home, make_pipeline)
    [alert, *_] = run(home, shipped("TelemetryDroppedInApp")).firing
    assert alert.labels["otel_agents_reason"] and (alert.value or 0) > 0
    assert alert.annotations["summary"].startswith("svc dropped ")
    report = run(home, shipped("CollectorUnreachable"))
    assert report.firing == [] and report.missing == []


def test_collector_unreachable(tmp_path: Path, make_pipeline: Any) -> None:
    """Spans and logs a dead collector refused fire CollectorUnreachable with the exporter's reason."""
    home = tmp_path / "store"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]  # nothing listens there once the probe is closed
    captured = make_pipeline(
        exporter="otlp,store",
        otlp_endpoint=f"http://127.0.0.1:{dead}",
        home=home,
        service_name="svc",
        export_timeout=1,
    )
    with oa.tool("lookup"):
        pass
    captured.telemetry.force_flush(10)
    firing = run(home, shipped("CollectorUnreachable")).firing
    assert "spans.OTLPSpanExporter.export_failed" in {a.labels["otel_agents_reason"] for a in firing}
    assert all(a.labels["service"] == "svc" and a.severity == "critical" for a in firing)


def test_a_dropped_rule_counts_only_its_service(tmp_path: Path, make_pipeline: Any) -> None:
    """`dropped` with `service:` counts that service's drops only: another service's stay out."""
    home = tmp_path / "store"
    write(home, [tool("quiet_tool", time.time_ns())], service="quiet")
    overflow(home, make_pipeline)
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": f"Drops_{svc}",
                    "expr": {"type": "dropped", "service": svc},
                    "threshold": {"above": 0},
                }
                for svc in ("svc", "quiet")
            ]
        }
    )
    report = Engine(rules, home, notifiers={}, dispatcher=Dispatcher()).evaluate()
    assert report.missing == []
    assert {a.name for a in report.firing} == {"Drops_svc"}
    assert {a.labels["service"] for a in report.firing} == {"svc"}


def test_no_drops_no_alert(store_home: Callable[..., Path]) -> None:
    """A store without drops keeps TelemetryDroppedInApp quiet (and not reported as missing)."""
    report = run(store_home(runs=3, failures=0), shipped("TelemetryDroppedInApp"))
    assert report.firing == [] and report.missing == []


def test_business_threshold(tmp_path: Path, make_pipeline: Any) -> None:
    """AnswerQualityLow fires on a recorded answer-quality gauge averaging under 0.7."""
    home = tmp_path / "store"
    captured = make_pipeline(exporter="store", home=home, service_name="svc")
    gauge = metrics.get_meter("app").create_gauge("business.answer_quality")
    gauge.set(0.5)
    assert captured.telemetry.force_flush(10)
    assert summaries(run(home, shipped("AnswerQualityLow"))) == ["svc answer quality averages 0.50"]
    gauge.set(0.95)
    assert captured.telemetry.force_flush(10)
    # The mean over the window's points: 0.5 and 0.95 average 0.725, over 0.7.
    assert run(home, shipped("AnswerQualityLow")).firing == []


def test_resource_rules_name_metrics_the_store_reports_missing_without_system_metrics(
    store_home: Callable[..., Path],
) -> None:
    """Without process metrics in the store, ProcessCpuHigh and ProcessMemoryHigh say so instead of staying quiet."""
    home = store_home(runs=2, failures=0)
    for name in ("ProcessCpuHigh", "ProcessMemoryHigh"):
        [(rule, why)] = run(home, shipped(name)).missing
        assert rule == name and "does not exist in the store" in why


def test_resource_rules_over_system_metrics(tmp_path: Path, make_pipeline: Any) -> None:
    """With configure(system_metrics=True) both resource rules evaluate; tiny thresholds make them fire."""
    home = tmp_path / "store"
    captured = make_pipeline(exporter="store", home=home, service_name="svc", system_metrics=True)
    assert captured.telemetry.force_flush(10)
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        sum(i * i for i in range(10_000))  # CPU time between the two collections
    assert captured.telemetry.force_flush(10)
    assert run(home, shipped("ProcessMemoryHigh")).firing == []  # this process is far under 2 GB
    [memory] = run(home, shipped("ProcessMemoryHigh", threshold=Threshold(above=1_000_000))).firing
    assert memory.labels["service"] == "svc" and (memory.value or 0) > 1_000_000
    assert (
        memory.annotations["summary"].startswith("a svc process uses ")
        and "MB of memory" in memory.annotations["summary"]
    )
    assert run(home, shipped("ProcessCpuHigh")).firing == []  # 0.3 s of CPU over 5 minutes
    [cpu] = run(home, shipped("ProcessCpuHigh", threshold=Threshold(above=0.0))).firing
    assert cpu.labels["service"] == "svc" and (cpu.value or 0) > 0
