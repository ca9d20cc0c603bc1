"""Plain-dict snapshots of SDK span attributes, so processors read them at C speed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def attributes_of(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain dict of ``attributes`` (a span's read-only view), copied without per-item Python calls."""
    if not attributes:
        return {}
    # The SDK's view is a mappingproxy over BoundedAttributes, whose copy() is a C-level dict copy;
    # iterating the view instead costs a Python call per item.
    copy = getattr(attributes, "copy", None)
    snapshot = copy() if copy is not None else None
    return snapshot if type(snapshot) is dict else dict(attributes)
