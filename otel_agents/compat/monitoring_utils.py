"""The shared monitoring utilities' API: setup, metrics, logging, tracing and health, over OTel.

===============================================  =================================================
old call                                         OTel-native equivalent
===============================================  =================================================
``setup_monitoring(app, service_name=)``         ``otel_agents.integrations.fastapi`` / ``.flask``
                                                 ``setup_monitoring``, with this module's health
                                                 checks on ``/health``
``configure_metrics(backend, prefix,             checked like ``configure()``; ``prefix`` and
default_tags, enabled)``                         ``default_tags`` apply to the calls below
``increment_counter(name, value=1, tags=)``      ``meter.create_counter(name).add(value, tags)``
``gauge(name, value, tags=)``                    ``meter.create_gauge(name).set(value, tags)``
``histogram(name, value, tags=)``                ``meter.create_histogram(name).record(value, tags)``
``@record_timer(name, tags=)``                   a histogram ``name`` in seconds around each call
``configure_logging(level, json_format,          stdlib handlers with trace ids in every line; the
log_to_console, log_file, service_name)``        pipeline bridges the same records to OTel logs
``get_logger(name)`` / ``logger.info(msg,        ``logging.getLogger(name).info(msg, extra=kv)``
**kv)``                                          (fields become log record attributes)
``get_request_logger(request_id, user_id,        a logger bound to ``otel_agents.request.id``,
session_id, ip_address)``                        ``user.id``, ``session.id``, ``client.address``
``@trace(name)``                                 ``tracer.start_as_current_span(name)`` per call
``tracer``                                       ``opentelemetry.trace.get_tracer(...)``
``inject_context_into_headers(headers)``         ``opentelemetry.propagate.inject(headers)``
``extract_context_from_headers(headers)``        ``opentelemetry.propagate.extract(headers)``
``@register_health_check(name)``                 ``HealthRegistry.check(name)``, served on /health
``check_health(name=None)``                      ``HealthRegistry.run()`` as the old dict
``check_database_connection(url)``               ``integrations.checks.database_check(url)()``
``check_redis_connection(url)``                  the same for a ``redis://`` URL (TCP connect)
``check_external_service(url, timeout=,          ``integrations.checks.http_check(url)()``
expected_status=)``
``trigger_alert(name, message, severity)``        the alert engine's manual alert
                                                 (``ManualAlerts.trigger``, dedup key = name)
``update_alert(id, message=, severity=,          ``ManualAlerts.update`` (``acknowledge`` for
state=)``                                        ``state=AlertState.ACKNOWLEDGED``)
``resolve_alert(id)``                            ``ManualAlerts.resolve``
``AlertRule(threshold_above=/below=/             a threshold rule checked on the values passed
outside_range=, cooldown_period=).check(v)``     to ``check``; fires and resolves through the
                                                 engine (an alert rule file is the native form)
===============================================  =================================================

Without the alert engine installed, alerts are kept in memory and every state change is the same
OTel log record the engine writes (``otel_agents.alert.state_change``).

The first metric, ``@trace``d call or alert configures the pipeline (``oa.configure()`` from the
environment) unless the app or ``setup_monitoring`` already did. Nothing here raises into the
caller: a bad name, value or tag is logged once and counted. The
configuration calls (``configure_metrics``, ``configure_logging``) check their arguments and raise
on a wrong one, as ``configure()`` does.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Final, TypeVar, cast

import orjson
from opentelemetry import propagate
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context

from otel_agents.api import _semconv as semconv
from otel_agents.api._logs import TraceContextFilter, log_context
from otel_agents.api._version import __version__
from otel_agents.api._walk import safe_str
from otel_agents.compat import _alerting
from otel_agents.compat._alert_rules import RuleClock, describe, evaluate, finite
from otel_agents.compat._support import bad_input, instrument, number, pipeline, tolerant, valid_name
from otel_agents.compat._support import labels as clean_labels
from otel_agents.integrations.checks import database_check, http_check
from otel_agents.integrations.health import PASS, HealthRegistry

__all__ = [
    "AlertRule",
    "AlertSeverity",
    "AlertState",
    "CompatLogger",
    "add_alert_handler",
    "check_database_connection",
    "check_external_service",
    "check_health",
    "check_redis_connection",
    "configure_logging",
    "configure_metrics",
    "extract_context_from_headers",
    "gauge",
    "get_logger",
    "get_request_logger",
    "health_registry",
    "histogram",
    "increment_counter",
    "inject_context_into_headers",
    "record_timer",
    "register_health_check",
    "resolve_alert",
    "setup_monitoring",
    "trace",
    "tracer",
    "trigger_alert",
    "update_alert",
]

F = TypeVar("F", bound=Callable[..., Any])
SCOPE: Final = "monitoring_utils"
BACKENDS: Final = ("prometheus", "otlp", "console", "none")
_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]{0,200}$")
_SCALARS: Final = (str, int, float, bool)
HEALTHY: Final = "healthy"
UNHEALTHY: Final = "unhealthy"

# --- setup ---------------------------------------------------------------------------------------

health_registry = HealthRegistry()


def setup_monitoring(app: Any, service_name: str | None = None, **options: Any) -> Any:
    """Instrument a FastAPI or Flask app (tracing, /health with the registered checks, /metrics)."""
    kind = type(app).__module__.split(".", 1)[0]
    if kind in ("fastapi", "starlette"):
        from otel_agents.integrations.fastapi import setup_monitoring as setup
    elif kind == "flask":
        from otel_agents.integrations.flask import setup_monitoring as setup  # type: ignore[assignment]
    else:
        raise TypeError(f"setup_monitoring(app): expected a FastAPI or Flask app, got {type(app).__name__}")
    options.setdefault("health", health_registry)
    return setup(app, service_name=service_name, **options)


# --- metrics -------------------------------------------------------------------------------------


@dataclass
class _MetricsSettings:
    backend: str = "prometheus"
    prefix: str = ""
    default_tags: dict[str, str | int | float | bool] = field(default_factory=dict)
    enabled: bool = True


_metrics = _MetricsSettings()


def configure_metrics(
    backend: str = "prometheus",
    prefix: str = "",
    default_tags: Mapping[str, Any] | None = None,
    enabled: bool = True,
) -> None:
    """Set the metric name prefix, the tags every metric gets and the on/off switch; a bad value raises.

    ``backend`` names where metrics go: ``prometheus`` (``/metrics`` via ``setup_monitoring``),
    ``otlp`` (the endpoint ``configure()`` uses), ``console`` or ``none`` (same as ``enabled=False``).
    """
    if not isinstance(backend, str) or backend.lower() not in BACKENDS:
        raise ValueError(f"configure_metrics(backend={backend!r}): expected one of {', '.join(BACKENDS)}")
    if not isinstance(prefix, str) or (prefix and not _NAME.match(prefix)):
        raise ValueError(f"configure_metrics(prefix={prefix!r}): expected a metric name prefix")
    if default_tags is not None and (
        not isinstance(default_tags, Mapping)
        or not all(
            isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in default_tags.items()
        )
    ):
        raise TypeError("configure_metrics(default_tags=...): expected a dict of str to str/number/bool")
    if not isinstance(enabled, bool):
        raise TypeError(f"configure_metrics(enabled={enabled!r}): expected true or false")
    _metrics.backend = backend.lower()
    _metrics.prefix = prefix.rstrip("_")
    _metrics.default_tags = dict(default_tags or {})
    _metrics.enabled = enabled and _metrics.backend != "none"


def _metric(site: str, name: object, value: object, tags: object) -> tuple[str, float, dict[str, Any]] | None:
    if not _metrics.enabled:
        return None
    pipeline()
    checked = valid_name(site, name)
    amount = number(site, value)
    if checked is None or amount is None:
        return None
    full = f"{_metrics.prefix}_{checked}" if _metrics.prefix else checked
    return full, amount, {**_metrics.default_tags, **clean_labels(site, tags)}


@tolerant("monitoring_utils.increment_counter")
def increment_counter(name: str, value: float = 1, tags: Mapping[str, Any] | None = None) -> None:
    """Add ``value`` (default 1) to the counter ``name``."""
    found = _metric("monitoring_utils.increment_counter", name, value, tags)
    if found is not None:
        full, amount, attrs = found
        if amount < 0:
            bad_input("monitoring_utils.increment_counter", "a counter only goes up")
            return
        instrument("counter", full).add(amount, attrs)


@tolerant("monitoring_utils.gauge")
def gauge(name: str, value: float, tags: Mapping[str, Any] | None = None) -> None:
    """Set the gauge ``name`` to ``value``."""
    found = _metric("monitoring_utils.gauge", name, value, tags)
    if found is not None:
        full, amount, attrs = found
        instrument("gauge", full).set(amount, attrs)


@tolerant("monitoring_utils.histogram")
def histogram(name: str, value: float, tags: Mapping[str, Any] | None = None) -> None:
    """Record ``value`` in the histogram ``name``."""
    found = _metric("monitoring_utils.histogram", name, value, tags)
    if found is not None:
        full, amount, attrs = found
        instrument("histogram", full).record(amount, attrs)


SECONDS_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _timed(name: str, tags: Mapping[str, Any] | None, seconds: float) -> None:
    found = _metric("monitoring_utils.record_timer", name, seconds, tags)
    if found is not None:
        full, amount, attrs = found
        instrument("histogram", full, "s", "", SECONDS_BUCKETS).record(amount, attrs)


def record_timer(name: str | Callable[..., Any], tags: Mapping[str, Any] | None = None) -> Any:
    """Decorator: record each call's duration in seconds in the histogram ``name`` (sync or async)."""
    if callable(name):  # used bare, as @record_timer
        fn = name
        return record_timer(f"{fn.__name__}_seconds")(fn)
    metric = name if isinstance(name, str) else safe_str(name)

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    _record_timer(metric, tags, time.perf_counter() - started)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                _record_timer(metric, tags, time.perf_counter() - started)

        return cast(F, wrapper)

    return decorate


