"""The single guard that keeps an exception in our code from ever reaching the host app."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import re
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


# A keyword the caller wrote (an identifier, as in source code) may be named; anything else is not.
_UNEXPECTED: Final = re.compile(r"unexpected keyword argument '([A-Za-z_][A-Za-z0-9_]{0,39})'")
_MISSING: Final = re.compile(r"missing a required argument: '([A-Za-z_][A-Za-z0-9_]{0,39})'")


def misuse(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], exc: Exception
) -> str | None:
    """What is wrong with a call of ``fn`` that raised ``exc`` when its arguments do not fit the
    signature (the caller's mistake, not ours), else None."""
    if not isinstance(exc, TypeError):
        return None
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as bad:
        text = str(bad)
    except Exception:  # noqa: BLE001 - no signature to read: taken as our own error
        return None
    else:
        return None
    found = _UNEXPECTED.search(text)
    if found is not None:
        return f"an unexpected keyword argument {found.group(1)!r}"
    if "unexpected keyword" in text:
        return "an unexpected keyword argument"
    found = _MISSING.search(text)
    if found is not None:
        return f"no value for its argument {found.group(1)!r}"
    if "too many positional" in text:
        return "too many positional arguments"
    return "arguments that do not fit its signature"


def report_misuse(site: str, name: str, what: str, instead: str) -> None:
    """Count a call the app made with arguments that do not fit, and say so once per site: a
    usage mistake, not an internal error."""
    site = f"{site}.bad_call"
    stats.count_error(site)
    if site in _logged_sites:
        return
    _logged_sites.add(site)
    with contextlib.suppress(Exception):
        _log.warning(
            "otel_agents: %s() was given %s; %s (nothing is raised into the app). Further such "
            "calls are counted, not logged",
            name,
            what,
            instead,
        )


def contained_call(
    site: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    exc: Exception,
    *,
    instead: str,
) -> bool:
    """``contained`` for a guarded call of ``fn``: a call whose arguments do not fit is reported as the
    app's mistake, saying what happens ``instead``; anything else as an internal error."""
    what = misuse(fn, args, kwargs, exc)
    if what is None:
        return contained(site, exc)
    report_misuse(site, fn.__name__, what, instead)
    return not strict()


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
                if not contained_call(site, fn, args, kwargs, exc, instead="the call does nothing"):
                    raise
                return default

        return cast(F, wrapper)
