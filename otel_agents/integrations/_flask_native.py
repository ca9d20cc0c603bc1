"""Flask request spans without the contrib middleware: one SERVER span per request, stable HTTP keys.

The contrib instrumentor builds a span with some twenty attributes and records two metric
instruments per request, which cost a Flask app more than our agent spans do. Here a request gets
one span whose attributes are read straight from the WSGI environ, and its duration metric
(``http.server.request.duration``) is derived from that span off the request path, with the
span-derived metrics (``sdk/processors/_span_metrics.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import flask
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained
from otel_agents.api._run_context import with_ids
from otel_agents.api._version import __version__
from otel_agents.integrations._request import HEADER, request_id_from
from otel_agents.sdk._configure import Telemetry

# Where a request's span and context token wait for its teardown: in its WSGI environ, which is
# the request's own (``flask.g`` is the app context's, shared by a request made inside another).
_ENVIRON_KEY: Final = "otel_agents.server_span"
# The methods HTTP defines (RFC 9110, RFC 5789, the QUERY draft); any other is "_OTHER", as the
# conventions ask: a client must not mint span names or metric series.
_METHODS: Final = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
_OTHER: Final = semconv.HTTP_METHOD_OTHER
_REQUEST_ID_KEY: Final = "HTTP_" + HEADER.upper().replace("-", "_")
_PROTOCOLS: Final = {"HTTP/1.0": "1.0", "HTTP/1.1": "1.1", "HTTP/2": "2", "HTTP/2.0": "2", "HTTP/3": "3"}
_SERVER_ERROR: Final = 500


class _EnvironGetter(Getter[Any]):
    """Reads propagation headers (``traceparent``, ``baggage``) from a WSGI environ."""

    def get(self, carrier: Any, key: str) -> list[str] | None:
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Any) -> list[str]:
        return [
            k[5:].lower().replace("_", "-") for k in carrier if isinstance(k, str) and k.startswith("HTTP_")
        ]


_GETTER: Final = _EnvironGetter()


def instrument(app: flask.Flask, telemetry: Telemetry, excluded: Sequence[str]) -> None:
    """Trace ``app``'s requests into ``telemetry``, except those whose URL one of ``excluded`` finds,
    and bind each request's id (``X-Request-ID``, see ``_request``) to its span, to every span and
    log record below and to its response, excluded ones included.

    The hooks go first among the app's before-request hooks and last among its teardown hooks, so
    the span covers the others.
    """
    tracer = telemetry.tracer_provider.get_tracer(
        semconv.FLASK_SCOPE_NAME, __version__, schema_url=semconv.SCHEMA_URL
    )
    skip = re.compile("|".join(excluded)) if excluded else None
    if telemetry.span_metrics is not None:
        telemetry.span_metrics.derive_http_from(semconv.FLASK_SCOPE_NAME)

    def start_span() -> None:
        try:
            environ = flask.request.environ
            request_id = request_id_from(environ.get(_REQUEST_ID_KEY))
            traced = skip is None or skip.search(_url(environ)) is None
            span, ctx = _request_context(tracer if traced else None, environ, request_id)
            environ[_ENVIRON_KEY] = (span, otel_context.attach(ctx), request_id)
        except Exception as exc:
            if not contained("integrations.flask.request_start", exc):
                raise

    def note_response(response: flask.Response) -> flask.Response:
        try:
            bound = flask.request.environ.get(_ENVIRON_KEY)
            if bound is not None:
                span, _, request_id = bound
                if span is not None:
                    _set_status(span, response.status_code)
                if HEADER not in response.headers:
                    response.headers[HEADER] = request_id
        except Exception as exc:
            if not contained("integrations.flask.response", exc):
                raise
        return response

    def end_span(exc: BaseException | None) -> None:
        try:
            bound = flask.request.environ.pop(_ENVIRON_KEY, None)
            if bound is None:
                return
            span, token, _ = bound
            if span is not None:
                if exc is not None:
                    span.record_exception(exc)
                    span.set_attribute(semconv.ERROR_TYPE, type(exc).__qualname__)
                    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__qualname__}: {exc}"))
                span.end()
            otel_context.detach(token)
        except Exception as error:
            if not contained("integrations.flask.request_end", error):
                raise

    app.before_request_funcs.setdefault(None, []).insert(0, start_span)
    app.after_request(note_response)
    # Teardown hooks run in reverse order of registration: ours, first in the list, runs last.
    app.teardown_request_funcs.setdefault(None, []).insert(0, end_span)


def _request_context(
    tracer: trace.Tracer | None, environ: Any, request_id: str
) -> tuple[trace.Span | None, otel_context.Context]:
    """The request's span (none when ``tracer`` is None: an excluded URL) and its context."""
    # On top of the current context: a server thread's is empty, and a request the app makes to
    # itself inside a view is the child of the view's span.
    ctx = otel_context.get_current()
    if tracer is not None:
        ctx = propagate.extract(environ, context=ctx, getter=_GETTER)
    # The request id, bound as request_context binds it, over any a caller's baggage sent: the
    # run-context stamp puts it on the server span, every span below and every log record.
    ctx = with_ids(ctx, ((semconv.REQUEST_ID, request_id),))
    if tracer is None:
        return None, ctx
    span = _start(tracer, environ, ctx)
    return span, trace.set_span_in_context(span, ctx)