_record_timer = tolerant("monitoring_utils.record_timer")(_timed)


# --- logging -------------------------------------------------------------------------------------

_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "trace_id",
    "span_id",
    "run_id",
}
_OUR_HANDLER: Final = "_otel_agents_compat_handler"
_service_name: str | None = None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, service, trace ids and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if _service_name:
            doc["service"] = _service_name
        for key in ("trace_id", "span_id", "run_id"):
            value = getattr(record, key, None)
            if value and set(str(value)) != {"0"}:
                doc[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=safe_str).decode()


_TEXT_FORMAT: Final = (
    "%(asctime)s %(levelname)s %(name)s [trace_id=%(trace_id)s span_id=%(span_id)s] %(message)s"
)


def configure_logging(
    level: str | int = "INFO",
    json_format: bool = True,
    log_to_console: bool = True,
    log_file: str | Path | None = None,
    service_name: str | None = None,
) -> None:
    """Set the root logger's level and handlers (console and/or file, JSON or text); a bad value raises.

    Every line carries the trace, span and run ids; the same records also become OTel log records
    through the pipeline (configured here with ``service_name`` unless the app already did).
    """
    global _service_name  # noqa: PLW0603 - one logging setup per process, as the old library had
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if isinstance(numeric, bool) or not isinstance(numeric, int):
        raise ValueError(f"configure_logging(level={level!r}): expected a level name such as INFO")
    for name, value in (("json_format", json_format), ("log_to_console", log_to_console)):
        if not isinstance(value, bool):
            raise TypeError(f"configure_logging({name}={value!r}): expected true or false")
    if log_file is not None and not isinstance(log_file, (str, Path)):
        raise TypeError(f"configure_logging(log_file={log_file!r}): expected a path")
    if service_name is not None and (not isinstance(service_name, str) or not service_name):
        raise TypeError(f"configure_logging(service_name={service_name!r}): expected a non-empty string")
    handlers: list[logging.Handler] = []
    if log_file is not None:
        path = Path(log_file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    if log_to_console:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OUR_HANDLER, False)]:
        root.removeHandler(old)
        old.close()
    formatter: logging.Formatter = JsonFormatter() if json_format else logging.Formatter(_TEXT_FORMAT)
    for handler in handlers:
        setattr(handler, _OUR_HANDLER, True)
        handler.addFilter(TraceContextFilter())
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(numeric)
    _service_name = service_name
    pipeline(**({"service_name": service_name} if service_name else {}))


