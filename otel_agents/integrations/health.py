"""Health checks: a registry of named sync or async checks, each bounded by its own timeout."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import orjson
from opentelemetry import context as otel_context
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY

from otel_agents.api._threads import start_daemon
from otel_agents.api._urls import masked
from otel_agents.sdk.processors._redaction import Redactor
from otel_agents.sdk.processors._truncation import safe_cut

__all__ = ["BROKEN", "FAIL", "PASS", "CheckResult", "HealthRegistry", "HealthReport", "describe"]

PASS: Final = "pass"  # noqa: S105 - a health status, not a password
FAIL: Final = "fail"
MAX_MESSAGE: Final = 200
# The most of a message redaction reads: a secret past it is cut off, never half shown.
_READ_CHARS: Final = 4096
_MESSAGE_KEY: Final = "health.message"
# /health answers anyone who can reach it: a check's message (an exception's text, often) is
# redacted like a span's text before it is shown.
_redactor = Redactor()

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    status: str
    latency_ms: float
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form: name, status, latency_ms, message."""
        return {
            "name": self.name,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "message": self.message,
        }


@dataclass(frozen=True)
class HealthReport:
    """Every check's result; healthy when all passed."""

    checks: tuple[CheckResult, ...]

    @property
    def healthy(self) -> bool:
        """True when every check passed (and when there are none)."""
        return all(c.status == PASS for c in self.checks)

    @property
    def status_code(self) -> int:
        """200 when healthy, 503 otherwise."""
        return 200 if self.healthy else 503

    def body(self) -> bytes:
        """The JSON document served at ``/health``."""
        return orjson.dumps(
            {"status": PASS if self.healthy else FAIL, "checks": [c.as_dict() for c in self.checks]}
        )


@dataclass
class _Check:
    name: str
    fn: Callable[[], Any]
    timeout: float
    is_async: bool
    busy: bool = False


def describe(exc: BaseException) -> str:
    """A short message for ``exc`` that never shows URL credentials and survives a broken ``__str__``."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - a hostile __str__ must not break the health endpoint
        text = type(exc).__name__
    return masked(text)[:MAX_MESSAGE]


def _outcome(value: object) -> tuple[str, str]:
    """A check's return value as (status, message): ``(ok, message)`` pairs count by ``ok``, and
    anything that is not plainly a pass (None, True, a message) fails closed."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool):
        ok, message = value
        text = message if isinstance(message, str) else "" if message is None else _message(message)
        return (PASS if ok else FAIL), text[:MAX_MESSAGE]
    if value is False:
        return FAIL, "check returned False"
    if isinstance(value, str):
        return PASS, value[:MAX_MESSAGE]
    if value is None or value is True:
        return PASS, ""
    return FAIL, f"check returned an unexpected {type(value).__name__}"


