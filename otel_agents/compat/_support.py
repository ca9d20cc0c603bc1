"""What every shim shares: bad input logged once and counted, the pipeline, a meter and instruments."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from opentelemetry import metrics

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import report
from otel_agents.api._version import __version__
from otel_agents.sdk._configure import Telemetry, configure, current

MAX_INSTRUMENTS: Final = 512
MAX_LABELS: Final = 32
MAX_LABEL_VALUE: Final = 256


class BadTelemetryInput(Exception):
    """A caller passed something a shim cannot record; it is counted, never raised."""


def bad_input(site: str, what: str) -> None:
    """Log once per site and count a call the shim could not (fully) record, without raising."""
    report(f"compat.{site}", BadTelemetryInput(what))


def pipeline(**options: Any) -> Telemetry:
    """The process's pipeline: the one already configured, else one configured with ``options``."""
    active = current()
    return active if active is not None else configure(**options)


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
        made = provider.get_meter(semconv.SCOPE_NAME, __version__)
        _meter_cache = (provider, made)
        return made


def instrument(kind: str, name: str, unit: str = "", description: str = "") -> Any:
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
