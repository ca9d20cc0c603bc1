"""The FastAPI example service, without the launcher, exporting to the local store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.conftest import (
    BAGGAGE,
    Server,
    Span,
    assert_run_trace,
    free_port,
    post_run,
    request,
    server_env,
    store_spans,
    uvicorn,
    wait_for,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("fastapi")
    home = tmp / "home"
    port = free_port()
    server = Server(uvicorn("agent_service:app", port), server_env(home), port, tmp / "server.log")
    server.start()
    yield server, home
    server.kill()


def test_request_trace_in_store(service: tuple[Server, Path]) -> None:
    """One request yields one trace in the store: server, workflow, agent, route, LLM and tool spans, all with the baggage's run context."""
    server, home = service
    post_run(server.url, "req-store-1")
    wait_for(lambda: any(s.name == "execute_tool lookup_customer" for s in store_spans(home)))
    trace = wait_for(lambda: _complete(home, "req-store-1"))
    assert_run_trace(trace, "req-store-1")


def _complete(home: Path, request_id: str) -> list[Span] | None:
    spans = store_spans(home)
    roots = [s for s in spans if s.attributes.get("otel_agents.request.id") == request_id]
    return spans if len(roots) >= 7 else None


def test_secret_in_request_is_redacted(service: tuple[Server, Path]) -> None:
    """A secret-looking value echoed from the request into a tool attribute is stored redacted."""
    server, home = service
    secret = "sk-" + "a1B2c3D4" * 5
    post_run(server.url, "req-secret", note=f"use {secret}")
    tool = wait_for(
        lambda: [
            s
            for s in store_spans(home)
            if s.name == "execute_tool lookup_customer"
            and s.attributes.get("otel_agents.request.id") == "req-secret"
        ]
    )[0]
    assert secret not in str(tool.attributes)
    assert "REDACTED" in tool.attributes["app.tool.note"]


def test_new_request_id_when_missing_or_malformed(service: tuple[Server, Path]) -> None:
    """A missing or malformed X-Request-ID is replaced by a fresh id, never echoed back."""
    server, _ = service
    for bad in (None, "", "x" * 500, "bad id\twith\x7fcontrol", "<script>"):
        headers = dict(BAGGAGE) if bad is None else {**BAGGAGE, "X-Request-ID": bad}
        response = request(server.url + "/run", {"question": "q"}, headers=headers)
        assert response.status == 200, response.body
        returned = response.headers["x-request-id"]
        assert returned != bad and re.fullmatch(r"[0-9a-f]{32}", returned), returned
        assert response.json()["request_id"] == returned


def test_malformed_baggage_never_breaks_a_request(service: tuple[Server, Path]) -> None:
    """Malformed, oversized or hostile baggage headers never fail the request."""
    server, _ = service
    for baggage in ("=;;,,", "session.id", "session.id=%ZZ", "user.id=" + "u" * 9000, "k=v;" * 200):
        response = request(
            server.url + "/run", {"question": "q"}, headers={"baggage": baggage, "X-Request-ID": "req-bag"}
        )
        assert response.status == 200, (baggage, response.body)


def test_health_reports_every_check(service: tuple[Server, Path]) -> None:
    """GET /health answers 200 with each registered check's name, status, latency and message."""
    server, _ = service
    response = request(server.url + "/health")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "pass"
    checks = {c["name"]: c for c in body["checks"]}
    assert set(checks) == {"database", "workflow"}
    for check in checks.values():
        assert check["status"] == "pass" and check["latency_ms"] >= 0 and isinstance(check["message"], str)


def test_metrics_expose_agent_metrics(service: tuple[Server, Path]) -> None:
    """GET /metrics is Prometheus text with target_info, the HTTP server metrics and the span-derived agent, tool, routing, token and cost metrics."""
    server, _ = service
    post_run(server.url, "req-metrics")

    def scraped() -> str | None:
        text = request(server.url + "/metrics").body.decode()
        return text if "gen_ai_execute_tool_duration" in text else None

    text = wait_for(scraped)
    assert "target_info{" in text and 'service_name="agent-service"' in text
    for name in (
        "gen_ai_invoke_agent_duration",
        "gen_ai_workflow_duration",
        "gen_ai_client_token_usage",
        "otel_agents_route_decisions",
        "otel_agents_cost",
        "http_server_request_duration",
    ):
        assert name in text, name


def test_health_and_metrics_are_not_traced(service: tuple[Server, Path]) -> None:
    """Requests to /health and /metrics produce no spans."""
    server, home = service
    for _ in range(3):
        request(server.url + "/health")
        request(server.url + "/metrics")
    post_run(server.url, "req-after-probes")
    wait_for(
        lambda: any(
            s.attributes.get("otel_agents.request.id") == "req-after-probes" for s in store_spans(home)
        )
    )
    targets = {
        str(s.attributes.get("http.target", s.attributes.get("url.path", ""))) for s in store_spans(home)
    }
    assert not any(t.startswith(("/health", "/metrics")) for t in targets), targets
