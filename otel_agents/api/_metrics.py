"""Small metric helpers over the OTel metrics API: business figures, timers, rate limits, errors."""

from __future__ import annotations

import functools
import inspect
import math
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar, cast

from opentelemetry import metrics

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._version import __version__
from otel_agents.api._walk import INT64_MAX

F = TypeVar("F", bound=Callable[..., Any])
Labels = Mapping[str, str | bool | int | float] | None

_lock = threading.Lock()
# (kind, name) -> (provider, instrument): an instrument of a replaced provider is never reused.
_instruments: dict[tuple[str, str], tuple[Any, Any]] = {}


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("metric name: expected a non-empty string such as 'business.tickets.closed'")
    return name


def _instrument(kind: str, name: str, unit: str, description: str, **advice: Any) -> Any:
    provider = metrics.get_meter_provider()
    key = (kind, name)
    with _lock:
        cached = _instruments.get(key)
        if cached is not None and cached[0] is provider:
            return cached[1]
        meter = provider.get_meter(semconv.SCOPE_NAME, __version__, schema_url=semconv.SCHEMA_URL)
        instrument = getattr(meter, f"create_{kind}")(name, unit=unit, description=description, **advice)
        _instruments[key] = (provider, instrument)
        return instrument


# A value or label the metrics API cannot take is the caller's slip, not our bug: it is left out
# and counted here (the SDK would warn per call, or raise for a wrong type).
DROP_VALUE = "metrics.invalid_value"
DROP_LABEL = "metrics.invalid_label"
_LABEL_TYPES = (str, bool, int, float)


