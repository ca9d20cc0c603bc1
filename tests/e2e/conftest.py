"""Fixtures for the end-to-end tests: built binaries, free loopback ports, supervised processes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# A cold build of the collector and Jaeger takes minutes on 2 cores.
DEPS_TIMEOUT_S = 40 * 60


def go_available() -> bool:
    return shutil.which("go") is not None or Path("/usr/local/go/bin/go").is_file()


def skip_without_go() -> None:
    """Skip loudly on a developer machine without Go; fail under CI, which must run these tests."""
    msg = (
        "!!! END-TO-END TESTS SKIPPED: no Go toolchain found (PATH or /usr/local/go/bin/go). "
        "The collector and Jaeger are built from Go modules; install Go >= 1.25 to run them. "
        "CI must have Go. !!!"
    )
    if os.environ.get("CI"):
        pytest.fail(msg.replace("SKIPPED", "CANNOT RUN UNDER CI"), pytrace=False)
    print(f"\n{msg}", file=sys.stderr)
    warnings.warn(msg, stacklevel=2)
    pytest.skip(msg)


@dataclass(frozen=True)
class Deps:
    collector: Path
    jaeger: Path
    prometheus: Path
    promtool: Path


@pytest.fixture(scope="session")
def deps() -> Deps:
    """Paths of the built collector and Jaeger and the installed Prometheus tools."""
    if not go_available():
        skip_without_go()
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "e2e-deps.sh")],
        capture_output=True,
        text=True,
        timeout=DEPS_TIMEOUT_S,
        check=False,
    )
    if proc.returncode == 3:
        skip_without_go()
    assert proc.returncode == 0, f"scripts/e2e-deps.sh failed:\n{proc.stderr[-4000:]}"
    values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return Deps(
        collector=Path(values["OTEL_AGENTS_COLLECTOR_BIN"]),
        jaeger=Path(values["JAEGER_BIN"]),
        prometheus=Path(values["PROMETHEUS_BIN"]),
        promtool=Path(values["PROMTOOL_BIN"]),
    )


@pytest.fixture(scope="session")
def promtool() -> Path:
    """promtool from Debian's prometheus package, installed if absent; needs no Go."""
    found = shutil.which("promtool")
    if found is None:
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts" / "e2e-deps.sh"), "--prometheus-only"],
            capture_output=True,
            text=True,
            timeout=DEPS_TIMEOUT_S,
            check=False,
        )
        assert proc.returncode == 0, f"installing prometheus failed:\n{proc.stderr[-4000:]}"
        found = shutil.which("promtool")
    assert found is not None
    return Path(found)


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_json(url: str, timeout: float = 5.0) -> Any:
    status, body = http_get(url, timeout)
    assert status == 200, f"GET {url} -> {status}: {body[:500]!r}"
    return json.loads(body)


def http_post(url: str, body: bytes, content_type: str, timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(
    check: Callable[[], Any], timeout: float, interval: float = 0.5, what: str = "condition"
) -> Any:
    """Poll `check` until it returns a truthy value; the last exception explains a timeout."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (OSError, AssertionError, ValueError, KeyError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last!r}")


def port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} already running"
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.name}: {' '.join(self.argv)}\n".encode())
        # Own process group, so teardown also reaches any children.
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class Supervisor:
    """Starts processes and guarantees they are all stopped, whatever the test did."""

    workdir: Path
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Proc:
        full_env = {**os.environ, **(env or {})}
        proc = Proc(name, argv, full_env, self.workdir / f"{name}.log", cwd)
        self.procs.append(proc)
        return proc.start()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log}) ---\n{p.tail()}" for p in self.procs)


@pytest.fixture
def supervisor(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Supervisor]:
    sup = Supervisor(tmp_path)
    try:
        yield sup
    finally:
        sup.stop_all()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(sup.logs(), file=sys.stderr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Lets `supervisor` print the processes' logs only when the test body failed.
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@dataclass
class Collector:
    """One otelcol-agents process started through collector/run.sh on free loopback ports."""

    env: dict[str, str]
    proc: Proc | None = None

    @property
    def files(self) -> Path:
        return Path(self.env["OTEL_AGENTS_COLLECTOR_FILE_DIR"])

    @property
    def otlp_http(self) -> str:
        return f"http://{HOST}:{self.env['OTEL_AGENTS_COLLECTOR_OTLP_HTTP_PORT']}"

    @property
    def otlp_grpc(self) -> str:
        return f"{HOST}:{self.env['OTEL_AGENTS_COLLECTOR_OTLP_GRPC_PORT']}"

    @property
    def prometheus_target(self) -> str:
        return f"{HOST}:{self.env['OTEL_AGENTS_COLLECTOR_PROMETHEUS_PORT']}"

    @property
    def telemetry_target(self) -> str:
        return f"{HOST}:{self.env['OTEL_AGENTS_COLLECTOR_TELEMETRY_PORT']}"

    def healthy(self) -> bool:
        port = self.env["OTEL_AGENTS_COLLECTOR_HEALTH_PORT"]
        return http_get(f"http://{HOST}:{port}/", timeout=1)[0] == 200


def collector_env(deps: Deps, workdir: Path, **extra: str) -> dict[str, str]:
    """Environment for collector/run.sh: every port explicit, off the defaults."""
    return {
        "OTEL_AGENTS_COLLECTOR_BIN": str(deps.collector),
        "OTEL_AGENTS_COLLECTOR_HOST": HOST,
        "OTEL_AGENTS_COLLECTOR_OTLP_GRPC_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_OTLP_HTTP_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_HEALTH_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_PROMETHEUS_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_TELEMETRY_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_DATA_DIR": str(workdir / "collector-data"),
        "OTEL_AGENTS_COLLECTOR_FILE_DIR": str(workdir / "collector-files"),
        "OTEL_AGENTS_SPANMETRICS_FLUSH_INTERVAL": "1s",
        **extra,
    }


def start_collector(sup: Supervisor, col: Collector, timeout: float = 60) -> Collector:
    col.proc = sup.start("collector", ["bash", str(ROOT / "collector" / "run.sh")], col.env)
    wait_until(col.healthy, timeout, what=f"collector health\n{col.proc.tail()}")
    return col


def start_jaeger(sup: Supervisor, deps: Deps, otlp_grpc_port: int | None = None) -> tuple[str, str]:
    """Start Jaeger v2; returns (its OTLP gRPC endpoint, its query base URL)."""
    env = {
        "JAEGER_HOST": HOST,
        "JAEGER_OTLP_GRPC_PORT": str(otlp_grpc_port or free_port()),
        "JAEGER_OTLP_HTTP_PORT": str(free_port()),
        "JAEGER_QUERY_HTTP_PORT": str(free_port()),
        "JAEGER_QUERY_GRPC_PORT": str(free_port()),
        "JAEGER_HEALTH_PORT": str(free_port()),
    }
    proc = sup.start("jaeger", [str(deps.jaeger), "--config", str(ROOT / "deploy/jaeger/config.yaml")], env)
    query = f"http://{HOST}:{env['JAEGER_QUERY_HTTP_PORT']}"
    wait_until(
        lambda: http_get(f"{query}/api/services", 1)[0] == 200,
        60,
        what=f"jaeger query\n{proc.tail()}",
    )
    return f"{HOST}:{env['JAEGER_OTLP_GRPC_PORT']}", query
