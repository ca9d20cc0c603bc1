"""Runtime switches the API layer reads on every call; ``configure()`` sets them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from otel_agents.api import _semconv as semconv

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# opentelemetry-util-genai's values: content on spans for span_only and span_and_event; event_only
# puts content in events (log records) only, so spans stay without it.
CAPTURE_VALUES: dict[str, bool] = {
    **dict.fromkeys(_TRUE, True),
    **dict.fromkeys(_FALSE, False),
    "no_content": False,
    "span_only": True,
    "event_only": False,
    "span_and_event": True,
}
# The same values read for events (log records) from GenAI libraries: util-genai's enum says where
# content goes, so event_only allows it there and span_only does not.
CAPTURE_EVENT_VALUES: dict[str, bool] = {**CAPTURE_VALUES, "span_only": False, "event_only": True}


def parse_capture(value: object) -> bool:
    """``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` as a bool (true/false or util-genai's enum)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in CAPTURE_VALUES:
        return CAPTURE_VALUES[value.strip().lower()]
    raise ValueError("expected true, false, no_content, span_only, event_only or span_and_event")


def capture_in_events(argument: object, env: Sequence[str]) -> bool:
    """Whether GenAI libraries' log records may keep content: ``argument`` (``capture_content``)
    when given, else the first valid variable of ``env`` as util-genai reads it, else no."""
    if argument is not None:
        if isinstance(argument, str) and argument.strip().lower() in CAPTURE_EVENT_VALUES:
            return CAPTURE_EVENT_VALUES[argument.strip().lower()]
        return parse_capture(argument)
    for name in env:
        raw = os.environ.get(name, "").strip().lower()
        if raw in CAPTURE_EVENT_VALUES:
            return CAPTURE_EVENT_VALUES[raw]
    return False


def _capture_env() -> bool:
    try:
        return parse_capture(os.environ.get(semconv.ENV_CAPTURE_CONTENT, "false"))
    except ValueError:
        return False


@dataclass
class Switches:
    """What the API records beyond the always-on metadata."""

    capture_content: bool = _capture_env()
    log_events: bool = False
    legacy_route_keys: bool = False
    preview_content: bool = False


switches = Switches()
