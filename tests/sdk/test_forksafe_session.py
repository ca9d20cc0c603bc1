"""OTLP/HTTP sessions after fork: a child never writes to a keep-alive connection its parent opened."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator

import pytest
import requests

from otel_agents.sdk._forksafe_session import ForkSafeSession, session_for
from tests.integrations.conftest import HOST


class _Server:
    def __init__(self) -> None:
        self.ports: list[int] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.ports.append(self.client_address[1])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/v1/traces"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _post_in_child(session: requests.Session, url: str) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            session.post(url, data=b"x", timeout=5)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


@pytest.mark.parametrize(
    ("session_type", "child_reuses"), [(requests.Session, True), (ForkSafeSession, False)]
)
def test_child_opens_its_own_connection(
    server: _Server, session_type: type[requests.Session], child_reuses: bool
) -> None:
    """A plain requests session reuses the parent's pooled socket in a forked child; ForkSafeSession opens a new one and leaves the parent's intact."""
    session = session_type()
    session.post(server.url, data=b"x", timeout=5)
    _post_in_child(session, server.url)
    session.post(server.url, data=b"x", timeout=5)
    parent_first, child, parent_again = server.ports
    assert (child == parent_first) is child_reuses
    assert parent_again == parent_first


def test_credential_provider_variables_keep_the_exporters_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """When a credential provider variable is set, no session is imposed: the exporter loads the provider's."""
    assert isinstance(session_for("traces"), ForkSafeSession)
    monkeypatch.setenv("OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER", "gcp")
    assert session_for("traces") is None
    assert isinstance(session_for("logs"), ForkSafeSession)
