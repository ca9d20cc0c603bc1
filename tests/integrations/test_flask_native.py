"""Flask request spans without the contrib middleware: one SERVER span each, metrics from the spans."""

from __future__ import annotations

from typing import Any

import flask
import pytest

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.integrations.flask import setup_monitoring

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
PARENT_ID = 0xB7AD6B7169203331
TRACEPARENT = f"00-{TRACE_ID:032x}-{PARENT_ID:016x}-01"


def _app(make_pipeline: Any, **setup: Any) -> tuple[flask.Flask, Any]:
    captured = make_pipeline()
    app = flask.Flask("native")

    @app.get("/items/<int:n>")
    def items(n: int) -> dict[str, int]:
        with oa.agent("support"), oa.tool("lookup"):
            pass
        if n == 5:
            raise ValueError("boom")
        if n == 6:
            flask.abort(503)
        return {"n": n}

    setup.setdefault("metrics_path", None)
    setup_monitoring(app, **setup)
    return app, captured


def _server_spans(captured: Any) -> list[Any]:
    return [s for s in captured.spans() if s.kind.name == "SERVER"]


def test_one_server_span_per_request_in_the_stable_http_conventions(make_pipeline: Any) -> None:
    """A request gets one SERVER span of our scope under the caller's trace, named by its route, with
    the stable HTTP keys; the agent spans of the view are its children and share its request id."""
    app, captured = _app(make_pipeline)
    response = app.test_client().get(
        "/items/3?x=1",
        headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-1", "Host": "api.example:8443"},
    )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "req-1"
    (server,) = _server_spans(captured)
    assert server.name == "GET /items/<int:n>"
    assert server.instrumentation_scope.name == semconv.FLASK_SCOPE_NAME
    assert (server.context.trace_id, server.parent.span_id) == (TRACE_ID, PARENT_ID)
    attrs = dict(server.attributes)
    assert {k: attrs.get(k) for k in (
        semconv.HTTP_REQUEST_METHOD, semconv.URL_SCHEME, semconv.URL_PATH, semconv.URL_QUERY, semconv.HTTP_ROUTE,
        semconv.HTTP_RESPONSE_STATUS_CODE, semconv.NETWORK_PROTOCOL_VERSION, semconv.SERVER_ADDRESS,
        semconv.SERVER_PORT, semconv.REQUEST_ID,
    )} == {
        semconv.HTTP_REQUEST_METHOD: "GET", semconv.URL_SCHEME: "http", semconv.URL_PATH: "/items/3",
        semconv.URL_QUERY: "x=1", semconv.HTTP_ROUTE: "/items/<int:n>", semconv.HTTP_RESPONSE_STATUS_CODE: 200,
        semconv.NETWORK_PROTOCOL_VERSION: "1.1", semconv.SERVER_ADDRESS: "api.example", semconv.SERVER_PORT: 8443,
        semconv.REQUEST_ID: "req-1",
    }  # fmt: skip
    assert server.status.status_code.name == "UNSET"
    agent = captured.span("invoke_agent support")
    assert agent.parent.span_id == server.context.span_id
    assert agent.attributes[semconv.REQUEST_ID] == "req-1"


def test_failures_mark_the_span_and_unknown_methods_name_none(make_pipeline: Any) -> None:
    """An exception and a 5xx set error.type and the error status; a 404 is named by its method alone;
    a method HTTP does not define is "_OTHER" in a span named "HTTP", its spelling kept aside."""
    app, captured = _app(make_pipeline)
    client = app.test_client()
    assert client.get("/items/5").status_code == 500
    assert client.get("/items/6").status_code == 503
    assert client.get("/nowhere").status_code == 404
    assert client.open("/items/3", method="BREW").status_code == 405
    by_path = {
        (s.attributes[semconv.URL_PATH], s.attributes[semconv.HTTP_REQUEST_METHOD]): s
        for s in _server_spans(captured)
    }
    raised = by_path[("/items/5", "GET")]
    assert raised.status.status_code.name == "ERROR"
    assert raised.attributes[semconv.ERROR_TYPE] == "ValueError"
    assert [e.name for e in raised.events] == ["exception"]
    aborted = by_path[("/items/6", "GET")]
    assert (aborted.attributes[semconv.ERROR_TYPE], aborted.status.status_code.name) == ("503", "ERROR")
    missing = by_path[("/nowhere", "GET")]
    assert missing.name == "GET" and semconv.HTTP_ROUTE not in missing.attributes
    assert missing.status.status_code.name == "UNSET" and semconv.ERROR_TYPE not in missing.attributes
    brewed = by_path[("/items/3", "_OTHER")]
    assert brewed.name == "HTTP" and brewed.attributes[semconv.HTTP_REQUEST_METHOD_ORIGINAL] == "BREW"


