"""Pre-fork servers: each worker exports its own telemetry with its own instance id; exits lose nothing."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import (
    HOST,
    Receiver,
    assert_run_trace,
    free_port,
    gunicorn,
    launcher,
    post_run,
    server_env,
    server_spans,
    store_spans,
    uvicorn,
    wait_for,
)

WORKERS = 2
# Exits must be bounded: OTEL_AGENTS_SHUTDOWN_TIMEOUT (2 s here) per worker, plus the server's own.
MAX_EXIT_SECONDS = 12.0


def _argv(case: str, port: int) -> list[str]:
    quiet = ["--no-control-socket", "-w", str(WORKERS)]
    if case == "gunicorn-sync":
        return gunicorn("flask_service:app", port, *quiet)
    if case == "gunicorn-sync-preload":
        return gunicorn("flask_service:app", port, *quiet, "--preload")
    if case == "gunicorn-uvicorn":
        return gunicorn("agent_service:app", port, *quiet, "-k", "uvicorn.workers.UvicornWorker")
    if case == "gunicorn-uvicorn-preload":
        return gunicorn("agent_service:app", port, *quiet, "-k", "uvicorn.workers.UvicornWorker", "--preload")
    assert case == "uvicorn-workers"
    return uvicorn("agent_service:app", port, "--workers", str(WORKERS))


def _instance_ids(receiver: Receiver) -> set[str]:
    return {s.resource["service.instance.id"] for s in server_spans(receiver.spans())}


def _load(url: str, prefix: str, start: int, count: int) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(start, start + count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda rid: post_run(url, rid), ids))
    return ids


CASES = [
    ("gunicorn-sync", False),
    ("gunicorn-sync-preload", True),
    ("gunicorn-uvicorn", True),
    ("gunicorn-uvicorn-preload", False),
    ("uvicorn-workers", False),
    ("uvicorn-workers", True),
]


@pytest.mark.parametrize(("case", "under_launcher"), CASES)
def test_every_worker_exports_with_its_own_instance_id(
    case: str, under_launcher: bool, tmp_path: Path, receiver: Receiver, servers: Any
) -> None:
    """Every worker of a pre-fork server exports under its own service.instance.id, and every request's spans and each worker's metrics arrive after a bounded exit."""
    port = free_port()
    env = server_env(
        tmp_path / "home",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_AGENTS_SHUTDOWN_TIMEOUT="2",
        OTEL_SERVICE_NAME=f"prefork-{case}",
    )
    argv = _argv(case, port)
    server = servers(launcher(*argv) if under_launcher else argv, env, port).start()
    sent: list[str] = []
    # Workers take connections as the kernel hands them out: load until both have served some.
    for round_ in range(10):
        sent += _load(server.url, case, round_ * 24, 24)
        if len(_instance_ids(receiver)) >= WORKERS:
            break
    exit_seconds = server.stop()
    assert exit_seconds < MAX_EXIT_SECONDS, server.output()
    spans = receiver.spans()
    received = sorted(str(s.attributes.get("otel_agents.request.id")) for s in server_spans(spans))
    assert received == sorted(sent), f"lost {len(sent) - len(received)} of {len(sent)}"
    assert len(_instance_ids(receiver)) == WORKERS, _instance_ids(receiver)
    # Metrics are exported at exit (the 60 s interval never elapsed), by every worker that served.
    assert receiver.metric_instance_ids("gen_ai.execute_tool.duration") >= _instance_ids(receiver)
    assert_run_trace(spans, sent[0])
    assert_run_trace(spans, sent[-1])


class BlackHole:
    """A collector that accepts connections, reads nothing back and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(512)
        self.endpoint = f"http://{HOST}:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def test_exit_is_bounded_when_the_collector_never_answers(
    tmp_path: Path, black_hole: BlackHole, servers: Any
) -> None:
    """With a collector that never answers, a pre-fork server still exits within the shutdown budget."""
    port = free_port()
    env = server_env(
        tmp_path / "home",
        OTEL_EXPORTER_OTLP_ENDPOINT=black_hole.endpoint,
        OTEL_AGENTS_SHUTDOWN_TIMEOUT="2",
        OTEL_AGENTS_EXPORT_TIMEOUT="30",
    )
    server = servers(_argv("gunicorn-uvicorn-preload", port), env, port).start()
    server.wait_apps_started(WORKERS)
    _load(server.url, "hole", 0, 16)
    wait_for(lambda: black_hole.held)
    assert server.stop() < MAX_EXIT_SECONDS, server.output()


def test_preload_workers_write_the_local_store(tmp_path: Path, servers: Any) -> None:
    """With no OTLP endpoint, --preload workers each write their own spans to the shared local store under their own instance id, losing none."""
    port = free_port()
    home = tmp_path / "home"
    # Budgets sized for a loaded 2-core CI machine: both workers must serve, then flush to SQLite.
    env = server_env(home, OTEL_AGENTS_SHUTDOWN_TIMEOUT="4")
    server = servers(_argv("gunicorn-sync-preload", port), env, port).start()

    def ids() -> set[str]:
        return {s.resource["service.instance.id"] for s in server_spans(store_spans(home))}

    sent: list[str] = []
    for round_ in range(20):
        sent += _load(server.url, "store", round_ * 24, 24)
        time.sleep(0.3)
        if len(ids()) >= WORKERS:
            break
    assert server.stop() < MAX_EXIT_SECONDS, server.output()
    spans = store_spans(home)
    received = sorted(str(s.attributes.get("otel_agents.request.id")) for s in server_spans(spans))
    assert received == sorted(sent)
    assert len(ids()) == WORKERS
    assert_run_trace(spans, sent[-1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_respawned_worker_after_master_exported(tmp_path: Path, receiver: Receiver, servers: Any) -> None:
    """A worker forked after the --preload master has exported over OTLP serves and exports normally, with a new instance id."""
    port = free_port()
    env = server_env(
        tmp_path / "home",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_METRIC_EXPORT_INTERVAL="300",
        OTEL_AGENTS_SHUTDOWN_TIMEOUT="2",
        # Process metrics: something for every process to export while no request comes, the master too.
        OTEL_AGENTS_SYSTEM_METRICS="true",
    )
    server = servers(_argv("gunicorn-sync-preload", port), env, port).start()
    assert server.proc is not None
    # The master's periodic reader has exported (its connection is pooled) before the respawn: one
    # process more than the workers has sent its metrics.
    wait_for(lambda: len(receiver.metric_instance_ids("process.cpu.time")) >= WORKERS + 1)
    originals = set(_children(server.proc.pid))
    for pid in originals:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: len(set(_children(server.proc.pid)) - originals) == WORKERS)
    sent = _load(server.url, "respawn", 0, 24)
    assert server.stop() < MAX_EXIT_SECONDS, server.output()
    spans = receiver.spans()
    received = sorted(str(s.attributes.get("otel_agents.request.id")) for s in server_spans(spans))
    assert received == sorted(sent)
    assert_run_trace(spans, sent[-1])
    # The respawned workers' metric exporters use connections of their own, next to the master's.
    assert receiver.metric_instance_ids("gen_ai.execute_tool.duration") >= _instance_ids(receiver)
