"""Process-wide counters of internal errors, dropped records and redactions, read by metrics and the CLI."""

from __future__ import annotations

import threading
from collections import Counter

# Drop reasons ending so count attributes, events or links the SDK dropped at a span's limits,
# not whole records.
OVER_LIMIT = "_over_limit"

_lock = threading.Lock()
_errors: Counter[str] = Counter()
_drops: Counter[str] = Counter()
_redactions: Counter[str] = Counter()


def count_error(site: str) -> None:
    """Count one internal error swallowed at ``site``."""
    with _lock:
        _errors[site] += 1


def count_drop(reason: str, n: int = 1) -> None:
    """Count ``n`` records dropped for ``reason`` (queue full, export failed, torn line...)."""
    if n > 0:
        with _lock:
            _drops[reason] += n


def count_redaction(kind: str, n: int = 1) -> None:
    """Count ``n`` values redacted by rule ``kind``."""
    if n > 0:
        with _lock:
            _redactions[kind] += n


def errors() -> dict[str, int]:
    """Internal errors by site."""
    with _lock:
        return dict(_errors)


def drops() -> dict[str, int]:
    """Dropped records by reason."""
    with _lock:
        return dict(_drops)


def redactions() -> dict[str, int]:
    """Redactions by rule."""
    with _lock:
        return dict(_redactions)


def reset() -> None:
    """Forget every count (tests only)."""
    with _lock:
        _errors.clear()
        _drops.clear()
        _redactions.clear()