def _amount(value: object, *, non_negative: bool = False) -> int | float | None:
    """``value`` as a measurement: a finite number (beyond int64 as a float), at least 0 where
    the instrument takes no negative ones (counters, histograms); None, counted, for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        stats.count_drop(DROP_VALUE)
        return None
    number: int | float = value
    if isinstance(number, int) and not -INT64_MAX <= number <= INT64_MAX:
        number = float(number) if abs(number) < 2**1023 else math.inf
    if (isinstance(number, float) and not math.isfinite(number)) or (non_negative and number < 0):
        stats.count_drop(DROP_VALUE)
        return None
    return number


def _labels(labels: Labels) -> dict[str, Any] | None:
    """The labels a metric point can carry: text keys with text, bool or finite number values;
    the others left out, each counted."""
    if not labels:
        return None
    try:
        items = list(labels.items())
    except Exception:  # noqa: BLE001 - not a mapping after all: no labels rather than no point
        stats.count_drop(DROP_LABEL)
        return None
    out: dict[str, Any] = {}
    for key, value in items:
        ok = isinstance(key, str) and isinstance(value, _LABEL_TYPES)
        if ok and isinstance(value, int) and not isinstance(value, bool):
            ok = -INT64_MAX <= value <= INT64_MAX
        elif ok and isinstance(value, float):
            ok = math.isfinite(value)
        if ok:
            out[str.__str__(key)] = value
        else:
            stats.count_drop(DROP_LABEL)
    return out or None


class Counter:
    """A monotonic counter: ``add(n, labels)``; never raises into the caller."""

    def __init__(self, name: str, *, unit: str = "1", description: str = "") -> None:
        self.name, self.unit, self.description = _check_name(name), unit, description

    @never_raise("metrics.counter")
    def add(self, amount: float = 1, labels: Labels = None) -> None:
        """Add ``amount`` (>= 0) for the series ``labels``."""
        value = _amount(amount, non_negative=True)
        if value is not None:
            _instrument("counter", self.name, self.unit, self.description).add(value, _labels(labels))


class Gauge:
    """A value that goes up and down (score, queue depth): ``set(value, labels)``."""

    def __init__(self, name: str, *, unit: str = "1", description: str = "") -> None:
        self.name, self.unit, self.description = _check_name(name), unit, description

    @never_raise("metrics.gauge")
    def set(self, value: float, labels: Labels = None) -> None:
        """Record the current ``value`` of the series ``labels``."""
        number = _amount(value)
        if number is not None:
            _instrument("gauge", self.name, self.unit, self.description).set(number, _labels(labels))


class Histogram:
    """A distribution (latencies, sizes, scores): ``record(value, labels)``."""

    def __init__(
        self,
        name: str,
        *,
        unit: str = "1",
        description: str = "",
        buckets: tuple[float, ...] | None = None,
    ) -> None:
        self.name, self.unit, self.description = _check_name(name), unit, description
        if buckets is not None and list(buckets) != sorted(set(buckets)):
            raise ValueError("buckets: expected strictly increasing boundaries")
        self.buckets = buckets

    @never_raise("metrics.histogram")
    def record(self, value: float, labels: Labels = None) -> None:
        """Record one ``value`` (>= 0, as the SDK takes them) for the series ``labels``."""
        number = _amount(value, non_negative=True)
        if number is None:
            return
        advice = {"explicit_bucket_boundaries_advisory": list(self.buckets)} if self.buckets else {}
        _instrument("histogram", self.name, self.unit, self.description, **advice).record(
            number, _labels(labels)
        )


def counter(name: str, *, unit: str = "1", description: str = "") -> Counter:
    """A counter named ``name`` (an OTel metric name, e.g. ``business.tickets.closed``)."""
    return Counter(name, unit=unit, description=description)


def gauge(name: str, *, unit: str = "1", description: str = "") -> Gauge:
    """A gauge named ``name``."""
    return Gauge(name, unit=unit, description=description)


def histogram(
    name: str, *, unit: str = "1", description: str = "", buckets: tuple[float, ...] | None = None
) -> Histogram:
    """A histogram named ``name`` (``buckets``: explicit boundaries, else the SDK's defaults)."""
    return Histogram(name, unit=unit, description=description, buckets=buckets)


class timer:
    """Time a block or a function into a histogram in seconds; a failure adds ``error.type``."""

    def __init__(self, name: str, *, labels: Labels = None, description: str = "") -> None:
        self._histogram = Histogram(name, unit="s", description=description)
        self._labels = dict(labels or {})
        self._local = threading.local()

    def __enter__(self) -> timer:
        starts = getattr(self._local, "starts", None)
        if starts is None:
            starts = self._local.starts = []
        starts.append(time.perf_counter())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with never_raise("metrics.timer"):
            elapsed = time.perf_counter() - self._local.starts.pop()
            labels = dict(self._labels)
            if exc_type is not None:
                labels[semconv.ERROR_TYPE] = exc_type.__qualname__
            self._histogram.record(elapsed, labels)

    def __call__(self, fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return cast(F, wrapper)


def _rate_labels(platform: str, limit_type: str) -> dict[str, str]:
    return {semconv.LABEL_RATE_LIMIT_PLATFORM: str(platform), semconv.LABEL_RATE_LIMIT_TYPE: str(limit_type)}


@never_raise("metrics.rate_limit")
def rate_limit(
    platform: str,
    limit_type: str,
    *,
    remaining: float | None = None,
    limit: float | None = None,
    reset_at: float | None = None,
) -> None:
    """Record a platform's rate-limit state (e.g. from ``x-ratelimit-*`` headers).

    ``reset_at`` is when the window resets, in Unix seconds; each given value is a gauge by
    ``otel_agents.rate_limit.platform`` and ``otel_agents.rate_limit.type``.
    """
    labels = _rate_labels(platform, limit_type)
    for name, value, unit in (
        (semconv.METRIC_RATE_LIMIT_REMAINING, remaining, "{request}"),
        (semconv.METRIC_RATE_LIMIT_LIMIT, limit, "{request}"),
        (semconv.METRIC_RATE_LIMIT_RESET_TIME, reset_at, "s"),
    ):
        number = None if value is None else _amount(value)
        if number is not None:
            _instrument("gauge", name, unit, "").set(number, labels)


@never_raise("metrics.rate_limit_hit")
def rate_limit_hit(platform: str, limit_type: str, n: int = 1) -> None:
    """Count ``n`` requests refused by a platform's rate limit (HTTP 429 and the like)."""
    amount = _amount(n, non_negative=True)
    if amount is not None:
        _instrument("counter", semconv.METRIC_RATE_LIMIT_HITS, "{hit}", "").add(
            amount, _rate_labels(platform, limit_type)
        )


@never_raise("metrics.error")
def error(component: str, exc: BaseException | type[BaseException] | str | None = None, n: int = 1) -> None:
    """Count an error of ``component`` (``otel_agents.component``), typed by ``error.type``."""
    labels = {semconv.LABEL_COMPONENT: str(component)}
    if exc is not None:
        cls = exc if isinstance(exc, type) else type(exc) if isinstance(exc, BaseException) else None
        labels[semconv.ERROR_TYPE] = cls.__qualname__ if cls is not None else str(exc)
    amount = _amount(n, non_negative=True)
    if amount is not None:
        _instrument("counter", semconv.METRIC_COMPONENT_ERRORS, "{error}", "").add(amount, labels)
