"""Running the real CLI in a fresh interpreter, blocking or in the background."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
Cli = Callable[..., subprocess.CompletedProcess[str]]


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra or {})}
    for var in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        if var not in (extra or {}):
            env.pop(var, None)
    return env


def _cmd(args: tuple[str, ...], home: Path | None) -> list[str]:
    cmd = [sys.executable, "-m", "otel_agents.cli", *args]
    return [*cmd, "--home", str(home)] if home is not None else cmd


def run_cli(
    *args: str, home: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``otel-agents ARGS... [--home HOME]`` as a user would run it; waits for it to finish."""
    return subprocess.run(
        _cmd(args, home), capture_output=True, text=True, env=_env(env), timeout=60, check=False
    )


def start_cli(*args: str, home: Path) -> subprocess.Popen[str]:
    """``otel-agents ARGS... --home HOME`` running in the background."""
    return subprocess.Popen(
        _cmd(args, home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(None)
    )
