"""Fixtures for the real third-party GenAI libraries: fake providers, a store pipeline, and checks."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from otel_agents.api import _semconv as semconv
from tests.conftest import Captured
from tests.support.fake_llm import FakeAnthropic, FakeOpenAI, Reply, Script

CODEWORD = "PELICAN-7731"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """A configured pipeline writing to a store in ``home``, plus the in-memory copies."""

    captured: Captured
    home: Path

    def flush(self) -> None:
        self.captured.telemetry.force_flush(10)

    def shutdown(self) -> None:
        self.captured.telemetry.shutdown(10)

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.home / "store.sqlite")

    def store_text(self) -> str:
        """Every byte the store wrote (NDJSON lines and the SQLite files), decoded loosely."""
        return "".join(p.read_bytes().decode("utf-8", "replace") for p in self.home.rglob("*") if p.is_file())

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "otel_agents.cli", *args, "--home", str(self.home)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def points(self, name: str, scope: str | None = None) -> list[Any]:
        """Data points of metric ``name`` from every meter, or only from meter ``scope``."""
        data = self.captured.reader.get_metrics_data()
        out: list[Any] = []
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                if scope is not None and sm.scope.name != scope:
                    continue
                for metric in sm.metrics:
                    if metric.name == name:
                        out.extend(metric.data.data_points)
        return out

    def metric_sum(self, name: str, **labels: Any) -> float:
        total = 0.0
        for point in self.points(name, semconv.SCOPE_NAME):
            attrs = dict(point.attributes)
            if all(attrs.get(k) == v for k, v in labels.items()):
                total += getattr(point, "sum", getattr(point, "value", 0))
        return total

    def metric_count(self, name: str, scope: str | None = semconv.SCOPE_NAME, **labels: Any) -> int:
        n = 0
        for point in self.points(name, scope):
            attrs = dict(point.attributes)
            if all(attrs.get(k) == v for k, v in labels.items()):
                n += getattr(point, "count", 0)
        return n


@pytest.fixture
def store_run(make_pipeline: Any, tmp_path: Path) -> Callable[..., Run]:
    """Factory: a pipeline with the local store in a temp home (content capture off by default)."""

    def make(**options: Any) -> Run:
        home = tmp_path / "home"
        captured = make_pipeline(exporter="store", home=home, **options)
        return Run(captured, home)

    return make


@pytest.fixture
def fake_openai() -> Iterator[Callable[[Script | None], FakeOpenAI]]:
    made: list[FakeOpenAI] = []

    def make(script: Script | None = None) -> FakeOpenAI:
        server = FakeOpenAI(script or (lambda body: Reply(text=f"the answer is {CODEWORD}")))
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def fake_anthropic() -> Iterator[Callable[[Script | None], FakeAnthropic]]:
    made: list[FakeAnthropic] = []

    def make(script: Script | None = None) -> FakeAnthropic:
        server = FakeAnthropic(script or (lambda body: Reply(text=f"the answer is {CODEWORD}")))
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def counted(spans: list[Any]) -> list[Any]:
    """The LLM-call spans that count (not marked as duplicates of another)."""
    return [
        s
        for s in spans
        if (s.attributes or {}).get(semconv.GEN_AI_OPERATION_NAME) in semconv.LLM_OPERATIONS
        and semconv.DUPLICATE_OF not in (s.attributes or {})
    ]