class CompatLogger:
    """The old structured logger: ``info(msg, **fields)``, ``bind(**fields)``; fields become attributes."""

    __slots__ = ("_fields", "_logger")

    def __init__(self, logger: logging.Logger, fields: Mapping[str, Any] | None = None) -> None:
        self._logger = logger
        self._fields = dict(fields or {})

    def bind(self, **fields: Any) -> CompatLogger:
        """A logger that adds ``fields`` to every record."""
        return CompatLogger(self._logger, {**self._fields, **fields})

    def _log(self, level: int, msg: object, args: tuple[Any, ...], fields: dict[str, Any]) -> None:
        if not self._logger.isEnabledFor(level):
            return
        exc_info = fields.pop("exc_info", None)
        extra = {}
        for key, value in {**self._fields, **fields}.items():
            safe_key = key if key not in _STANDARD else f"field.{key}"
            extra[safe_key] = value if isinstance(value, (str, bool, int, float)) else safe_str(value)
        self._logger.log(level, msg, *args, extra=extra, exc_info=exc_info, stacklevel=3)

    @tolerant("monitoring_utils.log")
    def debug(self, msg: object, *args: Any, **fields: Any) -> None:
        """Log at DEBUG."""
        self._log(logging.DEBUG, msg, args, fields)

    @tolerant("monitoring_utils.log")
    def info(self, msg: object, *args: Any, **fields: Any) -> None:
        """Log at INFO."""
        self._log(logging.INFO, msg, args, fields)

    @tolerant("monitoring_utils.log")
    def warning(self, msg: object, *args: Any, **fields: Any) -> None:
        """Log at WARNING."""
        self._log(logging.WARNING, msg, args, fields)

    warn = warning

    @tolerant("monitoring_utils.log")
    def error(self, msg: object, *args: Any, **fields: Any) -> None:
        """Log at ERROR."""
        self._log(logging.ERROR, msg, args, fields)

    @tolerant("monitoring_utils.log")
    def exception(self, msg: object, *args: Any, **fields: Any) -> None:
        """Log at ERROR with the current exception."""
        fields.setdefault("exc_info", True)
        self._log(logging.ERROR, msg, args, fields)

    @tolerant("monitoring_utils.log")
    def critical(self, msg: object, *args: Any, **fields: Any) -> None:
        """Log at CRITICAL."""
        self._log(logging.CRITICAL, msg, args, fields)