def test_request_durations_are_derived_with_labels_the_server_chose(make_pipeline: Any) -> None:
    """http.server.request.duration counts every request once, under method, route, status and
    scheme: 300 Host headers, paths and made-up methods mint no label set of their own."""
    app, captured = _app(make_pipeline)
    client = app.test_client()
    for i in range(300):
        method = "GET" if i % 3 else f"M{i}"
        client.open(f"/items/{i % 4}?q={i}", method=method, headers={"Host": f"host-{i}.example:{i + 1}"})
        client.get(f"/path-{i}")
    captured.spans()
    points = captured.metric_points(semconv.METRIC_HTTP_SERVER_DURATION)
    assert sum(p.count for p in points) == 600
    label_sets = {tuple(sorted(p.attributes.items())) for p in points}
    assert len(label_sets) <= 4, label_sets
    for point in points:
        assert set(point.attributes) <= semconv.HTTP_SERVER_METRIC_KEYS, point.attributes
        assert not any("host-" in str(v) or "path-" in str(v) for v in point.attributes.values())
    ok = [p for p in points if p.attributes.get(semconv.HTTP_RESPONSE_STATUS_CODE) == 200]
    assert ok and ok[0].attributes[semconv.HTTP_ROUTE] == "/items/<int:n>"
    assert sum(p.count for p in ok) == 200


