"""The embedded local store: where telemetry goes when no OTLP endpoint is configured."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_agents.store._local import LocalStore, open_store
    from otel_agents.store._ndjson import read_file
    from otel_agents.store._paths import default_home

__all__ = ["LocalStore", "default_home", "open_store", "read_file"]

# Loaded on first use: the CLI imports the store's modules (each of which runs this file first)
# without the guard's `logging` or the line-file reader, which are a third of its start-up.
_LAZY = {
    "LocalStore": "._local",
    "open_store": "._local",
    "read_file": "._ndjson",
    "default_home": "._paths",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_agents.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
