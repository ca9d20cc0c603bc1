"""Bridge stdlib logging into OTel log records without changing how the app's own logging behaves."""

from __future__ import annotations

import logging
import logging.config
import sys
from collections.abc import Callable
from typing import Any, Final

from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained
from otel_agents.api._version import __version__
from otel_agents.api._walk import safe_str

_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}
_PRIMITIVE: Final = (str, bool, int, float, type(None))


def _sanitize(record: logging.LogRecord) -> None:
    """Make every part of ``record`` the OTel handler converts safe to convert."""
    try:
        record.getMessage()
    except Exception:  # noqa: BLE001 - the app's own arguments; rendered safely below
        record.msg, record.args = safe_str(record.msg), ()
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD and not isinstance(value, _PRIMITIVE):
            record.__dict__[key] = safe_str(value)


class GuardedLoggingHandler(LoggingHandler):
    """The OTel logging handler, except that a record it cannot convert never raises into the app."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            super().emit(record)
            return
        except Exception:  # noqa: BLE001, S110 - retried once below, with the record made safe
            pass
        try:
            _sanitize(record)
            super().emit(record)
        except Exception as exc:
            if not contained("logs.emit", exc):
                raise


class _LastResort(logging.StreamHandler):  # type: ignore[type-arg]
    """Stands in for ``logging.lastResort``, which our root handler would otherwise silence."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setLevel(logging.WARNING)


class _OwnScopes:
    """The logger provider as the handler sees it: our own loggers (``otel_agents.*``) get our
    version and schema URL as their instrumentation scope, every other logger is passed through."""

    def __init__(self, provider: LoggerProvider) -> None:
        self._provider = provider

    def get_logger(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> Any:
        if name == semconv.SCOPE_NAME or name.startswith(semconv.SCOPE_NAME + "."):
            version, schema_url = version or __version__, schema_url or semconv.SCHEMA_URL
        return self._provider.get_logger(name, version, schema_url, attributes)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self._provider.force_flush(timeout_millis))


class Bridge:
    """Our handler on the root logger, plus the lastResort stand-in while the app has no handler."""

    def __init__(self, logger_provider: LoggerProvider) -> None:
        self.handler = GuardedLoggingHandler(
            level=logging.NOTSET,
            logger_provider=_OwnScopes(logger_provider),  # type: ignore[arg-type]  # duck-typed
        )
        self.fallback = _LastResort()
        self._originals: dict[str, Callable[..., Any]] = {}

    def install(self) -> None:
        """Attach to the root logger; wrap logging's config functions so they still take effect."""
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(self.fallback)
        root.addHandler(self.handler)
        for module, name in (
            (logging, "basicConfig"),
            (logging.config, "dictConfig"),
            (logging.config, "fileConfig"),
        ):
            original = getattr(module, name)
            self._originals[name] = original
            setattr(module, name, self._wrap(original))

    def uninstall(self) -> None:
        """Detach from the root logger and restore logging's config functions."""
        root = logging.getLogger()
        for handler in (self.handler, self.fallback):
            if handler in root.handlers:
                root.removeHandler(handler)
        for module, name in (
            (logging, "basicConfig"),
            (logging.config, "dictConfig"),
            (logging.config, "fileConfig"),
        ):
            if name in self._originals:
                setattr(module, name, self._originals.pop(name))

    def _wrap(self, config_fn: Callable[..., Any]) -> Callable[..., Any]:
        bridge = self

        def configure_logging(*args: Any, **kwargs: Any) -> Any:
            # basicConfig() does nothing while root has a handler: step aside while the app configures.
            root = logging.getLogger()
            for handler in (bridge.handler, bridge.fallback):
                if handler in root.handlers:
                    root.removeHandler(handler)
            try:
                return config_fn(*args, **kwargs)
            finally:
                if not root.handlers:
                    root.addHandler(bridge.fallback)
                root.addHandler(bridge.handler)

        configure_logging.__wrapped__ = config_fn  # type: ignore[attr-defined]
        return configure_logging
