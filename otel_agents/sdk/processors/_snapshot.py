"""Plain-dict snapshots of SDK span attributes, so processors read them at C speed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import ReadableSpan

# The last span snapshotted: the processors after the rewrite get the same span object and
# share its snapshot. One slot, replaced whole, so a race only costs a recomputation.
_last: tuple[ReadableSpan | None, dict[str, Any]] = (None, {})


def attributes_of(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain dict of ``attributes`` (a span's read-only view), copied without per-item Python calls."""
    if not attributes:
        return {}
    # The SDK's view is a mappingproxy over BoundedAttributes, whose copy() is a C-level dict copy;
    # iterating the view instead costs a Python call per item.
    copy = getattr(attributes, "copy", None)
    snapshot = copy() if copy is not None else None
    return snapshot if type(snapshot) is dict else dict(attributes)


def span_attributes(span: ReadableSpan) -> dict[str, Any]:
    """``attributes_of(span.attributes)``, computed once per span object; callers must not mutate it.

    An ended SDK span's own dict is returned as it is, not copied: the SDK refuses every write to
    it from the span's end on."""
    global _last  # noqa: PLW0603 - the one-slot memo described above
    last = _last
    if last[0] is span:
        return last[1]
    own: Any = span._attributes
    if own.__class__ is BoundedAttributes and span._end_time is not None:
        snapshot: dict[str, Any] = own._dict
    elif own.__class__ is dict:
        snapshot = own
    else:
        snapshot = attributes_of(span.attributes)
    _last = (span, snapshot)
    return snapshot
