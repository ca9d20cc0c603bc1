"""A workload through the public API for alert and verification tests: an agent whose tool fails."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import otel_agents as oa

# A rule file using every expression type, threshold kind and notifier type.
VALID = """
notifiers:
  ops: {type: webhook, url: "http://127.0.0.1:1/hook", retries: 0}
  chat: {type: slack, url: "http://127.0.0.1:1/slack"}
  inproc: {type: python, callable: "json:dumps"}
rules:
  - name: ToolErrors
    expr: {type: error_rate, of: tool, name: search}
    threshold: {above: 0.1}
    window: 5m
    for: 1m
    cooldown: 30m
    severity: critical
    labels: {team: agents}
    annotations: {summary: "{{ $labels.gen_ai_tool_name }} fails"}
    notify: [ops, chat, inproc]
  - name: SlowModel
    expr: {type: latency, of: model, quantile: 0.99}
    threshold: {outside: [0.0, 2.5]}
  - name: Burn
    expr: {type: cost_per_hour, service: svc}
    threshold: {above: 10}
    window: 1h
  - name: Quiet
    expr: {type: calls, of: agent}
    threshold: {below: 1}
  - name: Drops
    expr: {type: dropped}
    threshold: {above: 0}
  - name: Memory
    expr: {type: metric, metric: process.memory.usage, aggregation: max, labels: {k: v}, by: [service]}
    threshold: {above: 1000000000}
"""


class ToolDown(RuntimeError):
    """The failure the workload's tool raises."""


def workload(*, runs: int = 10, failures: int = 3, tool_sleep: float = 0.0, cost_usd: float = 0.01) -> None:
    """``runs`` workflows of agent planner calling an LLM and tool search; ``failures`` of them fail."""
    for i in range(runs):
        with contextlib.suppress(ToolDown), oa.workflow("triage"), oa.agent("planner"):
            with oa.llm("gpt-4o", provider="openai") as call:
                call.record_usage(input_tokens=100, output_tokens=10, cost_usd=cost_usd)
            with oa.tool("search"):
                if tool_sleep:
                    time.sleep(tool_sleep)
                if i < failures:
                    raise ToolDown("search backend down")


def write_rules(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