def _message(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a check's own object; the endpoint must still answer
        return type(value).__name__


def _suppressed(fn: Callable[[], Any]) -> Any:
    # A check's own HTTP or SQL calls are probes, not traffic: keep them out of traces.
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        result = fn()
        if inspect.isawaitable(result):
            return asyncio.run(_await(result))
        return result
    finally:
        otel_context.detach(token)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _suppressed_async(fn: Callable[[], Awaitable[Any]]) -> Any:
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        return await fn()
    finally:
        otel_context.detach(token)


class HealthRegistry:
    """Named checks: return None/True/a message or ``(True, message)`` to pass; False,
    ``(False, message)``, anything else, or raising fails."""

    def __init__(self, default_timeout: float = 2.0) -> None:
        self.default_timeout = default_timeout
        self._checks: dict[str, _Check] = {}
        self._lock = threading.Lock()

    def check(self, name: str | None = None, *, timeout: float | None = None) -> Callable[[F], F]:
        """Decorator: register the function (sync or ``async``) as a check named ``name``."""

        def register(fn: F) -> F:
            self.add(name or fn.__name__, fn, timeout=timeout)
            return fn

        return register

    def add(self, name: str, fn: Callable[[], Any], *, timeout: float | None = None) -> None:
        """Register ``fn`` as the check ``name`` (replacing one with that name)."""
        if not callable(fn):
            raise TypeError(f"health check {name!r} is not callable")
        limit = self.default_timeout if timeout is None else float(timeout)
        if not limit > 0:
            raise ValueError(f"health check {name!r}: timeout must be positive")
        with self._lock:
            self._checks[name] = _Check(name, fn, limit, inspect.iscoroutinefunction(fn))

    @property
    def names(self) -> tuple[str, ...]:
        """The registered check names, in registration order."""
        return tuple(self._checks)

    def run(self) -> HealthReport:
        """Run every check concurrently in worker threads (for WSGI apps); bounded by the timeouts."""
        started = [(c, time.perf_counter(), self._start_thread(c)) for c in self._snapshot()]
        return HealthReport(tuple(self._collect(c, t0, fut) for c, t0, fut in started))

    async def run_async(self) -> HealthReport:
        """Run every check concurrently: async ones on this loop, sync ones in worker threads."""
        results = await asyncio.gather(*(self._run_one_async(c) for c in self._snapshot()))
        return HealthReport(tuple(results))

    def _snapshot(self) -> list[_Check]:
        with self._lock:
            return list(self._checks.values())

    def _start_thread(self, check: _Check) -> concurrent.futures.Future[Any] | None:
        with self._lock:
            if check.busy:
                return None
            check.busy = True
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def target() -> None:
            try:
                # Once running, a caller's timeout cannot cancel the future under this thread's feet.
                if not future.set_running_or_notify_cancel():
                    return
                future.set_result(_suppressed(check.fn))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                future.set_exception(exc)
            finally:
                with self._lock:
                    check.busy = False

        # A daemon thread per run: a hung check can never exhaust a shared pool or block exit.
        start_daemon(target, f"otel-agents-health-{check.name}")
        return future

    def _collect(
        self, check: _Check, started: float, future: concurrent.futures.Future[Any] | None
    ) -> CheckResult:
        if future is None:
            return CheckResult(check.name, FAIL, 0.0, "previous run has not finished (hung?)")
        remaining = max(check.timeout - (time.perf_counter() - started), 0.0)
        try:
            value = future.result(timeout=remaining)
        except concurrent.futures.TimeoutError:
            return self._result(check, started, FAIL, f"timed out after {check.timeout:g}s")
        except Exception as exc:  # noqa: BLE001 - a failing check is a result, not an error
            return self._result(check, started, FAIL, describe(exc))
        return self._result(check, started, *_outcome(value))

    async def _run_one_async(self, check: _Check) -> CheckResult:
        started = time.perf_counter()
        if not check.is_async:
            future = self._start_thread(check)
            if future is None:
                return self._collect(check, started, None)
            awaitable: Awaitable[Any] = asyncio.wrap_future(future)
        else:
            awaitable = _suppressed_async(check.fn)
        try:
            value = await asyncio.wait_for(awaitable, check.timeout)
        except asyncio.TimeoutError:
            return self._result(check, started, FAIL, f"timed out after {check.timeout:g}s")
        except Exception as exc:  # noqa: BLE001 - a failing check is a result, not an error
            return self._result(check, started, FAIL, describe(exc))
        return self._result(check, started, *_outcome(value))

    @staticmethod
    def _result(check: _Check, started: float, status: str, message: str) -> CheckResult:
        return CheckResult(check.name, status, (time.perf_counter() - started) * 1000, _shown(message))


def _shown(message: str) -> str:
    """``message`` as /health may show it: at most MAX_MESSAGE characters, redacted, no secret cut
    in half at either edge."""
    if not message:
        return message
    try:
        read = safe_cut(message, _READ_CHARS) if len(message) > _READ_CHARS else message
        clean = _redactor(_MESSAGE_KEY, read)
        return clean if len(clean) <= MAX_MESSAGE else safe_cut(clean, MAX_MESSAGE)
    except Exception:  # noqa: BLE001 - the endpoint must answer: with no message, not a secret
        return ""


# Served when the registry itself failed (a bug of ours): the endpoint still answers, unhealthy.
BROKEN: Final = HealthReport((CheckResult("otel_agents", FAIL, 0.0, "health registry failed"),))
