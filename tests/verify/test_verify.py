"""`otel-agents verify`: health, expected metrics and performance against a baseline, for CI."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.cli.cli_helpers import run_cli
from tests.support.http_servers import QuietHandler, serving

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--runs", "20")


def verify(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("verify", "--service", "support-bot", *args, home=home)


def checks(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in json.loads(result.stdout)}


def test_canary_like_production_passes(deployed: Callable[..., Path]) -> None:
    """A canary that behaves like production passes every check and exits 0."""
    home = deployed(v1_0=FAST, v2_0=FAST)
    # Runs of 50 ms on a shared 2-core CI machine: its scheduling adds up to ~30 ms to a few of
    # them, so the same code can read 1.35x at p95. The slower canary below checks the threshold.
    result = verify(
        home, "--version", "2.0", "--baseline-version", "1.0", "--duration", "1h", "--threshold", "2"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["CHECK", "TARGET", "RESULT"]
    assert any(line.startswith("p95 latency") and "PASS" in line for line in lines)
    assert lines[-1] == "all 4 check(s) passed"


def test_a_slower_canary_is_a_regression(deployed: Callable[..., Path], tmp_path: Path) -> None:
    """A canary 6x slower than production fails the p95 latency check; exit 1; JUnit says so too."""
    home = deployed(v1_0=FAST, v2_0=("--runs", "20", "--slow-ms", "250"))
    report = tmp_path / "verify.xml"
    result = verify(home, "--version", "2.0", "--baseline-version", "1.0", "--junit", str(report), "--json")
    assert result.returncode == 1, result.stderr
    assert checks(result) == {
        "runs": "info",
        "p95 latency": "fail",
        "error rate": "pass",
        "cost per run": "pass",
    }
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "4" and suite.get("failures") == "1"
    [failed] = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed.get("name") == "p95 latency"
    message = failed.find("failure").get("message")  # type: ignore[union-attr]
    assert "limit <=" in message and "x the baseline" in message


def test_a_failing_canary_is_a_regression(deployed: Callable[..., Path]) -> None:
    """A canary failing one run in four fails the error-rate check against a clean production."""
    home = deployed(v1_0=FAST, v2_0=(*FAST, "--fail-every", "4"))
    result = verify(home, "--version", "2.0", "--baseline-version", "1.0", "--threshold", "3", "--json")
    assert result.returncode == 1
    assert checks(result)["error rate"] == "fail"


def test_recorded_figures_are_a_baseline(deployed: Callable[..., Path], tmp_path: Path) -> None:
    """--record writes the figures; the same version passes against them, a slower one does not."""
    home = deployed(v1_0=FAST)
    figures = tmp_path / "prod.json"
    recorded = verify(home, "--version", "1.0", "--record", str(figures))
    assert recorded.returncode == 0, recorded.stderr
    data = json.loads(figures.read_text())
    assert data["runs"] == 20 and data["error_rate"] == 0 and data["p95_latency_s"] > 0.05
    same = verify(home, "--version", "1.0", "--baseline", str(figures), "--json")
    assert same.returncode == 0 and checks(same)["p95 latency"] == "pass"
    figures.write_text(json.dumps({**data, "p95_latency_s": data["p95_latency_s"] / 10}))
    faster_baseline = verify(home, "--version", "1.0", "--baseline", str(figures), "--json")
    assert faster_baseline.returncode == 1 and checks(faster_baseline)["p95 latency"] == "fail"


def test_no_runs_of_the_version_fails(deployed: Callable[..., Path]) -> None:
    """A version with no runs in the window is a failure, never a silent pass."""
    home = deployed(v1_0=FAST)
    result = verify(home, "--version", "9.9", "--baseline-version", "1.0")
    assert result.returncode == 1 and "no runs in the window" in result.stdout


def test_expected_metrics_in_the_store(deployed: Callable[..., Path]) -> None:
    """An expected metric the service recorded passes; one it never recorded fails."""
    home = deployed(v1_0=("--runs", "3"))
    result = verify(
        home, "--expect-metric", "otel_agents.calls", "--expect-metric", "no.such.metric", "--json"
    )
    assert result.returncode == 1
    got = checks(result)
    assert got["metric otel_agents.calls"] == "pass" and got["metric no.such.metric"] == "fail"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--prometheus", "http://127.0.0.1:1"), "Prometheus http://127.0.0.1:1 is unreachable"),
        (("--url", "http://127.0.0.1:1"), "service http://127.0.0.1:1 is unreachable"),
        (("--store", "--home", "/nonexistent/otel-agents"), "no store at /nonexistent/otel-agents"),
    ],
)
def test_an_unreachable_target_is_one_line(args: tuple[str, ...], needle: str, tmp_path: Path) -> None:
    """An unreachable target exits 3 with one clear line and no traceback."""
    result = run_cli("verify", *args)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize("option", ["--url", "--prometheus"])
def test_a_target_that_does_not_speak_http_is_one_line(option: str) -> None:
    """A port answering with something other than HTTP exits 3 with one line, not an internal error."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                conn.recv(1024)
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                conn.close()

    threading.Thread(target=answer, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        result = run_cli("verify", option, url)
    finally:
        server.close()
    assert result.returncode == 3, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"{url} did not answer HTTP" in line and "internal error" not in line


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html>ok</html>", "HTTP 200; the body is not a JSON health report"),
        (b'{"status": "fail", "checks": []}', "HTTP 200; failing: status fail"),
    ],
)
def test_a_health_answer_that_is_no_passing_report_fails(body: bytes, detail: str) -> None:
    """A 200 /health whose body is HTML, or whose JSON says it fails, is a failed check, not a pass."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_cli("verify", "--url", f"http://127.0.0.1:{server.server_address[1]}", "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stdout + result.stderr
    [health] = json.loads(result.stdout)
    assert health["status"] == "fail" and health["detail"] == detail


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    """A threshold under 1, a URL without a scheme or a broken baseline file exits 2."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"p95_latency_s": "fast"}')
    for args in (
        ("--threshold", "0.5"),
        ("--url", "127.0.0.1:8000"),
        ("--baseline", str(bad)),
        ("--duration", "soon"),
        ("--url", "http://"),
        ("--url", "http://[::1"),
        ("--timeout", "0"),
        ("--timeout", "-1"),
    ):
        result = run_cli("verify", *args, home=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(app: str, app_dir: Path, home: Path) -> Iterator[str]:
    import os

    port = _free_port()
    env = {**os.environ, "OTEL_AGENTS_HOME": str(home)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--app-dir",
            str(app_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/metrics", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def agent_service(tmp_path: Path) -> Iterator[str]:
    yield from _serve("agent_service:app", ROOT / "examples", tmp_path / "svc-store")


@pytest.fixture
def unhealthy_service(tmp_path: Path) -> Iterator[str]:
    yield from _serve("health_app:fastapi_app", ROOT / "tests/integrations/apps", tmp_path / "bad-store")


def test_a_healthy_service_with_its_metrics_passes(agent_service: str, tmp_path: Path) -> None:
    """The example service answers /health 200 with every check passing and exposes the expected series."""
    req = urllib.request.Request(
        f"{agent_service}/run", data=b'{"question": "hi"}', headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req, timeout=10).read()
    report = tmp_path / "junit.xml"
    result = run_cli(
        "verify",
        "--url",
        agent_service,
        "--expect-metric",
        "otel_agents.calls",
        "--junit",
        str(report),
        "--json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    got = json.loads(result.stdout)
    assert [(c["name"], c["status"]) for c in got] == [
        ("health", "pass"),
        ("metric otel_agents.calls", "pass"),
    ]
    assert "check(s) pass" in got[0]["detail"]
    assert ET.parse(report).getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_a_service_with_failing_checks_fails(unhealthy_service: str) -> None:
    """A /health answering 503 with failing checks fails verification and names the failing checks."""
    result = run_cli("verify", "--url", unhealthy_service, "--json")
    assert result.returncode == 1
    [health] = json.loads(result.stdout)
    assert health["status"] == "fail" and health["detail"].startswith("HTTP 503; failing: ")
    assert "raises" in health["detail"] and "hunter2" not in health["detail"]


def test_monitor_watches_health_for_the_duration(agent_service: str) -> None:
    """--monitor re-checks /health every --interval for --duration before judging, and then passes."""
    started = time.monotonic()
    result = run_cli("verify", "--url", agent_service, "--monitor", "--duration", "2s", "--interval", "0.5s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started >= 2
    assert "health" in result.stdout and "PASS" in result.stdout


def test_credentials_in_a_url_are_sent_as_basic_auth_and_never_shown_or_redirected() -> None:
    """``user:password@`` in --url or --prometheus authenticates (Basic) to that host, output shows
    ``***@`` instead, and a redirect elsewhere does not carry the credentials along."""
    import base64

    expected = "Basic " + base64.b64encode(b"ci-bot:s3cr3t p@ss").decode()
    seen_elsewhere: list[str | None] = []

    class Elsewhere(QuietHandler):
        def do_GET(self) -> None:
            seen_elsewhere.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status": "pass", "checks": []}')

    class Protected(QuietHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            if self.path == "/health":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{other.server_address[1]}/health")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"otel_agents_calls_total 1\n")

    with serving(Elsewhere, Protected) as (other, server):
        url = f"http://ci-bot:s3cr3t%20p%40ss@127.0.0.1:{server.server_address[1]}"
        result = run_cli("verify", "--url", url, "--expect-metric", "otel_agents.calls", "--json")
        wrong = run_cli("verify", "--url", url.replace("s3cr3t", "wrong"), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [(c["name"], c["status"]) for c in json.loads(result.stdout)] == [
        ("health", "pass"),
        ("metric otel_agents.calls", "pass"),
    ]
    assert seen_elsewhere == [None]
    assert wrong.returncode == 1 and "HTTP 401" in wrong.stdout
    for out in (result, wrong):
        assert "s3cr3t" not in out.stdout + out.stderr and "wrong" not in out.stdout + out.stderr
