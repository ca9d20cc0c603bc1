"""Telemetry of requests answered just before SIGTERM is exported, not lost, on every server kind."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import (
    APPS,
    Receiver,
    free_port,
    gunicorn,
    launcher,
    post_run,
    request,
    server_env,
    uvicorn,
)

REQUESTS = 12


def _argv(case: str, port: int) -> tuple[list[str], str]:
    quiet = ["--no-control-socket", "-w", "2"]
    if case == "uvicorn":
        return uvicorn("agent_service:app", port), "/health"
    if case == "uvicorn-bare-launcher":
        return launcher(*uvicorn("bare_app:app", port, app_dir=APPS)), "/ping"
    if case == "uvicorn-workers":
        return uvicorn("agent_service:app", port, "--workers", "2"), "/health"
    if case == "gunicorn-uvicorn-preload":
        worker = ["-k", "uvicorn.workers.UvicornWorker", "--preload"]
        return gunicorn("agent_service:app", port, *quiet, *worker), "/health"
    assert case == "gunicorn-sync"
    return gunicorn("flask_service:app", port, *quiet), "/health"


@pytest.mark.parametrize(
    "case",
    ["uvicorn", "uvicorn-bare-launcher", "uvicorn-workers", "gunicorn-uvicorn-preload", "gunicorn-sync"],
)
def test_spans_queued_at_sigterm_are_exported(
    case: str, tmp_path: Path, receiver: Receiver, servers: Any
) -> None:
    """Spans still queued at SIGTERM (a 10 s batch delay) arrive, with every request's, by the time the server has exited."""
    port = free_port()
    env = server_env(
        tmp_path / "home", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY="10000"
    )
    argv, ready = _argv(case, port)
    server = servers(argv, env, port).start(ready)
    if ready == "/ping":
        send = lambda rid: request(f"{server.url}/ping?request_id={rid}")  # noqa: E731
    else:
        send = lambda rid: post_run(server.url, rid)  # noqa: E731
    with ThreadPoolExecutor(4) as pool:
        # Warm-up: each batch worker exports its first spans at once, then waits out the delay.
        list(pool.map(send, [f"warm-{i}" for i in range(8)]))
        time.sleep(0.5)
        ids = [f"{case}-{i}" for i in range(REQUESTS)]
        list(pool.map(send, ids))
    # The chain hands spans on every WAKE_EVERY spans whatever the delay, so a round of
    # requests can go out whole; one more request at a time then leaves its spans queued.
    for extra in range(10):
        time.sleep(0.3)  # what was handed on has reached the receiver
        if len(_tool_ids(receiver, ids)) < len(ids):
            break
        ids.append(f"{case}-extra-{extra}")
        send(ids[-1])
    assert len(_tool_ids(receiver, ids)) < len(ids), "all exported before SIGTERM: this proves nothing"
    server.stop()
    assert _tool_ids(receiver, ids) == sorted(ids), server.output()


def _tool_ids(receiver: Receiver, ids: list[str]) -> list[str]:
    wanted = set(ids)
    return sorted(
        rid
        for s in receiver.spans()
        if s.name.startswith("execute_tool ")
        and (rid := s.attributes.get("otel_agents.request.id")) in wanted
    )
