"""Every Python example in docs/metrics.md runs as written and records what the text says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from otel_agents.api import _semconv as semconv

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs/metrics.md").read_text(), flags=re.S)


def test_the_examples_record_their_metrics(pipeline: Any) -> None:
    """The in-process examples record the business, rate-limit, error and tool-cost figures."""
    in_process = [b for b in BLOCKS if "oa.configure" not in b]
    assert len(in_process) == 4
    for block in in_process:
        exec(compile(block, "docs/metrics.md", "exec"), {})
    # Spans first: the span-derived metrics (the tool's cost) are recorded once the spans are flushed.
    assert pipeline.span("invoke_workflow research").attributes[semconv.COST_USD] == 0.002
    for name in (
        "business.tickets.closed",
        "business.answer_quality",
        "business.csat",
        "business.report.duration",
        "business.export.duration",
        semconv.METRIC_RATE_LIMIT_REMAINING,
        semconv.METRIC_RATE_LIMIT_RESET_TIME,
        semconv.METRIC_RATE_LIMIT_HITS,
        semconv.METRIC_COMPONENT_ERRORS,
        semconv.METRIC_COST,
    ):
        assert pipeline.metric_points(name), name


def test_the_configure_example_runs(tmp_path: Path) -> None:
    """The system-metrics example runs in a fresh interpreter (into a store of its own)."""
    [block] = [b for b in BLOCKS if "oa.configure" in b]
    result = subprocess.run(
        [sys.executable, "-c", block],
        capture_output=True,
        text=True,
        timeout=60,
        env={"OTEL_AGENTS_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
