"""The Flask example service under gunicorn, without the launcher, exporting to the local store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.conftest import (
    Server,
    Span,
    assert_run_trace,
    free_port,
    gunicorn,
    post_run,
    request,
    server_env,
    store_spans,
    wait_for,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("flask")
    home = tmp / "home"
    port = free_port()
    argv = gunicorn("flask_service:app", port, "--no-control-socket", "-w", "1")
    server = Server(argv, server_env(home), port, tmp / "server.log")
    server.start()
    yield server, home
    server.kill()


def test_request_trace_in_store(service: tuple[Server, Path]) -> None:
    """One Flask request yields one stored trace with the server span and all agent spans, each carrying the baggage's run context and the request id."""
    server, home = service
    post_run(server.url, "flask-req-1")

    def complete() -> list[Span] | None:
        spans = store_spans(home)
        tagged = [s for s in spans if s.attributes.get("otel_agents.request.id") == "flask-req-1"]
        return spans if len(tagged) >= 7 else None

    assert_run_trace(wait_for(complete), "flask-req-1")


def test_hostile_headers_never_break_a_request(service: tuple[Server, Path]) -> None:
    """Malformed X-Request-ID and baggage headers are tolerated: 200, and a fresh request id is returned."""
    server, _ = service
    for request_id, baggage in (
        ("bad id", "=;;,,"),
        ("x" * 300, "user.id=" + "u" * 4000),
        ("<x>", "k=v;" * 200),
    ):
        response = request(
            server.url + "/run", {"question": "q"}, headers={"X-Request-ID": request_id, "baggage": baggage}
        )
        assert response.status == 200, response.body
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_health_and_metrics(service: tuple[Server, Path]) -> None:
    """Flask serves /health as JSON (200) and /metrics as Prometheus text with the agent metrics."""
    server, _ = service
    post_run(server.url, "flask-req-metrics")
    health = request(server.url + "/health")
    assert health.status == 200 and health.json()["status"] == "pass"

    def scraped() -> str | None:
        text = request(server.url + "/metrics").body.decode()
        return text if "gen_ai_invoke_agent" in text else None

    text = wait_for(scraped)
    assert "target_info{" in text and 'service_name="flask-service"' in text
