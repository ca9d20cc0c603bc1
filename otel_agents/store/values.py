"""Turning arbitrary attribute values into bounded, JSON-safe values without ever raising."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from otel_agents import semconv

# A store must survive a caller that puts a 100 MB string in an attribute.
MAX_STRING_CHARS: Final = 64 * 1024
MAX_ITEMS: Final = 1000
MAX_DEPTH: Final = 8
MAX_NODES: Final = 10_000
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def safe_str(value: object) -> str:
    """``str(value)``, or a type marker when ``__str__`` raises; capped in length."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - user objects may raise anything from __str__
        text = f"<unprintable {type(value).__name__}>"
    if not isinstance(text, str):
        text = f"<unprintable {type(value).__name__}>"
    return cap(text)


def cap(text: str) -> str:
    """Truncate ``text`` to :data:`MAX_STRING_CHARS` with the package's truncation marker."""
    if len(text) <= MAX_STRING_CHARS:
        return text
    return text[:MAX_STRING_CHARS] + semconv.TRUNCATED_MARKER.format(len(text) - MAX_STRING_CHARS)


def plain(value: object) -> JsonValue:
    """A JSON-safe copy of ``value``: NaN/inf and unknown objects become strings, bytes base64."""
    return _plain(value, 0, [MAX_NODES])


def _plain(value: object, depth: int, budget: list[int]) -> JsonValue:
    # The budget bounds the total work: a list holding itself a thousand times is finite to us.
    budget[0] -= 1
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return cap(value)
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)[:MAX_STRING_CHARS]).decode("ascii")
    if depth >= MAX_DEPTH or budget[0] <= 0:
        return f"<nested too deep: {type(value).__name__}>"
    try:
        if isinstance(value, Mapping):
            out: dict[str, JsonValue] = {}
            for k, v in value.items():
                if budget[0] <= 0 or len(out) >= MAX_ITEMS:
                    break
                out[safe_str(k)] = _plain(v, depth + 1, budget)
            return out
        if isinstance(value, (Sequence, set, frozenset)):
            items: list[JsonValue] = []
            for v in value:
                if budget[0] <= 0 or len(items) >= MAX_ITEMS:
                    break
                items.append(_plain(v, depth + 1, budget))
            return items
    except Exception:  # noqa: BLE001 - a hostile container may raise while iterating
        return f"<unreadable {type(value).__name__}>"
    return safe_str(value)


def scrub(value: Any) -> Any:
    """``value`` with lone surrogates in its strings replaced, so UTF-8 encoders accept it."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v) for v in value)
    return value


def dumps(value: Any) -> bytes:
    """``orjson.dumps`` that retries once with :func:`scrub` (the only thing it rejects in our data)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return orjson.dumps(scrub(value))


def attributes_of(owner: Any) -> dict[str, Any]:
    """A plain dict of an SDK span's, event's or log record's attributes, without copying twice.

    The public ``attributes`` of a span is a read-only proxy over ``BoundedAttributes``, whose
    Python-level item access costs ~2 us per span; its backing dict is read directly when present.
    """
    raw = getattr(owner, "_attributes", None)
    if raw.__class__ is dict:
        # A ReadableSpan built from a plain dict (exporters, tests, replays) keeps that dict.
        return raw
    backing = getattr(raw, "_dict", None)
    if isinstance(backing, dict):
        return backing
    attrs = owner.attributes
    if not attrs:
        return {}
    if isinstance(attrs, dict):
        return attrs
    return _items(attrs)


def dumps_attributes(attributes: Mapping[str, Any] | None) -> str | None:
    """Attributes as a JSON object text (None when empty); never raises on hostile values.

    Non-finite floats become null here (the OTLP/JSON line keeps them exactly).
    """
    if not attributes:
        return None
    # A try statement rather than contextlib.suppress: this runs for every span and event.
    try:
        text = orjson.dumps(attributes if isinstance(attributes, dict) else _items(attributes))
    except Exception:  # noqa: BLE001 - orjson rejects big ints, bytes, sets, odd keys...
        text = None
    if text is not None and len(text) <= MAX_STRING_CHARS:
        return text.decode()
    return dumps(plain(_items(attributes))).decode()


def _items(attributes: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(attributes.items())
    except Exception:  # noqa: BLE001 - a hostile Mapping: keep nothing rather than fail
        return {}
