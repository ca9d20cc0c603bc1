"""Fixtures for the integration tests: a real OTLP/HTTP receiver, free ports, supervised servers."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.genai import DISABLE_GENAI_INSTRUMENTORS
from tests.support.otlp_receiver import Receiver, Span
from tests.support.ports import free_port as free_port  # noqa: PLC0414 - re-exported: the suites here import it
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
APPS = Path(__file__).resolve().parent / "apps"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


@pytest.fixture
def upstream_http() -> Iterator[str]:
    """A real HTTP dependency on 127.0.0.1: 500 for ``/down``, 200 for every other path."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(500 if self.path == "/down" else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{HOST}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str, body: object = None, headers: Mapping[str, str] | None = None, timeout: float = 10.0
) -> Response:
    """One real HTTP request (POST when ``body`` is given); HTTP errors are returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@dataclass
class Server:
    """A server subprocess on 127.0.0.1; ``stop()`` sends SIGTERM and measures the exit."""

    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = None
    exit_seconds: float | None = None
    _out: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, ready_path: str = "/health", timeout: float = 30.0) -> Server:
        self._out = self.log.open("wb")
        # Its own process group: teardown can then kill workers a failed test left behind.
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.output()
            try:
                return request(self.url + ready_path, timeout=2).status in (200, 503)
            except OSError:
                return False

        wait_for(ready, timeout=timeout, interval=0.1)
        return self

    def wait_apps_started(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` ASGI workers have started their app: a SIGTERM a uvicorn worker
        gets while it is still booting is lost, and it then serves until gunicorn's 30 s timeout."""
        wait_for(lambda: self.output().count("Application startup complete") >= count, timeout=timeout)

    def stop(self, timeout: float = 20.0) -> float:
        assert self.proc is not None
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"server did not exit within {timeout}s:\n{self.output()}") from None
        self.exit_seconds = time.monotonic() - started
        self._out.close()
        return self.exit_seconds

    def kill(self) -> None:
        """Kill the server and every process it started, whatever state the test left them in."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Factory for servers that are always stopped at the end of the test."""
    made: list[Server] = []

    def make(argv: Sequence[str], env: dict[str, str], port: int, cwd: Path = ROOT) -> Server:
        server = Server(list(argv), env, port, tmp_path / f"server-{len(made)}.log", cwd)
        made.append(server)
        return server

    yield make
    for server in made:
        server.kill()


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a server under test: no inherited OTEL_* settings, a private store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") or k.startswith("OTEL_AGENTS_")}
    env.update(
        {
            "OTEL_AGENTS_HOME": str(home),
            "OTEL_AGENTS_RAISE_INTERNAL_ERRORS": "1",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "PYTHONUNBUFFERED": "1",
            **DISABLE_GENAI_INSTRUMENTORS,
        }
    )
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def launcher(*argv: str) -> list[str]:
    """``argv`` run under the real ``opentelemetry-instrument`` launcher."""
    return [str(BIN / "opentelemetry-instrument"), *argv]


def uvicorn(app: str, port: int, *extra: str, app_dir: Path = EXAMPLES) -> list[str]:
    return [str(BIN / "uvicorn"), app, "--app-dir", str(app_dir), "--host", HOST, "--port", str(port), *extra]


def gunicorn(app: str, port: int, *extra: str, chdir: Path = EXAMPLES) -> list[str]:
    return [str(BIN / "gunicorn"), "--chdir", str(chdir), "-b", f"{HOST}:{port}", *extra, app]


def store_spans(home: Path) -> list[Span]:
    """Every span in the local store at ``home``, read with SQLite directly (read-only)."""
    path = home / "store.sqlite"
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT s.name, s.trace_id, s.span_id, s.parent_span_id, s.kind, s.scope_name, "
            "s.attributes, r.attributes FROM spans s JOIN resources r ON r.id = s.resource_id"
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    return [
        Span(
            name=r[0],
            trace_id=r[1],
            span_id=r[2],
            parent_id=r[3] or "",
            kind=r[4],
            scope=r[5] or "",
            attributes=json.loads(r[6] or "{}"),
            resource=json.loads(r[7] or "{}"),
        )
        for r in rows
    ]


EXPECTED_RUN_SPANS = {
    "invoke_workflow support_run",
    "invoke_agent router",
    "route router",
    "invoke_agent researcher",
    "chat gpt-4o-mini",
    "execute_tool lookup_customer",
}
SESSION, USER = "s-int-1", "u-int-7"
BAGGAGE = {"baggage": f"session.id={SESSION},user.id={USER}"}


def server_spans(spans: Sequence[Span]) -> list[Span]:
    """The HTTP server spans (kind SERVER = 2 in OTLP) among ``spans``."""
    return [s for s in spans if s.kind in (2, "SERVER", "server")]


def request_trace(spans: Sequence[Span], request_id: str) -> list[Span]:
    """All spans of the one trace whose server span carries ``request_id``; asserts there is one."""
    roots = [s for s in server_spans(spans) if s.attributes.get("otel_agents.request.id") == request_id]
    assert len(roots) == 1, [
        (s.name, s.attributes.get("otel_agents.request.id")) for s in server_spans(spans)
    ]
    return [s for s in spans if s.trace_id == roots[0].trace_id]


def assert_run_trace(spans: Sequence[Span], request_id: str) -> list[Span]:
    """The request's trace holds the server span and every agent span, all stamped with the run context."""
    trace = request_trace(spans, request_id)
    names = {s.name for s in trace}
    assert names >= EXPECTED_RUN_SPANS, names
    assert len(server_spans(trace)) == 1, [s.name for s in trace]
    for span in trace:
        assert span.attributes.get("session.id") == SESSION, (span.name, span.attributes)
        assert span.attributes.get("user.id") == USER, (span.name, span.attributes)
        assert span.attributes.get("otel_agents.request.id") == request_id, (span.name, span.attributes)
    return trace


def post_run(url: str, request_id: str, **body: object) -> Response:
    """``POST /run`` on the example service with the test's baggage and request id."""
    response = request(
        url + "/run",
        {"question": "find acme", **body},
        headers={**BAGGAGE, "X-Request-ID": request_id},
    )
    assert response.status == 200, response.body
    assert response.headers.get("x-request-id") == request_id
    return response