def test_health_metrics_and_excluded_urls_are_not_traced(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/health, /metrics, an excluded_urls pattern and one from OTEL_PYTHON_FLASK_EXCLUDED_URLS
    make no span and no duration; other paths do."""
    monkeypatch.setenv("OTEL_PYTHON_FLASK_EXCLUDED_URLS", "items/2")
    app, captured = _app(make_pipeline, metrics_path="/metrics", excluded_urls=[r"items/1(\?|$)"])
    client = app.test_client()
    for path in ("/health", "/metrics", "/items/1", "/items/2?x=1", "/items/3"):
        assert client.get(path).status_code == 200, path
    assert [s.attributes[semconv.URL_PATH] for s in _server_spans(captured)] == ["/items/3"]
    assert sum(p.count for p in captured.metric_points(semconv.METRIC_HTTP_SERVER_DURATION)) == 1


def test_native_http_false_keeps_the_contrib_instrumentor(make_pipeline: Any) -> None:
    """With native_http=False the contrib FlaskInstrumentor traces the requests instead of our hooks."""
    app, captured = _app(make_pipeline, native_http=False)
    assert app.test_client().get("/items/3").status_code == 200
    (server,) = _server_spans(captured)
    assert server.instrumentation_scope.name == "opentelemetry.instrumentation.flask"


def test_hostile_request_lines_and_headers_never_break_a_request(make_pipeline: Any) -> None:
    """Odd Host headers, protocols and propagation headers leave the request served and traced,
    with no internal error counted."""
    app, captured = _app(make_pipeline)
    stats.reset()
    hostile: list[dict[str, Any]] = [
        {"headers": {"Host": "[::1]:8080"}},
        {"headers": {"Host": "[::1"}},
        {"headers": {"Host": ":::"}},
        {"headers": {"Host": "h:99999999"}},
        {"headers": {"Host": "h:\u00b2"}},
        {"headers": {"Host": "x" * 10_000}},
        {"headers": {"traceparent": "00-zz-yy-01", "baggage": "=;;,," * 50}},
        {"environ_overrides": {"SERVER_PROTOCOL": "HTTP/7.3", "REMOTE_ADDR": ""}},
        {"environ_overrides": {"REQUEST_METHOD": "G\u00e9T"}},
    ]
    client = app.test_client()
    for extra in hostile:
        assert client.get("/items/3", **extra).status_code in (200, 400, 405), extra
    servers = _server_spans(captured)
    assert len(servers) == len(hostile)
    assert not stats.errors()
    ports = {s.attributes.get(semconv.SERVER_PORT) for s in servers}
    assert ports <= {None, 8080}


def test_a_hook_that_answers_first_and_a_request_inside_a_request_are_each_traced(make_pipeline: Any) -> None:
    """A before-request hook of the app that answers by itself still gets its request's span ended,
    and a request the app makes to itself inside a view gets a span of its own, a child of the first."""
    app, captured = _app(make_pipeline)

    @app.before_request
    def deny() -> Any:
        return ("no", 401) if flask.request.path == "/items/7" else None

    @app.get("/outer")
    def outer() -> str:
        return app.test_client().get("/items/3").get_data(as_text=True)

    client = app.test_client()
    assert client.get("/items/7").status_code == 401
    assert client.get("/outer").status_code == 200
    spans = {s.attributes[semconv.URL_PATH]: s for s in _server_spans(captured)}
    assert spans["/items/7"].attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 401
    assert spans["/items/3"].parent.span_id == spans["/outer"].context.span_id
    assert spans["/outer"].attributes[semconv.HTTP_RESPONSE_STATUS_CODE] == 200
    assert not stats.errors()


def test_request_ids_reach_the_response_the_spans_and_the_logs_excluded_paths_included(
    make_pipeline: Any,
) -> None:
    """A well-formed X-Request-ID is kept and a hostile one replaced; the id is on the response, on
    the server span, on the spans below and on a log record of the view, and /health answers with
    one too, though it is not traced."""
    import logging
    import re

    app, captured = _app(make_pipeline)

    @app.get("/log")
    def log() -> str:
        logging.getLogger("tests.flask_native").warning("inside the view")
        return "ok"

    client = app.test_client()
    assert client.get("/log", headers={"X-Request-ID": "req-log"}).headers["X-Request-ID"] == "req-log"
    hostile = client.get("/items/3", headers={"X-Request-ID": "bad id <x>"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", hostile)
    health = client.get("/health")
    assert health.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", health.headers["X-Request-ID"])
    by_path = {s.attributes[semconv.URL_PATH]: s for s in _server_spans(captured)}
    assert set(by_path) == {"/log", "/items/3"}
    assert by_path["/log"].attributes[semconv.REQUEST_ID] == "req-log"
    assert captured.span("execute_tool lookup").attributes[semconv.REQUEST_ID] == hostile
    [record] = [r for r in captured.logs() if r.log_record.body == "inside the view"]
    assert record.log_record.attributes[semconv.REQUEST_ID] == "req-log"


def test_the_request_id_wins_over_one_in_the_callers_baggage(make_pipeline: Any) -> None:
    """A request id a caller slips into its baggage names neither the server span nor the spans
    below it: the request's own id (its X-Request-ID, or a new one) does."""
    app, captured = _app(make_pipeline)
    headers = {"X-Request-ID": "req-own", "baggage": f"{semconv.REQUEST_ID}=forged,user.id=u-1"}
    assert app.test_client().get("/items/3", headers=headers).headers["X-Request-ID"] == "req-own"
    (server,) = _server_spans(captured)
    tool = captured.span("execute_tool lookup")
    for span in (server, tool):
        assert span.attributes[semconv.REQUEST_ID] == "req-own", span.name
        assert span.attributes[semconv.USER_ID] == "u-1", span.name
