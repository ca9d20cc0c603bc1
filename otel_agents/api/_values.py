"""Turn arbitrary user values into OTel attribute values or short summaries, without ever raising."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import report
from otel_agents.api._walk import (
    INT64_MAX,
    INT64_MIN,
    Limits,
    bytes_text,
    exact_str,
    int_text,
    json_double,
    json_renderer,
    safe_str,
    walk,
)

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[bool] | Sequence[int] | Sequence[float]

_MAX_DEPTH: Final = 8
_MAX_ITEMS: Final = 256
_MAX_SUMMARY_KEYS: Final = 20
_MAX_CACHED_SUMMARIES: Final = 1024
_MAX_CACHED_SUMMARY_LENGTH: Final = 512
# Summaries of small str-keyed dicts by their key tuple; the one string object is reused, so its
# hash is computed once for redaction's memory of unchanged values too.
_dict_summaries: dict[tuple[object, ...], str] = {}


# The SDK's cap on a span attribute's length (configure() sets it). A longer string is cut here as
# the SDK would cut it, because the SDK builds a warning log record for each one it cuts (which
# configure()'s filter then drops after the first): 10-20 us a value.
_span_value_cap: int | None = None


def set_span_value_cap(cap: int | None) -> None:
    """Cut span attribute strings to ``cap`` before the SDK sees them (None: leave them to it)."""
    global _span_value_cap  # noqa: PLW0603 - one SDK pipeline per process
    _span_value_cap = cap


def fit_span_value(value: AttributeValue) -> AttributeValue:
    """``value``, a string cut to the SDK's span attribute cap as the SDK would cut it."""
    cap = _span_value_cap
    if cap is not None and value.__class__ is str and len(value) > cap:
        return value[:cap]
    return value


_JSON = json_renderer()
_JSON_LIMITS = Limits(max_depth=_MAX_DEPTH, max_items=_MAX_ITEMS)
_NOT_SCALAR = object()


def _scalar(value: object) -> object:
    """``value`` made safe if it is a scalar (the walk's renderings), else a marker.

    Subclasses of str, int and float become the plain type first: their overridden methods
    (comparison, hashing, formatting) may raise.
    """
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return exact_str(value)
    if isinstance(value, int):
        number = int.__int__(value)
        return number if INT64_MIN <= number <= INT64_MAX else int_text(number)
    if isinstance(value, float):
        return json_double(float.__float__(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes_text(value)
    return _NOT_SCALAR


def to_json(value: object) -> str:
    """A JSON rendering of ``value`` that survives recursion, bytes, NaN and hostile objects."""
    try:
        return orjson.dumps(walk(value, _JSON, _JSON_LIMITS)).decode()
    except Exception as exc:  # noqa: BLE001 - e.g. a Mapping whose items() raises
        report("values.to_json", exc)
        return f"<unserialisable {type(value).__name__}>"


def _homogeneous(items: Sequence[object]) -> AttributeValue | None:
    if not items:
        return ()
    first = type(items[0])
    if first not in (str, bool, int, float) or any(type(i) is not first for i in items):
        return None
    if first is float and not all(math.isfinite(i) for i in items):  # type: ignore[arg-type]
        return None
    if first is int and not all(INT64_MIN <= i <= INT64_MAX for i in items):  # type: ignore[operator]
        return None
    return tuple(items)  # type: ignore[return-value]


def to_attribute(value: object) -> AttributeValue | None:
    """The closest valid OTel attribute value for ``value`` (None means: do not set it)."""
    scalar = _scalar(value)
    if scalar is not _NOT_SCALAR:
        return scalar  # type: ignore[return-value]
    if isinstance(value, (list, tuple)) and len(value) <= _MAX_ITEMS:
        homogeneous = _homogeneous(value)
        if homogeneous is not None:
            return homogeneous
    return to_json(value)


def summarize(value: object) -> str:
    """A content-free description of ``value``: its type, size and (for mappings) key names."""
    try:
        if type(value) is dict and len(value) <= _MAX_SUMMARY_KEYS:
            # The common case: a tool called again with the same argument names. Keys are hashable
            # by definition; a non-str key makes a different tuple, so only str keys are cached.
            keys = tuple(value)
            cached = _dict_summaries.get(keys)
            if cached is not None:
                return cached
            if all(type(k) is str for k in keys):
                text = orjson.dumps({"type": "dict", "len": len(keys), "keys": keys}).decode()
                if len(text) <= _MAX_CACHED_SUMMARY_LENGTH:  # bounded memory: only short key sets
                    if len(_dict_summaries) >= _MAX_CACHED_SUMMARIES:
                        _dict_summaries.clear()
                    _dict_summaries[keys] = text
                return text
        kind = type(value).__name__
        summary: dict[str, object] = {"type": kind}
        if isinstance(value, Mapping):
            summary["len"] = len(value)
            summary["keys"] = [
                safe_str(k, 64) for _, k in zip(range(_MAX_SUMMARY_KEYS), value.keys(), strict=False)
            ]
        elif isinstance(value, (str, bytes, bytearray, list, tuple, set, frozenset)):
            summary["len"] = len(value)
        # Only str, int and lists of str here: orjson cannot fail on it.
        return orjson.dumps(summary).decode()
    except Exception as exc:  # noqa: BLE001 - len()/keys() of a hostile object
        report("values.summarize", exc)
        return to_json({"type": "unknown"})


def preview_source(value: object) -> str:
    """The start of ``value`` as text, for a human-readable preview the SDK cuts after redaction.

    Longer than the preview itself, so a secret crossing the cut is still whole when the redactor
    sees it; strings are taken as they are, anything else as its JSON rendering.
    """
    text = value if isinstance(value, str) else to_json(value)
    limit = semconv.PREVIEW_SOURCE
    return text if len(text) <= limit else text[:limit]