@tolerant("monitoring_utils.get_logger", default=CompatLogger(logging.getLogger()))
def get_logger(name: str | None = None) -> CompatLogger:
    """A structured logger over ``logging.getLogger(name)``."""
    return CompatLogger(logging.getLogger(name if isinstance(name, str) else None))


@tolerant("monitoring_utils.get_request_logger", default=CompatLogger(logging.getLogger("request")))
def get_request_logger(
    request_id: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    ip_address: str | None = None,
) -> CompatLogger:
    """A logger bound to a request's ids, under their OTel names (request id defaults to the current one)."""
    # No truthiness test: a caller's object may raise from __bool__ or __len__.
    if request_id is None or (isinstance(request_id, str) and not request_id):
        request_id = log_context().get(semconv.REQUEST_ID)
    fields = {
        semconv.REQUEST_ID: request_id,
        semconv.USER_ID: user_id,
        semconv.SESSION_ID: session_id,
        semconv.CLIENT_ADDRESS: ip_address,
    }
    return CompatLogger(logging.getLogger("request"), {k: v for k, v in fields.items() if v is not None})


# --- tracing -------------------------------------------------------------------------------------


class _CurrentTracer:
    """``tracer``: the OTel tracer of whichever provider is in force when it is used."""

    def __getattr__(self, name: str) -> Any:
        return getattr(otel_trace.get_tracer(SCOPE, __version__, schema_url=semconv.SCHEMA_URL), name)


tracer: Any = _CurrentTracer()


_ensure_pipeline = tolerant("monitoring_utils.trace")(pipeline)


def trace(name: str | Callable[..., Any] | None = None, attributes: Mapping[str, Any] | None = None) -> Any:
    """Decorator: run each call of the function in a span named ``name`` (default: its qualified name)."""
    if callable(name):  # used bare, as @trace
        return trace(None)(name)
    attrs = {k: v for k, v in (attributes or {}).items() if isinstance(v, (str, bool, int, float))}

    def decorate(fn: F) -> F:
        span_name = name if isinstance(name, str) and name else fn.__qualname__
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                _ensure_pipeline()
                with tracer.start_as_current_span(span_name, attributes=attrs):
                    return await fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _ensure_pipeline()
            with tracer.start_as_current_span(span_name, attributes=attrs):
                return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


