"""SIGTERM right after the last request: every ended span is stored or counted, for every server kind."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import (
    APPS,
    ROOT,
    free_port,
    gunicorn,
    launcher,
    post_run,
    request,
    server_env,
    store_spans,
    uvicorn,
)

REQUESTS = 60


def _counted_drops(home: Path) -> int:
    path = home / "store.sqlite"
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(
            conn.execute("SELECT coalesce(sum(count), 0) FROM counters WHERE kind = 'drop'").fetchone()[0]
        )
    finally:
        conn.close()


def _argv(case: str, port: int) -> list[str]:
    quiet = ["--no-control-socket", "-w", "2"]
    uvicorn_worker = ["-k", "uvicorn.workers.UvicornWorker"]
    return {
        "gunicorn-uvicorn": lambda: launcher(*gunicorn("agent_service:app", port, *quiet, *uvicorn_worker)),
        "gunicorn-uvicorn-preload": lambda: launcher(
            *gunicorn("agent_service:app", port, *quiet, *uvicorn_worker, "--preload")
        ),
        "gunicorn-sync": lambda: launcher(*gunicorn("flask_service:app", port, *quiet)),
        "gunicorn-sync-preload": lambda: launcher(*gunicorn("flask_service:app", port, *quiet, "--preload")),
        "uvicorn-workers": lambda: launcher(*uvicorn("agent_service:app", port, "--workers", "2")),
        "gunicorn-uvicorn-bare": lambda: launcher(
            *gunicorn("bare_app:app", port, *quiet, *uvicorn_worker, chdir=APPS)
        ),
        "gunicorn-uvicorn-bare-preload": lambda: launcher(
            *gunicorn("bare_app:app", port, *quiet, *uvicorn_worker, "--preload", chdir=APPS)
        ),
        "uvicorn-workers-bare": lambda: launcher(
            *uvicorn("bare_app:app", port, "--workers", "2", app_dir=APPS)
        ),
    }[case]()


@pytest.mark.parametrize(
    "case",
    [
        "gunicorn-uvicorn",
        "gunicorn-uvicorn-preload",
        "gunicorn-uvicorn-bare",
        "gunicorn-uvicorn-bare-preload",
        "gunicorn-sync",
        "gunicorn-sync-preload",
        "uvicorn-workers",
        "uvicorn-workers-bare",
    ],
)
def test_every_tool_span_is_stored_or_counted_after_sigterm(case: str, tmp_path: Path, servers: Any) -> None:
    """Under opentelemetry-instrument, SIGTERM right after the last of 60 requests loses no tool span uncounted."""
    home = tmp_path / "home"
    port = free_port()
    env = server_env(home, OTEL_BSP_SCHEDULE_DELAY="5000")
    env.pop("OTEL_AGENTS_RAISE_INTERNAL_ERRORS")
    bare = case.endswith(("-bare", "-bare-preload"))
    server = servers(_argv(case, port), env, port).start("/ping" if bare else "/health")
    ids = [f"{case}-{i}" for i in range(REQUESTS)]
    if bare:
        send = lambda rid: request(f"{server.url}/ping?request_id={rid}")  # noqa: E731
    else:
        send = lambda rid: post_run(server.url, rid)  # noqa: E731
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, ids))
    server.stop()
    stored = {
        s.attributes.get("otel_agents.request.id")
        for s in store_spans(home)
        if s.name.startswith("execute_tool ")
    }
    missing = set(ids) - stored
    assert len(missing) <= _counted_drops(home), (len(missing), server.output()[-3000:])


SCRIPT = """
import os, signal, sys, time
import otel_agents as oa
oa.configure(schedule_delay=30)
for i in range(int(sys.argv[1])):
    with oa.tool("step", call_id=str(i)):
        pass
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("run", range(3))
def test_a_plain_script_killed_by_sigterm_stores_every_ended_span(tmp_path: Path, run: int) -> None:
    """A script that calls configure() and then gets SIGTERM stores (or counts) every span it ended."""
    home = tmp_path / "home"
    env = {**server_env(home), "PYTHONPATH": str(ROOT)}
    env.pop("OTEL_AGENTS_RAISE_INTERNAL_ERRORS")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "500"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.terminate()
    proc.wait(20)
    stored = [s for s in store_spans(home) if s.name == "execute_tool step"]
    assert len(stored) + _counted_drops(home) >= 500, (len(stored), proc.stderr.read() if proc.stderr else "")
    assert proc.returncode == -15  # still dies by SIGTERM, as before
