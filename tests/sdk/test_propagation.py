"""Run-context baggage stays in the process unless the destination host is allow-listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from tests.support.fake_llm import HeaderServer

requests = pytest.importorskip("requests")


@pytest.fixture
def host() -> Iterator[HeaderServer]:
    server = HeaderServer()
    yield server
    server.close()


@pytest.fixture
def requests_instrumented() -> Iterator[None]:
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    instrumentor = RequestsInstrumentor()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


def _call(url: str) -> None:
    """One GET inside a run context with a user baggage entry; the headers the server saw."""
    token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with (
            oa.run_context(run_id="r-secret-1", session_id="s-secret-2", user_id="u-secret-3"),
            oa.tool("fetch"),
        ):
            requests.get(url + "/x", timeout=5)
    finally:
        otel_context.detach(token)


def _received(server: HeaderServer) -> dict[str, str]:
    (request,) = server.requests
    return {k.lower(): v for k, v in request.headers.items()}


def test_run_context_keys_not_sent_by_default(
    pipeline: Any, host: HeaderServer, requests_instrumented: None
) -> None:
    """With no allow-list the request carries traceparent and the user's baggage, not our ids."""
    _call(host.url)
    headers = _received(host)
    assert "traceparent" in headers
    assert "tenant=acme" in headers.get("baggage", "")
    for secret in ("r-secret-1", "s-secret-2", "u-secret-3"):
        assert secret not in str(headers)
    # The spans keep them.
    (http,) = [s for s in pipeline.spans() if s.name == "GET"]
    assert http.attributes[semconv.USER_ID] == "u-secret-3"


def test_allow_listed_host_gets_run_context(
    make_pipeline: Any, host: HeaderServer, requests_instrumented: None
) -> None:
    """An allow-listed host (here by pattern) receives the run-context keys in W3C baggage."""
    make_pipeline(baggage_hosts=["127.0.0.*"])
    _call(host.url)
    sent = _received(host)["baggage"]
    assert "session.id=s-secret-2" in sent and "tenant=acme" in sent
    assert "otel_agents.run.id=r-secret-1" in sent
