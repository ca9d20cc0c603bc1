"""Escaping and number formatting for the UI's HTML: every stored string passes through ``e``."""

from __future__ import annotations

import html
import re
import time
from datetime import datetime, timezone
from typing import Final

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def e(value: object) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and both quotes escaped (safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def parse_time(text: str, *, now: float | None = None) -> int | None:
    """Nanoseconds for ``30m``/``2h``/``7d`` (ago), ``now`` or ISO 8601; None if unreadable or empty."""
    text = (text or "").strip()
    if not text:
        return None
    now = time.time() if now is None else now
    if text == "now":
        return int(now * 1e9)
    m = _DURATION_RE.match(text)
    if m:
        return int((now - float(m[1]) * _UNITS[m[2]]) * 1e9)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1e9)


def fmt_time(ns: int | None) -> str:
    """UTC wall time ``YYYY-mm-dd HH:MM:SS`` (the server's local zone would mislead a remote reader)."""
    if not ns:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def fmt_tokens(tin: int | None, tout: int | None) -> str:
    """``in/out`` tokens, or ``-``."""
    if tin is None and tout is None:
        return "-"
    return f"{tin or 0:,}/{tout or 0:,}"
