"""Build the exporters a configuration names, per signal: OTLP over HTTP or gRPC, console, the store."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.trace.export import SpanExporter

from otel_agents.sdk import _otlp_partial
from otel_agents.sdk._failed_exports import note
from otel_agents.sdk._grpc_export import watch_export
from otel_agents.sdk._options import Options, from_argument
from otel_agents.store import _paths as store_paths

_log = logging.getLogger("otel_agents")

_SIGNAL_PATHS: Final = {"traces": "v1/traces", "metrics": "v1/metrics", "logs": "v1/logs"}
_HTTP_MODULES: Final = {
    # The stock exporter sending our encoder's bytes (same name, same drop reasons).
    "traces": (f"{__package__}._otlp_span_exporter", "OTLPSpanExporter"),
    "metrics": ("opentelemetry.exporter.otlp.proto.http.metric_exporter", "OTLPMetricExporter"),
    "logs": ("opentelemetry.exporter.otlp.proto.http._log_exporter", "OTLPLogExporter"),
}
_GRPC_MODULES: Final = {
    "traces": ("opentelemetry.exporter.otlp.proto.grpc.trace_exporter", "OTLPSpanExporter"),
    "metrics": ("opentelemetry.exporter.otlp.proto.grpc.metric_exporter", "OTLPMetricExporter"),
    "logs": ("opentelemetry.exporter.otlp.proto.grpc._log_exporter", "OTLPLogExporter"),
}
_CONSOLE: Final = {
    "traces": ("opentelemetry.sdk.trace.export", "ConsoleSpanExporter"),
    "metrics": ("opentelemetry.sdk.metrics.export", "ConsoleMetricExporter"),
    "logs": ("opentelemetry.sdk._logs.export", "ConsoleLogRecordExporter"),
}
_STORE_ATTRIBUTES: Final = {"traces": "span_exporter", "metrics": "metric_exporter", "logs": "log_exporter"}

Exporter = SpanExporter | MetricExporter | LogRecordExporter


def _load(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


def _timeout(options: Options, signal: str) -> float | None:
    # A timeout set through the standard variables is the exporter's to read, unless
    # configure(export_timeout=...) was given (argument > OTEL_*).
    if (
        os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT")
    ) and not from_argument(options, "export_timeout"):
        return None
    return options.export_timeout


def _endpoint_argument(options: Options) -> str | None:
    """``otlp_endpoint`` when it was given as an argument; a variable is the exporter's to read."""
    endpoint = options.otlp_endpoint
    if endpoint is None or endpoint == os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return None
    return endpoint


def protocol(options: Options, signal: str, name: str) -> str:
    """The OTLP protocol exporter ``name`` (``otlp``, ``otlp_proto_http``, ``otlp_proto_grpc``) uses."""
    if name == "otlp_proto_grpc":
        return "grpc"
    if name == "otlp_proto_http":
        return "http/protobuf"
    return options.protocol_for(signal)


def otlp_exporter(options: Options, signal: str, name: str = "otlp") -> Exporter:
    """One OTLP exporter for ``signal``; endpoint, headers, compression, TLS files and timeouts come
    from the standard per-signal and general variables as the SDK exporters read them, except an
    endpoint or timeout given to ``configure()``."""
    endpoint = _endpoint_argument(options)
    timeout = _timeout(options, signal)
    if protocol(options, signal, name) == "grpc":
        try:
            cls = _load(*_GRPC_MODULES[signal])
        except ImportError as exc:
            raise RuntimeError(
                "otlp_protocol='grpc' needs the grpc extra: pip install 'otel-agents[grpc]'"
            ) from exc
        exporter = cls(endpoint=endpoint, timeout=timeout)
        # Both kept their failures in a cycle (the RpcError) and took refusals as plain successes.
        watch_export(exporter, on_answer=_otlp_partial.answer_reader(signal), on_error=note)
        return exporter  # type: ignore[no-any-return]
    from otel_agents.sdk._forksafe_session import session_for

    cls = _load(*_HTTP_MODULES[signal])
    url = f"{endpoint.rstrip('/')}/{_SIGNAL_PATHS[signal]}" if endpoint is not None else None
    exporter = cls(endpoint=url, timeout=timeout, session=session_for(signal))
    _otlp_partial.watch(exporter, signal)
    return exporter  # type: ignore[no-any-return]


def prometheus_reader() -> MetricReader | None:
    """The process's Prometheus reader (``OTEL_METRICS_EXPORTER=prometheus``); None, with a warning,
    without the extra."""
    from otel_agents.sdk import _prometheus_reader

    try:
        return _prometheus_reader.reader()
    except ImportError as exc:
        _log.warning("otel_agents: OTEL_METRICS_EXPORTER=prometheus: %s", exc)
        return None


def console_exporter(signal: str) -> Exporter:
    """The SDK's console exporter for ``signal`` (JSON lines on stdout)."""
    return _load(*_CONSOLE[signal])()  # type: ignore[no-any-return]


def store_exporter(store: Any, signal: str) -> Exporter:
    """The local store's exporter for ``signal``."""
    return getattr(store, _STORE_ATTRIBUTES[signal])  # type: ignore[no-any-return]


def open_local_store(options: Options) -> Any:
    """The embedded store at ``options.home`` (default ``$OTEL_AGENTS_HOME`` or ~/.otel-agents)."""
    try:
        from otel_agents import store
    except ImportError:
        _log.warning("otel_agents: the local store is not available; exporting to the console")
        return None
    home = options.home if options.home is not None else store.default_home()
    try:
        try:
            return store.open_store(home)
        except sqlite3.DatabaseError as exc:
            if not _corrupt(exc):
                raise
            aside = _set_aside(store_paths.db_path(home))
            _log.warning(
                "otel_agents: the store database at %s is not readable (%s); it was kept as %s and a "
                "new one started",
                home,
                exc,
                aside,
            )
            return store.open_store(home)
    except (OSError, sqlite3.Error) as exc:
        if _home_argument(options):
            raise ValueError(
                f"configure(home={str(home)!r}): cannot open the local store there: {exc}"
            ) from None
        # A bad environment, not a bad call: the application starts, without a store, and says so.
        _log.warning(
            "otel_agents: cannot open the local store at %s (%s); telemetry is not stored. Set %s "
            "to a writable directory, or an OTLP endpoint.",
            home,
            exc,
            store_paths.HOME_ENV,
        )
        return False


def _home_argument(options: Options) -> bool:
    """True when ``home`` came from configure(home=...), not from the variable or the default."""
    env = os.environ.get("OTEL_AGENTS_HOME", "").strip()
    return options.home is not None and not (env and Path(env).expanduser() == options.home)


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def _set_aside(db_path: Path) -> Path:
    """Rename a broken database (and its -wal/-shm) out of the way; the new name."""
    aside = db_path.with_name(f"{db_path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{db_path}{suffix}")
        if source.exists():
            source.rename(Path(f"{aside}{suffix}"))
    return aside
