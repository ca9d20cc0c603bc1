"""configure(system_metrics=True): process CPU and memory as OTel metrics, into every exporter and the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otel_agents.sdk import _system_metrics as system
from otel_agents.sdk._options import resolve


def test_process_metrics_are_recorded(make_pipeline: Any) -> None:
    """CPU time by type (user, system), resident memory and threads are observed through the configured provider."""
    captured = make_pipeline(system_metrics=True)
    sum(i * i for i in range(200_000))  # some CPU time to observe
    modes = {p.attributes.get("type") for p in captured.metric_points("process.cpu.time")}
    assert {"user", "system"} <= modes
    [memory] = captured.metric_points("process.memory.usage")
    assert memory.value > 10_000_000  # a Python process holds more than 10 MB
    assert captured.metric_points("process.thread.count")[0].value >= 1


def test_off_by_default(pipeline: Any) -> None:
    """Without the option no process.* metric exists."""
    assert pipeline.metric_points("process.memory.usage") == []


def test_they_reach_the_store(make_pipeline: Any, tmp_path: Path) -> None:
    """With the local store as exporter, process metrics are stored like any metric."""
    from otel_agents.store import _db as db
    from otel_agents.store import _paths as paths

    captured = make_pipeline(system_metrics=True, exporter="store", home=tmp_path / "store")
    assert captured.telemetry.force_flush(10)
    conn = db.connect(paths.db_path(tmp_path / "store"))
    names = {
        r[0] for r in conn.execute("SELECT DISTINCT name FROM metric_points WHERE name LIKE 'process.%'")
    }
    assert {"process.cpu.time", "process.memory.usage"} <= names


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the package the argument fails at configure() naming the extra; the variable only warns."""
    monkeypatch.setattr(system, "available", lambda: False)
    with pytest.raises(ValueError, match=r"otel-agents\[system-metrics\]"):
        resolve(system_metrics=True)
    monkeypatch.setenv("OTEL_AGENTS_SYSTEM_METRICS", "true")
    assert resolve().system_metrics is False
