"""Helpers for UI tests: the repository root and recording the demo into a store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_demo(home: Path) -> None:
    """`otel-agents demo --home HOME` in a fresh interpreter, as a user would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "otel_agents.cli", "demo", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
