"""On FastAPI 0.165+, setup_monitoring sends FastAPI's own request telemetry to our pipeline, not contrib's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import otel_agents as oa
from otel_agents.integrations._fastapi_native import native_config
from otel_agents.integrations.fastapi import setup_monitoring

pytestmark = pytest.mark.skipif(
    native_config(FastAPI()) is None, reason="this FastAPI has no native telemetry"
)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        with oa.tool("lookup"):
            return {"item": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def _requests(pipeline: Any, app: FastAPI, *paths: str) -> list[Any]:
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in paths:
            client.get(path)
    return pipeline.spans()  # type: ignore[no-any-return]


def test_one_server_span_per_request_from_fastapi_itself(pipeline: Any) -> None:
    """A request gives one SERVER span from FastAPI's scope, named by route, with the status code,
    the tool span below it, no contrib or per-operation spans, and the duration metric."""
    app = _app()
    setup_monitoring(app)
    spans = _requests(pipeline, app, "/items/7")
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert [s.name for s in server] == ["GET /items/{item_id}"]
    assert server[0].instrumentation_scope.name == "fastapi"
    assert server[0].attributes["http.route"] == "/items/{item_id}"
    assert server[0].attributes["http.response.status_code"] == 200
    tool = next(s for s in spans if s.name == "execute_tool lookup")
    assert tool.parent is not None and tool.parent.span_id == server[0].context.span_id
    assert not [s for s in spans if s.name.startswith("fastapi.")]
    assert not [s for s in spans if "opentelemetry.instrumentation" in s.instrumentation_scope.name]
    [point] = pipeline.metric_points("http.server.request.duration")
    assert point.count == 1 and point.attributes["http.route"] == "/items/{item_id}"


def test_health_and_metrics_are_not_traced_and_errors_are(pipeline: Any) -> None:
    """/health and /metrics make no span; an unhandled exception marks its server span as an error."""
    app = _app()
    setup_monitoring(app)
    spans = _requests(pipeline, app, "/health", "/metrics", "/boom")
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert [s.name for s in server] == ["GET /boom"]
    assert server[0].status.status_code.name == "ERROR"
    assert server[0].attributes["error.type"] == "RuntimeError"


def test_operation_spans_and_contrib_on_request(pipeline: Any) -> None:
    """operation_spans=True brings FastAPI's per-operation spans back."""
    app = _app()
    setup_monitoring(app, operation_spans=True)
    spans = _requests(pipeline, app, "/items/1")
    assert any(s.name == "fastapi.endpoint" for s in spans)


def test_native_http_false_uses_contrib(pipeline: Any) -> None:
    """native_http=False instruments with contrib's FastAPI instrumentor; FastAPI's own stands aside."""
    app = _app()
    setup_monitoring(app, native_http=False)
    spans = _requests(pipeline, app, "/items/1")
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert len(server) == 1
    assert server[0].instrumentation_scope.name == "opentelemetry.instrumentation.fastapi"


def test_the_request_duration_comes_from_the_span_not_from_instruments_per_request(pipeline: Any) -> None:
    """FastAPI's own per-request instruments are off: http.server.request.duration is derived from
    its SERVER spans (failures under error.type), once per request, and http.server.active_requests
    is not recorded; an app that makes no agent span still has the duration."""
    app = FastAPI()

    @app.get("/ping/{n}")
    async def ping(n: int) -> dict[str, int]:
        if n == 0:
            raise RuntimeError("boom")
        return {"n": n}

    setup_monitoring(app)
    assert app._telemetry["metrics"] is False  # type: ignore[attr-defined]
    _requests(pipeline, app, *[f"/ping/{i % 3}" for i in range(30)])
    points = pipeline.metric_points("http.server.request.duration")
    assert sum(p.count for p in points) == 30
    by_status = {p.attributes["http.response.status_code"]: p for p in points}
    assert by_status[200].count == 20 and by_status[200].attributes["http.route"] == "/ping/{n}"
    assert by_status[500].count == 10 and by_status[500].attributes["error.type"] == "RuntimeError"
    assert all(p.attributes["url.scheme"] == "http" for p in points)
    assert not pipeline.metric_points("http.server.active_requests")
