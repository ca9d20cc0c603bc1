"""Fixtures for verify tests: stores filled by examples/eval_suite.py, one process per deployed version."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_suite(home: Path, version: str, *args: str) -> None:
    """Run the example eval suite as version ``version`` of support-bot, into the store at ``home``."""
    env = {**os.environ, "OTEL_AGENTS_HOME": str(home), "OTEL_AGENTS_SERVICE_VERSION": version}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples/eval_suite.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def deployed(tmp_path: Path) -> Callable[..., Path]:
    """Factory: record each ``version=args`` into one store; returns its home."""
    home = tmp_path / "store"

    def record(**versions: tuple[str, ...]) -> Path:
        for version, args in versions.items():
            run_suite(home, version.removeprefix("v").replace("_", "."), *args)
        return home

    return record
