"""Turning arbitrary attribute values into bounded, JSON-safe values without ever raising."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.api._walk import Limits, json_renderer, walk
from otel_agents.api._walk import safe_str as walk_safe_str

# A store must survive a caller that puts a 100 MB string in an attribute.
MAX_STRING_CHARS: Final = 64 * 1024
MAX_ITEMS: Final = 1000
MAX_DEPTH: Final = 8
MAX_NODES: Final = 10_000

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def safe_str(value: object) -> str:
    """``str(value)``, or the walk's marker when ``__str__`` raises; capped in length with a marker."""
    return cap(walk_safe_str(value, limit=2**62))


def cap(text: str) -> str:
    """Truncate ``text`` to :data:`MAX_STRING_CHARS` with the package's truncation marker."""
    if len(text) <= MAX_STRING_CHARS:
        return text
    return text[:MAX_STRING_CHARS] + semconv.TRUNCATED_MARKER.format(len(text) - MAX_STRING_CHARS)


_PLAIN = json_renderer(cap)
LIMITS: Final = Limits(
    max_depth=MAX_DEPTH, max_items=MAX_ITEMS, max_nodes=MAX_NODES, key_chars=MAX_STRING_CHARS
)


def plain(value: object) -> JsonValue:
    """A JSON-safe copy of ``value``, rendered by the one walk (``otel_agents.api._walk``)."""
    return walk(value, _PLAIN, LIMITS)  # type: ignore[return-value]


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

    Non-finite floats are spelled as the one walk spells them (``NaN``, ``Infinity``).
    """
    if not attributes:
        return None
    # A try statement rather than contextlib.suppress: this runs for every span and event.
    try:
        text = orjson.dumps(attributes if isinstance(attributes, dict) else _items(attributes))
    except Exception:  # noqa: BLE001 - orjson rejects big ints, bytes, sets, odd keys...
        text = None
    # orjson writes NaN and infinities as null; a null (or the word in a string) takes the walk.
    if text is not None and len(text) <= MAX_STRING_CHARS and b"null" not in text:
        return text.decode()
    return dumps(plain(_items(attributes))).decode()


def _items(attributes: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(attributes.items())
    except Exception:  # noqa: BLE001 - a hostile Mapping: keep nothing rather than fail
        return {}


def json_object(text: str | None) -> dict[str, Any]:
    """A stored JSON object column read back: ``{}`` for NULL, invalid JSON or anything not an object."""
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
