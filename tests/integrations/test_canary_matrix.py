"""Canary secrets placed everywhere a value can enter never reach any sink: store, OTLP, /metrics, CLI, stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.apps.canary_app import BEARER, JWT, NEEDLES, PROJ, SK, URL
from tests.integrations.conftest import APPS, ROOT, server_env
from tests.support.otlp_receiver import Receiver

# Header capture turned on, as a user debugging requests would: the headers still must not leak.
CAPTURE = {
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": "authorization,x-api-key,cookie,host",
    # The resource goes with every batch of every signal; these keys do not look secret.
    "OTEL_RESOURCE_ATTRIBUTES": (
        f"ci.note=key {SK},ci.build=jwt {JWT},ci.header=Authorization: {BEARER},ci.dsn={URL},"
        f"ci.deploy.token={PROJ}"
    ),
    "OTEL_AGENTS_CAPTURE_CONTENT": "true",
    "OTEL_AGENTS_RAISE_INTERNAL_ERRORS": "",
}


def _hits(data: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode() in data]


def _run_app(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, str(APPS / "canary_app.py"), str(ready), str(tmp_path / "metrics.txt")],
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=(tmp_path / "stdout").open("wb"),
        stderr=(tmp_path / "stderr").open("wb"),
    )
    deadline = time.monotonic() + 90
    while not ready.exists():
        assert proc.poll() is None, (tmp_path / "stderr").read_text()[-3000:]
        assert time.monotonic() < deadline, "the canary app never finished"
        time.sleep(0.2)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def store_run(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    env = server_env(home, **CAPTURE)
    for _ in _run_app(tmp_path, env):
        # While the app is alive its -wal and -shm hold the latest pages.
        wal = home / "store.sqlite-wal"
        assert wal.exists() and wal.stat().st_size > 0
        yield home


def test_no_canary_in_the_store_files_metrics_or_stderr(store_run: Path, tmp_path: Path) -> None:
    """The NDJSON files, store.sqlite with its -wal and -shm, /health, /metrics, stdout and stderr hold no canary."""
    home = store_run
    files = [p for p in home.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"store.sqlite", "store.sqlite-wal", "store.sqlite-shm"} <= names
    assert any(n.startswith("traces-") for n in names) and any(n.startswith("logs-") for n in names)
    leaks = {p.name: _hits(p.read_bytes()) for p in files}
    assert _hits((tmp_path / "app.log").read_bytes()), (
        "the app's own log has the canaries: this proves nothing"
    )
    assert {k: v for k, v in leaks.items() if v} == {}
    health = (tmp_path / "health.json").read_bytes()
    assert b'"raises0"' in health and b'"says0"' in health and b"refused" in health
    assert _hits(health) == []
    metrics = (tmp_path / "metrics.txt").read_bytes()
    assert b"gen_ai_execute_tool_duration" in metrics or b"execute_tool" in metrics
    assert _hits(metrics) == []
    for stream in ("stdout", "stderr"):
        assert _hits((tmp_path / stream).read_bytes()) == [], stream


def test_no_canary_in_cli_output(store_run: Path) -> None:
    """runs, trace, stats, tail and export print the canary spans without a single canary."""
    home = store_run
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}

    def cli(*args: str) -> bytes:
        result = subprocess.run(
            [sys.executable, "-m", "otel_agents.cli", *args, "--home", str(home)],
            capture_output=True,
            env={**env, "PYTHONPATH": str(ROOT)},
            timeout=60,
            check=False,
        )
        return result.stdout + result.stderr

    runs = cli("runs", "--json") if b"--json" in cli("runs", "--help") else cli("runs")
    assert b"w " in runs or b"invoke_workflow" in runs
    outputs = {
        "runs": runs,
        "stats": cli("stats"),
        "tail": cli("tail", "-n", "200", "--exit-after", "0.5"),
        "export spans": cli("export", "spans", "--format", "ndjson"),
        "export runs": cli("export", "runs"),
    }
    import sqlite3

    conn = sqlite3.connect(f"file:{home / 'store.sqlite'}?mode=ro", uri=True)
    trace_ids = [r[0] for r in conn.execute("SELECT DISTINCT trace_id FROM spans LIMIT 30")]
    conn.close()
    for trace_id in trace_ids:
        outputs[f"trace {trace_id}"] = cli("trace", trace_id)
    assert len(outputs["export spans"]) > 10_000
    assert {k: _hits(v) for k, v in outputs.items() if _hits(v)} == {}


def test_no_canary_in_otlp_bytes(tmp_path: Path) -> None:
    """Every OTLP request the local receiver got (traces, metrics, logs) is free of canaries."""
    receiver = Receiver()
    env = server_env(
        tmp_path / "home",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_METRIC_EXPORT_INTERVAL="500",
        **CAPTURE,
    )
    try:
        for _ in _run_app(tmp_path, env):
            pass
        with receiver.lock:
            payloads = {
                "traces": b"".join(m.SerializeToString() for m in receiver.traces),
                "metrics": b"".join(m.SerializeToString() for m in receiver.metrics),
                "logs": b"".join(m.SerializeToString() for m in receiver.logs),
            }
    finally:
        receiver.close()
    assert all(payloads.values()), {k: len(v) for k, v in payloads.items()}
    assert {k: _hits(v) for k, v in payloads.items() if _hits(v)} == {}
