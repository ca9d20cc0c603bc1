"""Build the exporters a configuration names: OTLP over HTTP or gRPC, or the local store."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.trace.export import SpanExporter

from otel_agents.sdk._options import Options
from otel_agents.store import _paths as store_paths

_log = logging.getLogger("otel_agents")

_SIGNAL_PATHS = {"traces": "v1/traces", "metrics": "v1/metrics", "logs": "v1/logs"}


def _timeout(options: Options, signal: str) -> float | None:
    # A timeout set through the standard variables is the exporter's to read.
    if os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT") or os.environ.get(
        f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT"
    ):
        return None
    return options.export_timeout


def _http_endpoint(options: Options, signal: str) -> str | None:
    # Only an endpoint given as an argument is ours to expand; variables are the exporter's.
    if options.otlp_endpoint is None or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    return f"{options.otlp_endpoint.rstrip('/')}/{_SIGNAL_PATHS[signal]}"


def otlp_exporters(options: Options) -> tuple[SpanExporter, MetricExporter, LogRecordExporter]:
    """OTLP exporters for traces, metrics and logs over the configured protocol."""
    if options.otlp_protocol == "grpc":
        return _grpc(options)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    from otel_agents.sdk._forksafe_session import session_for

    return (
        OTLPSpanExporter(
            endpoint=_http_endpoint(options, "traces"),
            timeout=_timeout(options, "traces"),
            session=session_for("traces"),
        ),
        OTLPMetricExporter(
            endpoint=_http_endpoint(options, "metrics"),
            timeout=_timeout(options, "metrics"),
            session=session_for("metrics"),
        ),
        OTLPLogExporter(
            endpoint=_http_endpoint(options, "logs"),
            timeout=_timeout(options, "logs"),
            session=session_for("logs"),
        ),
    )


def _grpc(options: Options) -> tuple[SpanExporter, MetricExporter, LogRecordExporter]:
    try:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise RuntimeError(
            "otlp_protocol='grpc' needs the grpc extra: pip install 'otel-agents[grpc]'"
        ) from exc
    endpoint = None if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else options.otlp_endpoint
    kwargs: dict[str, Any] = {"endpoint": endpoint}
    return (
        OTLPSpanExporter(timeout=_timeout(options, "traces"), **kwargs),
        OTLPMetricExporter(timeout=_timeout(options, "metrics"), **kwargs),
        OTLPLogExporter(timeout=_timeout(options, "logs"), **kwargs),
    )


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
