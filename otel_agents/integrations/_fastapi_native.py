"""FastAPI's own OpenTelemetry support (FastAPI 0.165+), pointed at our pipeline instead of contrib's."""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.sdk._configure import Telemetry

Scope = MutableMapping[str, Any]


def native_config(app: Any) -> MutableMapping[str, Any] | None:
    """The app's native telemetry settings when this FastAPI has them, else None (use contrib).

    FastAPI reads them on every request, so changing them after the app was built takes effect.
    """
    config: object = getattr(app, "_telemetry", None)
    if not isinstance(config, dict):
        return None
    if not {"tracing", "metrics", "operation_spans", "exclude"} <= config.keys():
        return None
    engine: object = getattr(app, "_native_telemetry", None)
    return config if getattr(engine, "config", None) is config else None


def use_native(
    config: MutableMapping[str, Any],
    telemetry: Telemetry,
    *,
    excluded: Sequence[str],
    operation_spans: bool,
) -> None:
    """Send FastAPI's own request spans, metrics and logs to ``telemetry``, skipping ``excluded``."""
    config["tracer_provider"] = telemetry.tracer_provider
    config["meter_provider"] = telemetry.meter_provider
    config["logger_provider"] = telemetry.logger_provider
    config["operation_spans"] = operation_spans
    config["exclude"] = _excluder(excluded, config.get("exclude"))
    if telemetry.span_metrics is not None:
        # Its request duration comes from its SERVER span, with the span-derived metrics, instead
        # of two instruments recorded per request (http.server.active_requests goes with them).
        config["metrics"] = False
        telemetry.span_metrics.derive_http_from(semconv.FASTAPI_SCOPE_NAME)


def _excluder(
    patterns: Sequence[str], theirs: Callable[[Scope], bool] | None
) -> Callable[[Scope], bool] | None:
    """The contrib semantics: the regexes are searched in the request's full URL."""
    if not patterns:
        return theirs
    regex = re.compile("|".join(patterns))

    @never_raise("integrations.fastapi.exclude", default=False)
    def exclude(scope: Scope) -> bool:
        if theirs is not None and theirs(scope):
            return True
        return regex.search(_url(scope)) is not None

    return exclude


def _url(scope: Scope) -> str:
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    url = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope.get('path', '')}"
    query = scope.get("query_string")
    return f"{url}?{query.decode('latin-1')}" if query else url