@tolerant("monitoring_utils.inject_context_into_headers", default={})
def inject_context_into_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """``headers`` (a new dict if None) with ``traceparent``, ``tracestate`` and ``baggage`` added."""
    carrier = headers if isinstance(headers, dict) else {}
    if headers is not None and not isinstance(headers, dict):
        bad_input("monitoring_utils.inject_context_into_headers", "headers must be a dict")
    propagate.inject(carrier)
    return carrier


@tolerant("monitoring_utils.extract_context_from_headers", default=None)
def extract_context_from_headers(headers: Mapping[str, str]) -> Context:
    """The OTel context (trace parent and baggage) carried by ``headers``."""
    if not isinstance(headers, Mapping):
        bad_input("monitoring_utils.extract_context_from_headers", "headers must be a mapping")
        return propagate.extract({})
    lowered = {str(k).lower(): v for k, v in headers.items()}
    return propagate.extract(lowered)


# --- health --------------------------------------------------------------------------------------


def _as_check(fn: Callable[[], Any]) -> Callable[[], Any]:
    """A registry check from an old one: a dict with ``status: unhealthy`` or False fails it."""

    def verdict(value: Any) -> Any:
        if isinstance(value, Mapping):
            if value.get("status") == UNHEALTHY or value.get("healthy") is False:
                raise RuntimeError(str(value.get("message") or "unhealthy"))
            return str(value.get("message") or "")
        return value

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_check() -> Any:
            return verdict(await fn())

        return async_check

    @functools.wraps(fn)
    def check() -> Any:
        return verdict(fn())

    return check


def register_health_check(name: str | Callable[..., Any] | None = None, timeout: float | None = None) -> Any:
    """Decorator: register the function as the health check ``name`` (served on /health)."""
    if callable(name):  # used bare
        fn = name
        health_registry.add(fn.__name__, _as_check(fn), timeout=timeout)
        return fn

    def decorate(fn: F) -> F:
        if not callable(fn):
            bad_input("monitoring_utils.register_health_check", "not a function")
            return fn
        health_registry.add(
            name if isinstance(name, str) and name else fn.__name__, _as_check(fn), timeout=timeout
        )
        return fn

    return decorate


@tolerant("monitoring_utils.check_health", default={"status": UNHEALTHY, "checks": {}})
def check_health(name: str | None = None) -> dict[str, Any]:
    """Run every registered check (or the one called ``name``): overall status and each check's result."""
    report = health_registry.run()
    results = report.checks
    if name is not None:
        results = tuple(c for c in results if c.name == name)
        if not results:
            bad_input("monitoring_utils.check_health", "no health check with that name")
            return {"status": UNHEALTHY, "checks": {}}
    checks = {
        c.name: {
            "status": HEALTHY if c.status == PASS else UNHEALTHY,
            "message": c.message,
            "latency_ms": round(c.latency_ms, 3),
        }
        for c in results
    }
    healthy = all(c["status"] == HEALTHY for c in checks.values())
    return {"status": HEALTHY if healthy else UNHEALTHY, "checks": checks}


