"""How stored figures read as text (durations, costs, counts): one spelling for the CLI and the UI."""

from __future__ import annotations


def fmt_duration(ns: float | None) -> str:
    """A human duration: ``850us``, ``12.3ms``, ``4.56s``, ``3m12s``."""
    if ns is None:
        return "-"
    if ns < 1e6:
        return f"{ns / 1e3:.0f}us"
    if ns < 1e9:
        return f"{ns / 1e6:.1f}ms"
    if ns < 60e9:
        return f"{ns / 1e9:.2f}s"
    minutes, seconds = divmod(int(ns / 1e9), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_cost(usd: float | None) -> str:
    """Dollars with enough digits for fractions of a cent; ``-`` when unknown."""
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd:.6f}"
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def fmt_int(n: int | None) -> str:
    """An integer with thousands separators; ``-`` when absent."""
    return "-" if n is None else f"{n:,}"
