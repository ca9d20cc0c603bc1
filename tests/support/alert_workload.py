"""A workload through the public API for alert and verification tests: an agent whose tool fails."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import otel_agents as oa


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