def _run_check(check: Callable[[], Any]) -> dict[str, Any]:
    from otel_agents.integrations.health import describe

    started = time.perf_counter()
    try:
        message = check()
    except Exception as exc:  # noqa: BLE001 - a failing dependency is a result, not an error
        return {"status": UNHEALTHY, "message": describe(exc), "latency_ms": _ms(started)}
    return {"status": HEALTHY, "message": str(message or ""), "latency_ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


@tolerant("monitoring_utils.check_database_connection", default={"status": UNHEALTHY, "message": "bad call"})
def check_database_connection(database_url: str, timeout: float = 2.0) -> dict[str, Any]:
    """Whether the database answers: ``sqlite:///path`` runs ``SELECT 1``, network URLs connect over TCP."""
    try:
        check = database_check(database_url, timeout=timeout)
    except ValueError as exc:
        bad_input("monitoring_utils.check_database_connection", "unsupported database URL")
        return {"status": UNHEALTHY, "message": str(exc), "latency_ms": 0.0}
    return _run_check(check)


@tolerant("monitoring_utils.check_redis_connection", default={"status": UNHEALTHY, "message": "bad call"})
def check_redis_connection(
    redis_url: str = "redis://localhost:6379/0", timeout: float = 2.0
) -> dict[str, Any]:
    """Whether Redis accepts a TCP connection at ``redis_url``."""
    if not isinstance(redis_url, str) or not redis_url.startswith(("redis://", "rediss://")):
        bad_input("monitoring_utils.check_redis_connection", "expected a redis:// URL")
        return {"status": UNHEALTHY, "message": "expected a redis:// URL", "latency_ms": 0.0}
    return _run_check(database_check(redis_url, timeout=timeout))


@tolerant("monitoring_utils.check_external_service", default={"status": UNHEALTHY, "message": "bad call"})
def check_external_service(url: str, timeout: float = 5.0, expected_status: int = 200) -> dict[str, Any]:
    """Whether ``url`` answers a GET with ``expected_status``."""
    try:
        check = http_check(url, timeout=timeout, expect=(expected_status,))
    except ValueError as exc:
        bad_input("monitoring_utils.check_external_service", "expected an http(s) URL")
        return {"status": UNHEALTHY, "message": str(exc), "latency_ms": 0.0}
    return _run_check(check)


# --- alerts --------------------------------------------------------------------------------------


class AlertSeverity(str, Enum):
    """The old severities; ``error`` goes to the engine as ``critical`` (it has info, warning, critical)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class AlertState(str, Enum):
    """An alert's state, in the engine's words."""

    ACTIVE = _alerting.FIRING
    ACKNOWLEDGED = _alerting.ACKNOWLEDGED
    RESOLVED = _alerting.RESOLVED


_ENGINE_SEVERITY: Final = {"info": "info", "warning": "warning", "error": "critical", "critical": "critical"}
_alert_handlers: list[_alerting.Handler] = []
_backend: _alerting.Backend | None = None


def _alerts() -> _alerting.Backend:
    global _backend  # noqa: PLW0603 - one alert lifecycle per process, made on first use
    if _backend is None:
        pipeline()
        _backend = _alerting.backend(_alert_handlers)
    return _backend


def _severity(site: str, value: object) -> str | None:
    text = value.value if isinstance(value, AlertSeverity) else value
    if isinstance(text, str) and text.lower() in _ENGINE_SEVERITY:
        return _ENGINE_SEVERITY[text.lower()]
    bad_input(site, "severity must be an AlertSeverity")
    return None


def add_alert_handler(handler: Callable[[dict[str, Any]], object]) -> None:
    """Call ``handler(alert)`` for every alert notification (on a background thread)."""
    if not callable(handler):
        raise TypeError("add_alert_handler(handler): expected a callable")
    _alert_handlers.append(handler)


@tolerant("monitoring_utils.trigger_alert")
def trigger_alert(
    name: str,
    message: str | None = None,
    severity: AlertSeverity | str = AlertSeverity.WARNING,
    labels: Mapping[str, Any] | None = None,
    value: float | None = None,
    dedup_key: str | None = None,
) -> str | None:
    """Raise the alert ``name`` (one per ``dedup_key``, default the name); returns its id."""
    site = "monitoring_utils.trigger_alert"
    if not isinstance(name, str) or not name:
        bad_input(site, "name must be a non-empty string")
        return None
    level = _severity(site, severity) or "warning"
    key = dedup_key if isinstance(dedup_key, str) and dedup_key else name
    tags = {k: str(v) for k, v in clean_labels(site, labels).items()}
    if level != str(getattr(severity, "value", severity)).lower():
        tags["compat_severity"] = str(getattr(severity, "value", severity)).lower()
    amount = finite(value)
    return _alerts().trigger(
        name,
        dedup_key=key,
        severity=level,
        summary=safe_str(message) if message else None,
        labels=tags,
        value=amount,
    )


@tolerant("monitoring_utils.update_alert", default=False)
def update_alert(
    alert_id: str,
    message: str | None = None,
    severity: AlertSeverity | str | None = None,
    value: float | None = None,
    state: AlertState | str | None = None,
) -> bool:
    """Change an active alert's message, severity or value, or acknowledge it; False if not active."""
    site = "monitoring_utils.update_alert"
    level = _severity(site, severity) if severity is not None else None
    backend = _alerts()
    done = True
    if message is not None or level is not None or value is not None:
        done = backend.update(
            str(alert_id), summary=safe_str(message) if message else None, severity=level, value=finite(value)
        )
    wanted = state.value if isinstance(state, AlertState) else state
    if wanted == AlertState.ACKNOWLEDGED.value:
        done = backend.acknowledge(str(alert_id)) and done
    elif wanted == AlertState.RESOLVED.value:
        done = backend.resolve(str(alert_id)) and done
    elif wanted not in (None, AlertState.ACTIVE.value):
        bad_input(site, "state must be an AlertState")
    if not done:
        bad_input(site, "no active alert with that id")
    return done


@tolerant("monitoring_utils.resolve_alert", default=False)
def resolve_alert(alert_id: str, message: str | None = None) -> bool:
    """Resolve an active alert (and notify); False if it was not active."""
    backend = _alerts()
    if message is not None:
        backend.update(str(alert_id), summary=safe_str(message), severity=None, value=None)
    done = backend.resolve(str(alert_id))
    if not done:
        bad_input("monitoring_utils.resolve_alert", "no active alert with that id")
    return done


@dataclass
class AlertRule:
    """A threshold rule: fires when a checked value is above, below or outside a range.

    A configuration call: a rule without a condition, or with a bad threshold, raises at once.
    """

    name: str
    metric_name: str | None = None
    threshold_above: float | None = None
    threshold_below: float | None = None
    outside_range: tuple[float, float] | None = None
    cooldown_period: float = 300.0
    severity: AlertSeverity | str = AlertSeverity.WARNING
    duration: float = 0.0
    message: str | None = None
    labels: Mapping[str, str] | None = None
    _clock: RuleClock = field(default_factory=RuleClock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("AlertRule(name=...): expected a non-empty string")
        given = [x for x in (self.threshold_above, self.threshold_below, self.outside_range) if x is not None]
        if not given:
            raise ValueError(
                f"AlertRule({self.name!r}): give threshold_above, threshold_below or outside_range"
            )
        for label, x in (
            ("threshold_above", self.threshold_above),
            ("threshold_below", self.threshold_below),
        ):
            if x is not None and finite(x) is None:
                raise ValueError(f"AlertRule({self.name!r}): {label} must be a finite number")
        if self.outside_range is not None:
            bounds = self.outside_range
            if (
                not isinstance(bounds, (tuple, list))
                or len(bounds) != 2
                or finite(bounds[0]) is None
                or finite(bounds[1]) is None
                or not bounds[0] < bounds[1]
            ):
                raise ValueError(
                    f"AlertRule({self.name!r}): outside_range must be (low, high) with low < high"
                )
        for label, x in (("cooldown_period", self.cooldown_period), ("duration", self.duration)):
            number_ = finite(x)
            if number_ is None or number_ < 0:
                raise ValueError(f"AlertRule({self.name!r}): {label} must be a number of seconds >= 0")
        if _severity("monitoring_utils.AlertRule", self.severity) is None:
            raise ValueError(f"AlertRule({self.name!r}): severity must be an AlertSeverity")

    def is_violated(self, value: float) -> bool:
        """True when ``value`` crosses the rule's threshold or leaves its range."""
        if self.threshold_above is not None and value > self.threshold_above:
            return True
        if self.threshold_below is not None and value < self.threshold_below:
            return True
        if self.outside_range is not None:
            low, high = self.outside_range
            return not low <= value <= high
        return False

    @tolerant("monitoring_utils.AlertRule.check")
    def check(self, value: float) -> str | None:
        """Evaluate ``value``: trigger (after ``duration``, not within ``cooldown_period``) or resolve."""
        amount = finite(value)
        if amount is None:
            bad_input("monitoring_utils.AlertRule.check", "value must be a finite number")
            return None

        def fire() -> str | None:
            text = describe(
                self.message or "{name}: {metric} is {value:g}",
                name=self.name,
                metric=self.metric_name or self.name,
                value=amount,
                threshold_above=self.threshold_above,
                threshold_below=self.threshold_below,
                outside_range=self.outside_range,
            )
            tags = dict(self.labels or {})
            if self.metric_name:
                tags["metric"] = self.metric_name
            return trigger_alert(self.name, text, self.severity, tags, amount)

        return evaluate(
            _alerts(),
            self._clock,
            holds=self.is_violated(amount),
            duration=float(self.duration),
            cooldown=float(self.cooldown_period),
            fire=fire,
            key=self.name,
        )
