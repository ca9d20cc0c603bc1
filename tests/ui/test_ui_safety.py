"""UI ground rules: stored strings are escaped, the store is never written, bad stores say so."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_spans import Spec, tool, write
from starlette.testclient import TestClient
from ui_helpers import ROOT, run_demo

from otel_agents.api import _semconv as semconv
from otel_agents.store import _paths as paths
from otel_agents.ui import create_app

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A failed run whose names, ids, attributes, events and route targets hold HTML."""
    home = tmp_path_factory.mktemp("hostile-ui")
    now = time.time_ns() - 10**9
    evil = f'{SCRIPT}"><img src=x onerror=alert(2)>'
    write(
        home,
        [
            Spec(
                f"invoke_workflow {evil}",
                now,
                duration_ns=5_000_000,
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
                    semconv.GEN_AI_WORKFLOW_NAME: evil,
                    semconv.RUN_ID: "r-<b>",
                    semconv.SESSION_ID: evil,
                    "app.note": evil,
                },
                error=evil,
                events=[evil],
                children=[
                    tool(evil, now + 1000, error=evil),
                    Spec(
                        f"route {evil}",
                        now + 2000,
                        attributes={semconv.ROUTE_SOURCE: evil, semconv.ROUTE_TARGET: evil + "2"},
                    ),
                ],
            )
        ],
    )
    return home


def test_every_stored_string_is_html_escaped(hostile_home: Path) -> None:
    """A span name with <script> (and an attribute breakout) is shown as text on every page."""
    client = TestClient(create_app(hostile_home), base_url="http://127.0.0.1")
    urls = [
        "/",
        "/run/r-%3Cb%3E",
        "/graph",
        "/graph?run=r-%3Cb%3E",
        "/stats?kind=tool",
        "/stats?kind=workflow",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.text
        assert (
            SCRIPT not in text
            and "<img" not in text
            and "onerror=alert" not in text.replace("onerror=alert(2)&gt;", "")
        )
        assert "r-<b>" not in text, url
    run_page = client.get("/run/r-%3Cb%3E").text
    assert ESCAPED in run_page and "r-&lt;b&gt;" in run_page
    assert "<script" not in run_page  # a run page loads no script at all
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in run_page


def test_the_ui_never_writes_the_store(demo_home: Path, tmp_path: Path) -> None:
    """Browsing every page leaves the database byte for byte as it was (SQLite may add an empty WAL)."""
    home = tmp_path / "copy"
    run_demo(home)
    db = paths.db_path(home)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in db.parent.glob(db.name + "*")}
    client = TestClient(create_app(home), base_url="http://127.0.0.1")
    for url in ("/", "/fragment/runs", "/graph", "/stats", "/search?q=demo", "/run/x"):
        client.get(url)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in db.parent.glob(db.name + "*")}
    assert after[db] == before[db]
    for p, h in after.items():
        if p.name.endswith("-wal"):
            assert h == before.get(p, hashlib.sha256(b"").hexdigest()), "the WAL gained frames"


def test_a_missing_store_says_so(tmp_path: Path) -> None:
    """Without a store the pages answer 503 with a sentence naming the home, not a traceback."""
    client = TestClient(create_app(tmp_path / "none"), base_url="http://127.0.0.1")
    page = client.get("/")
    assert page.status_code == 503 and "no store at" in page.text and "Traceback" not in page.text
    assert not (tmp_path / "none").exists()


def test_a_broken_store_says_so(tmp_path: Path) -> None:
    """A database file that is not SQLite gives a 'cannot read' page."""
    db = paths.db_path(tmp_path)
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    client = TestClient(create_app(tmp_path), base_url="http://127.0.0.1")
    for url in ("/", "/graph", "/stats", "/run/x", "/search?q=abcd1234"):
        page = client.get(url)
        assert page.status_code == 503, url
        assert "Store unavailable" in page.text and "Traceback" not in page.text


def test_a_locked_store_says_so(tmp_path: Path) -> None:
    """While another process holds the database exclusively, pages answer 503 'locked' in seconds."""
    run_demo(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(paths.db_path(tmp_path))!r}, isolation_level=None)\n"
            "c.execute('PRAGMA locking_mode = EXCLUSIVE')\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "c.execute('CREATE TABLE IF NOT EXISTS lock_probe (x)')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        client = TestClient(create_app(tmp_path), base_url="http://127.0.0.1")
        started = time.monotonic()
        page = client.get("/")
        assert page.status_code == 503 and "locked" in page.text, page.text
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


def test_a_token_is_required_on_every_request(demo_home: Path) -> None:
    """With a token, requests without it get 401; ?token= once sets a cookie; Bearer works."""
    token = "s3cret-token-123"
    client = TestClient(create_app(demo_home, token=token), base_url="http://127.0.0.1")
    for url in ("/", "/static/ui.css", "/graph", "/nope"):
        assert client.get(url).status_code == 401, url
    assert client.get("/", params={"token": "wrong-token"}).status_code == 401
    first = client.get("/", params={"token": token})
    assert first.status_code == 200 and "otel_agents_ui_token" in first.headers.get("set-cookie", "")
    assert client.get("/graph").status_code == 200  # the cookie
    fresh = TestClient(create_app(demo_home, token=token), base_url="http://127.0.0.1")
    assert fresh.get("/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_foreign_host_headers_are_refused(demo_home: Path) -> None:
    """On loopback only loopback Host names are served (a DNS-rebinding page gets 400)."""
    client = TestClient(create_app(demo_home), base_url="http://127.0.0.1")
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1.evil.example"}).status_code == 400
    assert client.get("/static/ui.css", headers={"Host": "evil.example:80"}).status_code == 400


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otel_agents.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_a_remote_bind_needs_allow_remote_and_a_token(demo_home: Path) -> None:
    """`ui --host 0.0.0.0` is refused without --allow-remote, and without --token."""
    home = ["--home", str(demo_home)]
    plain = _cli("ui", "--host", "0.0.0.0", *home)
    assert plain.returncode == 2 and "--allow-remote" in plain.stderr
    no_token = _cli("ui", "--host", "0.0.0.0", "--allow-remote", *home)
    assert no_token.returncode == 2 and "--token" in no_token.stderr
    short = _cli("ui", "--token", "abc", *home)
    assert short.returncode == 2


def test_the_ui_serves_while_a_process_writes(tmp_path: Path) -> None:
    """`otel-agents ui` (a real server on 127.0.0.1) answers every page while the demo writes."""
    run_demo(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "otel_agents.cli", "ui", "--port", "0", "--home", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("otel-agents ui: http://127.0.0.1:"), line
        url = line.split()[2]
        writer = subprocess.Popen(
            [sys.executable, "-m", "otel_agents.cli", "demo", "--home", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        statuses = []
        with httpx.Client(base_url=url, timeout=10) as http:
            while writer.poll() is None:
                statuses.extend(http.get(p).status_code for p in ("/", "/graph", "/stats"))
            writer.wait(timeout=60)
            assert http.get("/").text.count('href="/run/demo-T-') == 6
        assert statuses and set(statuses) == {200}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_port_in_use_is_one_error_line(demo_home: Path) -> None:
    """`ui --port P` with P taken exits 1 with one line naming the address, not a server log."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        result = _cli("ui", "--port", str(taken.getsockname()[1]), "--home", str(demo_home))
    finally:
        taken.close()
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("otel-agents ui: starting")]
    assert len(lines) == 1 and "cannot listen on 127.0.0.1:" in lines[0], result.stderr
