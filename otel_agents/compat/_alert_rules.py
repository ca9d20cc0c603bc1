"""Threshold rules with duration and cooldown, checked on values the caller passes, via the seam."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from otel_agents.compat._alerting import Backend


@dataclass
class RuleClock:
    """When a rule's condition started holding and when it last notified."""

    since: float | None = None
    last_fired: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def finite(value: object) -> float | None:
    """``value`` as a finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def evaluate(
    backend: Backend,
    clock: RuleClock,
    *,
    holds: bool,
    duration: float,
    cooldown: float,
    fire: Callable[[], str | None],
    key: str,
    now: Callable[[], float] = time.monotonic,
) -> str | None:
    """One evaluation: fire once the condition held ``duration`` s (not within ``cooldown`` s of the
    last firing); resolve the active alert as soon as it stops holding. Returns the key if it fired.
    """
    t = now()
    with clock.lock:
        if not holds:
            clock.since = None
            active = key in backend.active_keys()
        else:
            if clock.since is None:
                clock.since = t
            ready = t - clock.since >= duration
            cooling = clock.last_fired is not None and t - clock.last_fired < cooldown
            if not ready or cooling or key in backend.active_keys():
                return None
            clock.last_fired = t
            active = False
    if not holds:
        if active:
            backend.resolve(key)
        return None
    return fire()


def describe(template: str, **values: Any) -> str:
    """``template`` filled with ``values``; a template that does not fit is returned as it is."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        return template
