"""The single guard that keeps an exception in our code from ever reaching the host app."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, TypeVar, cast

from otel_agents.api import _counters as stats

_log = logging.getLogger("otel_agents")

# The test suite sets this so that a bug in a hook fails the test instead of being swallowed.
STRICT_ENV: Final = "OTEL_AGENTS_RAISE_INTERNAL_ERRORS"

_logged_sites: set[str] = set()

F = TypeVar("F", bound=Callable[..., Any])


def strict() -> bool:
    """True under the test suite: internal errors re-raise instead of being swallowed."""
    return os.environ.get(STRICT_ENV, "") == "1"


def report(site: str, exc: BaseException) -> None:
    """Count an internal error at ``site`` and log it, once per site, without the exception's args."""
    stats.count_error(site)
    if site in _logged_sites:
        return
    _logged_sites.add(site)
    with contextlib.suppress(Exception):  # a broken logging handler must not escape either
        # Only the type: an exception message may carry a secret the redactor never saw.
        _log.warning(
            "otel_agents: internal error in %s (%s); telemetry continues, further errors "
            "here are counted, not logged",
            site,
            type(exc).__name__,
        )


def contained(site: str, exc: Exception) -> bool:
    """The body of every guard: report ``exc`` at ``site``; False under the test suite, where the
    caller must re-raise it.

    Use it as ``except Exception as exc: if not contained(site, exc): raise`` where a
    ``with never_raise(...)`` would cost too much per span.
    """
    report(site, exc)
    return not strict()


def attempt(site: str, fn: Callable[[], object]) -> bool:
    """Call ``fn`` under the guard: False if it raised or returned False, so a failure is never success."""
    try:
        return fn() is not False
    except Exception as exc:
        if not contained(site, exc):
            raise
        return False


class never_raise:
    """Context manager and decorator: swallow, log once and count any exception from our code."""

    __slots__ = ("default", "site")

    def __init__(self, site: str, default: Any = None) -> None:
        self.site = site
        self.default = default

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        report(self.site, exc)
        return not strict()

    def __call__(self, fn: F) -> F:
        site, default = self.site, self.default

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if not contained(site, exc):
                    raise
                return default

        return cast(F, wrapper)
