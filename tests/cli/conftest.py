"""Fixtures for CLI tests: the real ``otel-agents`` CLI run as a subprocess against a demo store."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the helper module lives here.
sys.path.insert(0, str(Path(__file__).parent))

from cli_helpers import Cli, run_cli


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store filled once per session by `otel-agents demo` (the public API, end to end)."""
    home = tmp_path_factory.mktemp("cli") / "store"
    result = run_cli("demo", home=home)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def demo_copy(demo_home: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store, for commands that change it."""
    target = tmp_path / "store"
    shutil.copytree(demo_home, target)
    return target


@pytest.fixture
def cli() -> Cli:
    return run_cli
