"""What every shim shares: bad input logged once and counted, the pipeline, a meter and instruments."""

from __future__ import annotations

import functools
import inspect
import logging
import math
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, cast

from opentelemetry import metrics
from opentelemetry._logs import SeverityNumber, get_logger_provider

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained, report
from otel_agents.api._values import to_attribute
from otel_agents.api._version import __version__
from otel_agents.api._walk import safe_str
from otel_agents.integrations import prometheus
from otel_agents.sdk._configure import Telemetry, configure, current

MAX_INSTRUMENTS: Final = 512
MAX_LABELS: Final = 32
MAX_LABEL_VALUE: Final = 256
MAX_ATTRIBUTES: Final = 64


class BadTelemetryInput(Exception):
    """A caller passed something a shim cannot record; it is counted, never raised."""


def bad_input(site: str, what: str) -> None:
    """Log once per site and count a call the shim could not (fully) record, without raising."""
    report(f"compat.{site}", BadTelemetryInput(what))


def pipeline(**options: Any) -> Telemetry:
    """The process's pipeline: the one already configured, else one configured with ``options``.

    With the Prometheus extra installed it includes the process's Prometheus reader, so a
    ``setup_monitoring(app)`` called after a shim still serves every metric on ``/metrics``.
    """
    active = current()
    if active is not None:
        return active
    if prometheus.available():
        options["metric_readers"] = [*options.get("metric_readers", ()), prometheus.reader()]
    return configure(**options)


_lock = threading.Lock()
_meter_cache: tuple[metrics.MeterProvider, metrics.Meter] | None = None
_instruments: dict[tuple[str, str, str, str], Any] = {}


def meter() -> metrics.Meter:
    """The otel_agents meter of the provider in force now."""
    global _meter_cache  # noqa: PLW0603 - a one-slot cache keyed on the provider
    provider = metrics.get_meter_provider()
    cached = _meter_cache
    if cached is not None and cached[0] is provider:
        return cached[1]
    with _lock:
        _instruments.clear()
        made = provider.get_meter(semconv.SCOPE_NAME, __version__, schema_url=semconv.SCHEMA_URL)
        _meter_cache = (provider, made)
        return made


def instrument(
    kind: str, name: str, unit: str = "", description: str = "", buckets: tuple[float, ...] = ()
) -> Any:
    """A counter, up-down counter, gauge or histogram by name, made once (at most MAX_INSTRUMENTS)."""
    m = meter()
    key = (kind, name, unit, description)
    found = _instruments.get(key)
    if found is not None:
        return found
    factories: dict[str, Callable[..., Any]] = {
        "counter": m.create_counter,
        "updown": m.create_up_down_counter,
        "gauge": m.create_gauge,
        "histogram": m.create_histogram,
    }
    if kind == "histogram" and buckets:
        made = m.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
        )
    else:
        made = factories[kind](name, unit=unit, description=description)
    with _lock:
        if len(_instruments) >= MAX_INSTRUMENTS:
            _instruments.clear()
        _instruments[key] = made
    return made


def labels(site: str, given: object) -> dict[str, str | int | float | bool]:
    """Metric attributes from a caller's labels: str keys, scalar values; anything else is counted."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        bad_input(site, "labels must be a mapping")
        return {}
    out: dict[str, str | int | float | bool] = {}
    for key, value in list(given.items())[:MAX_LABELS]:
        if not isinstance(key, str) or not key:
            bad_input(site, "label keys must be non-empty strings")
            continue
        if isinstance(value, (bool, int, float)):
            out[key] = value
        elif isinstance(value, str):
            out[key] = value[:MAX_LABEL_VALUE]
        elif value is None:
            continue
        else:
            bad_input(site, "label values must be scalars")
            out[key] = type(value).__name__
    if len(given) > MAX_LABELS:
        bad_input(site, "too many labels")
    return out


def number(site: str, value: object) -> float | None:
    """``value`` as a finite float, or None (counted) when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            bad_input(site, "value must be a number")
            return None
    number_ = float(value)
    if not math.isfinite(number_):
        bad_input(site, "value must be finite")
        return None
    return number_


_SEVERITIES: Final = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "warning": SeverityNumber.WARN,
    "warn": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
    "critical": SeverityNumber.FATAL,
    "fatal": SeverityNumber.FATAL,
}
_INSTRUMENT_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]{0,254}$")


def severity(level: object) -> tuple[SeverityNumber, str]:
    """The OTel severity for an old level name (or stdlib level number); INFO when unknown."""
    if isinstance(level, int) and not isinstance(level, bool):
        level = logging.getLevelName(level)
    text = level.strip().lower() if isinstance(level, str) else "info"
    number = _SEVERITIES.get(text, SeverityNumber.INFO)
    return number, number.name if text not in _SEVERITIES else text.upper()


def attributes(given: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """Log or span attributes from a caller's dict: str keys, values coerced (JSON for containers)."""
    out: dict[str, Any] = {}
    for key, value in list(given.items())[:MAX_ATTRIBUTES]:
        coerced = to_attribute(value)
        if coerced is not None:
            out[prefix + (key if isinstance(key, str) else safe_str(key, 64))] = coerced
    return out


def emit_log(
    scope: str,
    level: object,
    body: object,
    attrs: Mapping[str, Any] | None = None,
    *,
    event_name: str | None = None,
    exception: BaseException | None = None,
) -> None:
    """One OTel log record through the logs API (trace-correlated with the current span)."""
    number, text = severity(level)
    get_logger_provider().get_logger(scope, __version__, semconv.SCHEMA_URL).emit(
        severity_number=number,
        severity_text=text,
        body=body if isinstance(body, str) else safe_str(body),
        attributes=dict(attrs or {}),
        event_name=event_name,
        exception=exception,
    )


def valid_name(site: str, name: object) -> str | None:
    """``name`` if it is a valid metric name, else None (counted)."""
    if isinstance(name, str) and _INSTRUMENT_NAME.match(name):
        return name
    bad_input(site, "metric name must match [A-Za-z][A-Za-z0-9_.:/-]*")
    return None


F = TypeVar("F", bound=Callable[..., Any])


def tolerant(site: str, default: Any = None) -> Callable[[F], F]:
    """Decorator for a shim call: missing or unexpected arguments are counted, any error contained.

    The old libraries promised that telemetry never raises, so a call Python itself would reject
    (a required argument missing, an unknown keyword) is logged once and counted, and returns
    ``default``; so does an internal error (re-raised under the test suite, like every guard).
    """

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        full = f"compat.{site}"

        def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
            try:
                signature.bind(*args, **kwargs)
            except TypeError:
                bad_input(site, "missing or unexpected arguments")
                return False
            return True

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if not check(args, kwargs):
                    return default
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    if not contained(full, exc):
                        raise
                    return default

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not check(args, kwargs):
                return default
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if not contained(full, exc):
                    raise
                return default

        return cast(F, wrapper)

    return decorate
