"""Standard ``OTEL_*`` variables the SDK would choke on are dropped, with a warning, before it loads."""

from __future__ import annotations

import logging
import math
import os
from typing import Final
from urllib.parse import urlsplit

_log = logging.getLogger("otel_agents")

# Read by opentelemetry.sdk at import or provider construction, where a bad value raises.
_COUNTS: Final = (
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)
_MIN_LENGTH: Final = 16
_CHOICES: Final = {"OTEL_METRICS_EXEMPLAR_FILTER": frozenset({"always_on", "always_off", "trace_based"})}
# Read by the OTLP exporters themselves; a value that is no URL would fail every export.
_URLS: Final = tuple(f"OTEL_EXPORTER_OTLP_{s}ENDPOINT" for s in ("TRACES_", "METRICS_", "LOGS_"))
# Milliseconds, read by the exporters and the metric reader themselves: zero or less, or past
# what a socket's timeout takes, failed every export ("timestamp out of range").
_TIMEOUTS: Final = (
    *(f"OTEL_EXPORTER_OTLP_{s}TIMEOUT" for s in ("", "TRACES_", "METRICS_", "LOGS_")),
    "OTEL_METRIC_EXPORT_TIMEOUT",
)
_MAX_TIMEOUT_MS: Final = 7 * 86_400 * 1000.0
# Names that importing opentelemetry.propagate looks up among the installed propagators.
_PROPAGATORS: Final = "OTEL_PROPAGATORS"


def _why(name: str, raw: str) -> str | None:
    """Why ``raw`` is no good for ``name``, or None when it is."""
    text = raw.strip()
    if name in _COUNTS:
        return None if text.isdigit() else "expected a non-negative integer"
    if name in _CHOICES:
        return (
            None if text.lower() in _CHOICES[name] else f"expected one of {', '.join(sorted(_CHOICES[name]))}"
        )
    if name in _TIMEOUTS:
        try:
            ms = float(text)
        except ValueError:
            ms = math.nan
        return None if 0 < ms <= _MAX_TIMEOUT_MS else "expected milliseconds above 0, at most 7 days"
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "the URL's port is not a number from 1 to 65535"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http:// or https:// URL with a host"
    return None


def drop_bad_sdk_variables() -> list[str]:
    """Remove (and name in a warning) each standard variable whose value the SDK cannot use, so it
    falls back to its default instead of raising into the application; the names removed."""
    dropped = []
    for name in (*_COUNTS, *_CHOICES, *_URLS, *_TIMEOUTS):
        raw = os.environ.get(name)
        if raw is None or raw == "":
            continue
        why = _why(name, raw)
        if why is not None:
            _log.warning("otel_agents: ignoring %s=%r: %s", name, raw[:200], why)
            del os.environ[name]
            dropped.append(name)
    if _keep_known_propagators():
        dropped.append(_PROPAGATORS)
    return dropped


def _keep_known_propagators() -> bool:
    """``OTEL_PROPAGATORS`` without the names no installed propagator has (a typo, a trailing
    comma), with a warning: importing ``opentelemetry.propagate`` raised for any of them, and so
    did ``configure()``. The known ones stay; none left, the SDK's default. True when changed."""
    raw = os.environ.get(_PROPAGATORS)
    if not raw:
        return False
    try:
        from opentelemetry.util._importlib_metadata import entry_points

        known = {ep.name for ep in entry_points(group="opentelemetry_propagator")}
    except Exception:  # noqa: BLE001 - unknown then: the variable is left to the SDK, as before
        return False
    names = [part.strip() for part in raw.split(",")]
    keep = [n for n in names if n and (n in known or n.lower() == "none")]
    if len(keep) == len(names):
        return False
    unknown = [n for n in names if n not in keep]
    shown = ", ".join(repr(n) for n in unknown)[:200]
    using = ",".join(keep) if keep else "the default (tracecontext,baggage)"
    _log.warning(
        "otel_agents: ignoring %s=%r: no propagator %s installed; using %s",
        _PROPAGATORS,
        raw[:200],
        shown,
        using,
    )
    if keep:
        os.environ[_PROPAGATORS] = ",".join(keep)
    else:
        del os.environ[_PROPAGATORS]
    return True
