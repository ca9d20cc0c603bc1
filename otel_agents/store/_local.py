"""One process's handle on a local store: its three exporters and ``close()``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from otel_agents.api._guard import never_raise

if TYPE_CHECKING:
    from otel_agents.store._exporters import StoreLogExporter, StoreMetricExporter, StoreSpanExporter


class LocalStore:
    """One process's handle on a store: its three exporters and ``close()``."""

    def __init__(self, home: Path) -> None:
        # The SDK is imported here, not at module level: the CLI reads stores without it.
        from otel_agents.store._exporters import StoreLogExporter, StoreMetricExporter, StoreSpanExporter
        from otel_agents.store._writer import StoreWriter

        self.home = home
        self._writer = StoreWriter(home)
        self.span_exporter: StoreSpanExporter = StoreSpanExporter(self._writer)
        self.metric_exporter: StoreMetricExporter = StoreMetricExporter(self._writer)
        self.log_exporter: StoreLogExporter = StoreLogExporter(self._writer)

    @never_raise("store.close")
    def close(self) -> None:
        """Persist counters and release files and the database connection."""
        self._writer.close()


def open_store(path: Path) -> LocalStore:
    """Open (creating and migrating if needed) the store at ``path``.

    Raises ``OSError``/``sqlite3.Error`` when the directory or database cannot be opened, so
    ``configure()`` can report a bad location clearly instead of losing data silently.
    """
    return LocalStore(Path(path).expanduser())
