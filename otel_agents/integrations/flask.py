"""``setup_monitoring(app)`` for Flask: request spans, ``/health``, ``/metrics`` and request ids."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

try:
    import flask
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "otel_agents.integrations.flask needs the flask extra: pip install 'otel-agents[flask]'"
    ) from exc

from otel_agents.api._guard import never_raise
from otel_agents.integrations import prometheus
from otel_agents.integrations._flask_native import instrument
from otel_agents.integrations._request import HEADER, request_context, request_id_from
from otel_agents.integrations._setup import (
    Monitoring,
    ensure_pipeline,
    env_excluded_urls,
    excluded_url_patterns,
)
from otel_agents.integrations.health import BROKEN, HealthRegistry, HealthReport

__all__ = ["Monitoring", "setup_monitoring"]

_EXTENSION_KEY = "otel_agents_monitoring"
_SCOPE_KEY = "_otel_agents_request_scope"


def setup_monitoring(
    app: flask.Flask,
    *,
    service_name: str | None = None,
    health: HealthRegistry | None = None,
    health_path: str | None = "/health",
    metrics_path: str | None = "/metrics",
    excluded_urls: Sequence[str] = (),
    native_http: bool = True,
    **options: Any,
) -> Monitoring:
    """Instrument ``app`` once; add ``/health``, ``/metrics``, request ids; ``options`` go to configure().

    Requests are traced by our own hooks (``_flask_native``), or with ``native_http=False`` by the
    contrib ``FlaskInstrumentor``; under opentelemetry-instrument by the instrumentor it installed.
    """
    existing = app.extensions.get(_EXTENSION_KEY)
    if isinstance(existing, Monitoring):
        return existing
    telemetry = ensure_pipeline(service_name, metrics_path is not None, options)
    registry = health if health is not None else HealthRegistry()
    # Under opentelemetry-instrument the app is already instrumented: a second pass would double spans.
    if not getattr(app, "_is_instrumented_by_opentelemetry", False):
        patterns = [
            *env_excluded_urls("FLASK"),
            *excluded_url_patterns((health_path, metrics_path)),
            *excluded_urls,
        ]
        if native_http:
            # Our hooks bind the request ids too, in the one context they attach for the span.
            instrument(app, telemetry, patterns)
        else:
            FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
                app,
                tracer_provider=telemetry.tracer_provider,
                meter_provider=telemetry.meter_provider,
                excluded_urls=",".join(patterns),
            )
            _bind_request_ids(app)
    else:
        _bind_request_ids(app)
    if health_path is not None:
        app.add_url_rule(health_path, "otel_agents_health", _health_view(registry), methods=["GET"])
    if metrics_path is not None:
        app.add_url_rule(metrics_path, "otel_agents_metrics", _metrics_view, methods=["GET"])
    monitoring = Monitoring(telemetry=telemetry, health=registry)
    app.extensions[_EXTENSION_KEY] = monitoring
    return monitoring


def _bind_request_ids(app: flask.Flask) -> None:
    """Request ids beside the contrib instrumentor's spans: registered after its hooks, so the
    server span exists when ours run."""
    app.before_request(_enter_request)
    app.after_request(_add_header)
    app.teardown_request(_exit_request)


def _enter_request() -> None:
    request_id = request_id_from(flask.request.headers.get(HEADER))
    scope = contextlib.ExitStack()
    scope.enter_context(request_context(request_id))
    setattr(flask.g, _SCOPE_KEY, (request_id, scope))


def _add_header(response: flask.Response) -> flask.Response:
    with never_raise("integrations.flask.response_header"):
        bound = getattr(flask.g, _SCOPE_KEY, None)
        if bound is not None and HEADER not in response.headers:
            response.headers[HEADER] = bound[0]
    return response


def _exit_request(exc: BaseException | None) -> None:
    bound = getattr(flask.g, _SCOPE_KEY, None)
    if bound is not None:
        delattr(flask.g, _SCOPE_KEY)
        bound[1].close()


def _health_view(registry: HealthRegistry) -> Any:
    def health() -> flask.Response:
        report: HealthReport = BROKEN
        with never_raise("integrations.flask.health"):
            report = registry.run()
        return flask.Response(report.body(), status=report.status_code, mimetype="application/json")

    return health


def _metrics_view() -> flask.Response:
    body, content_type = prometheus.render()
    return flask.Response(body, content_type=content_type)
