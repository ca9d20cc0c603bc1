"""Fixtures for the compat shims: their README examples run as scripts in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.compat.grafana_fake import GrafanaFake
from tests.integrations.conftest import servers, upstream_http  # noqa: F401 - shared fixtures

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).with_name("examples")
Example = Callable[..., subprocess.CompletedProcess[str]]


def run_example(name: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python examples/NAME_readme.py`` in ``cwd``, as the old README tells users to run it."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for var in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "TELEMETRY_BASE_DIR",
        "TELEMETRY_DB_PATH",
        "METRICS_API_ENABLED",
    ):
        if var not in (env or {}):
            full.pop(var, None)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}_readme.py")],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_json(*args: str, home: Path) -> object:
    """``otel-agents ARGS --json --home HOME`` parsed."""
    import json

    out = subprocess.run(
        [sys.executable, "-m", "otel_agents.cli", *args, "--json", "--home", str(home)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


@pytest.fixture
def example() -> Example:
    return run_example


@pytest.fixture
def grafana() -> Iterator[GrafanaFake]:
    """A local receiver answering like Grafana's HTTP API, recording method, path and JSON body."""
    fake = GrafanaFake()
    yield fake
    fake.close()


def run_readme_in_process(name: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``examples/NAME_readme.py`` unchanged in this process (for the in-memory pipeline)."""
    import runpy

    monkeypatch.chdir(cwd)
    runpy.run_path(str(EXAMPLES / f"{name}_readme.py"), run_name="__main__")
