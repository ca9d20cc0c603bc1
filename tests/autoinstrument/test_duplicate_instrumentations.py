"""The launcher warns when two instrumentations of one provider are active, and aligns content switches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from otel_agents.api import _semconv as semconv

ROOT = Path(__file__).resolve().parents[2]


def test_launcher_warns_about_two_instrumentations_of_one_provider(tmp_path: Path) -> None:
    """opentelemetry-instrument with both openai instrumentations (and anthropic's native spans) warns."""
    pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    pytest.importorskip("opentelemetry.instrumentation.openai")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTEL_AGENTS_HOME": str(tmp_path / "home"),
        "OTEL_AGENTS_RAISE_INTERNAL_ERRORS": "0",
    }
    env.pop(semconv.ENV_TRACELOOP_TRACE_CONTENT, None)
    script = "import os; print('TRACELOOP=' + os.environ.get('TRACELOOP_TRACE_CONTENT', '-'))"
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "opentelemetry-instrument"), sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "TRACELOOP=false" in result.stdout
    assert "instrumentations of openai are active" in result.stderr
    assert "opentelemetry-instrumentation-openai-v2" in result.stderr
    assert "instrumentations of anthropic are active" in result.stderr