def _start(tracer: trace.Tracer, environ: Any, parent: otel_context.Context) -> trace.Span:
    """The request's SERVER span, named by its route."""
    rule = flask.request.url_rule
    route = rule.rule if rule is not None else None
    attributes, method = _request_attributes(environ, route)
    name = semconv.HTTP_SPAN_NAME_OTHER if method == _OTHER else f"{method} {route}" if route else method
    return tracer.start_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)


def _request_attributes(environ: Any, route: str | None) -> tuple[dict[str, Any], str]:
    """The span's attributes at its start (stable HTTP conventions), and the method it names."""
    original = environ.get("REQUEST_METHOD") or ""
    method = original if original in _METHODS else _OTHER
    attributes: dict[str, Any] = {
        semconv.HTTP_REQUEST_METHOD: method,
        semconv.URL_SCHEME: environ.get("wsgi.url_scheme") or "http",
        semconv.URL_PATH: (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "") or "/",
    }
    if method is _OTHER and original:
        attributes[semconv.HTTP_REQUEST_METHOD_ORIGINAL] = original
    if route:
        attributes[semconv.HTTP_ROUTE] = route
    query = environ.get("QUERY_STRING")
    if query:
        attributes[semconv.URL_QUERY] = query
    protocol = _PROTOCOLS.get(environ.get("SERVER_PROTOCOL") or "")
    if protocol is not None:
        attributes[semconv.NETWORK_PROTOCOL_VERSION] = protocol
    host, port = _host(environ)
    if host:
        attributes[semconv.SERVER_ADDRESS] = host
    if port is not None:
        attributes[semconv.SERVER_PORT] = port
    client = environ.get("REMOTE_ADDR")
    if client:
        attributes[semconv.CLIENT_ADDRESS] = client
    agent = environ.get("HTTP_USER_AGENT")
    if agent:
        attributes[semconv.USER_AGENT_ORIGINAL] = agent
    return attributes, method


def _host(environ: Any) -> tuple[str | None, int | None]:
    """``server.address`` and ``server.port``: from the Host header, else the server's own name."""
    header = environ.get("HTTP_HOST")
    if isinstance(header, str) and header:
        # "[::1]:8080" splits at its last colon; "[::1]" has none after its bracket.
        name, colon, port = header.rpartition(":")
        if colon and not name.endswith(":"):
            return name, _port(port)
        return header, None
    return environ.get("SERVER_NAME"), _port(environ.get("SERVER_PORT"))


def _port(text: object) -> int | None:
    if isinstance(text, str) and 0 < len(text) <= 5 and text.isascii() and text.isdigit():
        number = int(text)
        return number if number <= 65535 else None
    return None


def _set_status(span: Any, status: int) -> None:
    span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, status)
    if status >= _SERVER_ERROR:
        span.set_attribute(semconv.ERROR_TYPE, str(status))
        span.set_status(Status(StatusCode.ERROR))


def _url(environ: Any) -> str:
    """The request's URL, as the exclusion patterns are searched in it (contrib's semantics)."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
    url = f"{environ.get('wsgi.url_scheme') or 'http'}://{host}"
    url += (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    query = environ.get("QUERY_STRING")
    return f"{url}?{query}" if query else url
