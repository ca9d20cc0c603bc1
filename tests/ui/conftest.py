"""Fixtures for UI tests: a store the demo filled, a hostile store, and a client on the real app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# --import-mode=importlib does not put test directories on sys.path; the span writer lives in tests/cli.
sys.path.insert(0, str(ROOT / "tests" / "cli"))
sys.path.insert(0, str(Path(__file__).parent))


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


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("ui") / "store"
    run_demo(home)
    return home
