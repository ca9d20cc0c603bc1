"""``setup_monitoring(app)`` for FastAPI: contrib tracing, ``/health``, ``/metrics`` and request ids."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, cast

try:
    from fastapi import FastAPI
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "otel_agents.integrations.fastapi needs the fastapi extra: pip install 'otel-agents[fastapi]'"
    ) from exc

from otel_agents.api._guard import never_raise
from otel_agents.integrations import prometheus
from otel_agents.integrations._fastapi_native import native_config, use_native
from otel_agents.integrations._request import HEADER_LOWER, request_context, request_id_from
from otel_agents.integrations._setup import (
    Monitoring,
    ensure_pipeline,
    env_excluded_urls,
    excluded_url_patterns,
)
from otel_agents.integrations.health import BROKEN, HealthRegistry, HealthReport
from otel_agents.sdk._configure import Telemetry

__all__ = ["Monitoring", "RequestIdMiddleware", "setup_monitoring"]

_STATE_KEY = "otel_agents_monitoring"
_HEADER_BYTES = HEADER_LOWER.encode("latin-1")


class RequestIdMiddleware:
    """ASGI middleware: bind the request id to spans and logs and return it as ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope))
        encoded = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                with never_raise("integrations.fastapi.response_header"):
                    headers = list(message.get("headers", ()))
                    if not any(name.lower() == _HEADER_BYTES for name, _ in headers):
                        message = {**message, "headers": [*headers, (_HEADER_BYTES, encoded)]}
            await send(message)

        with request_context(request_id):
            await self.app(scope, receive, send_with_id)


@never_raise("integrations.fastapi.header")
def _header(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == _HEADER_BYTES:
            return cast(bytes, value)
    return None


def setup_monitoring(
    app: FastAPI,
    *,
    service_name: str | None = None,
    health: HealthRegistry | None = None,
    health_path: str | None = "/health",
    metrics_path: str | None = "/metrics",
    excluded_urls: Sequence[str] = (),
    exclude_spans: Sequence[Literal["receive", "send"]] = ("receive", "send"),
    native_http: bool = True,
    operation_spans: bool = False,
    **options: Any,
) -> Monitoring:
    """Instrument ``app`` once; add ``/health``, ``/metrics``, request ids; ``options`` go to configure().

    On FastAPI 0.165+ the request spans and HTTP metrics are FastAPI's own telemetry (about a third
    cheaper per request than contrib's middleware), sent to our pipeline, without its per-operation
    spans unless ``operation_spans=True``; ``native_http=False`` uses contrib's instrumentor, whose
    ``receive``/``send`` spans ``exclude_spans`` leaves out.
    """
    existing = getattr(app.state, _STATE_KEY, None)
    if isinstance(existing, Monitoring):
        return existing
    telemetry = ensure_pipeline(service_name, metrics_path is not None, options)
    registry = health if health is not None else HealthRegistry()
    if health_path is not None:
        app.add_api_route(health_path, _health_endpoint(registry), methods=["GET"], include_in_schema=False)
    if metrics_path is not None:
        app.add_api_route(metrics_path, _metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestIdMiddleware)
    patterns = [
        *env_excluded_urls("FASTAPI"),
        *excluded_url_patterns((health_path, metrics_path)),
        *excluded_urls,
    ]
    native = native_config(app) if native_http else None
    # Under opentelemetry-instrument the app is already instrumented: a second pass would double
    # spans (FastAPI's own telemetry then stands aside by itself).
    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        pass
    elif native is not None:
        use_native(native, telemetry, excluded=patterns, operation_spans=operation_spans)
    else:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            excluded_urls=",".join(patterns),
            exclude_spans=list(exclude_spans) or None,
        )
    _flush_at_shutdown(app, telemetry)
    monitoring = Monitoring(telemetry=telemetry, health=registry)
    setattr(app.state, _STATE_KEY, monitoring)
    return monitoring


def _flush_at_shutdown(app: FastAPI, telemetry: Telemetry) -> None:
    # uvicorn ends by re-raising SIGTERM with the default action, which skips atexit: export at
    # lifespan shutdown instead, the last moment the server gives the app.
    original = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        try:
            async with original(target) as state:
                yield state
        finally:
            with never_raise("integrations.fastapi.flush"):
                await asyncio.to_thread(telemetry.force_flush)

    app.router.lifespan_context = lifespan


def _health_endpoint(registry: HealthRegistry) -> Any:
    async def health() -> Response:
        report: HealthReport = BROKEN
        with never_raise("integrations.fastapi.health"):
            report = await registry.run_async()
        return Response(report.body(), status_code=report.status_code, media_type="application/json")

    return health


async def _metrics_endpoint(request: Request) -> Response:
    body, content_type = prometheus.render()
    return Response(body, media_type=content_type)
