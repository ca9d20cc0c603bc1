"""Process-wide counters of internal errors, dropped records and redactions, read by metrics and the CLI."""

from __future__ import annotations

import threading

# Drop reasons ending so count attributes, events or links the SDK dropped at a span's limits,
# not whole records.
OVER_LIMIT = "_over_limit"

# Plain dicts updated with C calls only: under the lock no Python code runs (a Counter's
# __missing__ would), so SIGTERM's handler, which counts what shutdown drops, can never find the
# lock held by the very frame it interrupted.
_lock = threading.Lock()
_errors: dict[str, int] = {}
_drops: dict[str, int] = {}
_redactions: dict[str, int] = {}


def count_error(site: str) -> None:
    """Count one internal error swallowed at ``site``."""
    with _lock:
        _errors[site] = _errors.get(site, 0) + 1


def count_drop(reason: str, n: int = 1) -> None:
    """Count ``n`` records dropped for ``reason`` (queue full, export failed, torn line...)."""
    if n > 0:
        with _lock:
            _drops[reason] = _drops.get(reason, 0) + n


def count_redaction(kind: str, n: int = 1) -> None:
    """Count ``n`` values redacted by rule ``kind``."""
    if n > 0:
        with _lock:
            _redactions[kind] = _redactions.get(kind, 0) + n


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
