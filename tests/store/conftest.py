"""Fixtures for store tests: a fresh store home and an opened LocalStore."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the helper module lives here.
sys.path.insert(0, str(Path(__file__).parent))

from otel_agents.api import _counters as stats
from otel_agents.store import LocalStore, open_store


@pytest.fixture
def home(tmp_path: Path) -> Path:
    stats.reset()
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[LocalStore]:
    s = open_store(home)
    yield s
    s.close()
