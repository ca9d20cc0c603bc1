"""The local telemetry library's API (TelemetryClient, track_run) over OTel runs in the local store.

Every old call and what it is now (nothing here stores or formats data of its own):

====================================================  =============================================
old call                                              OTel-native equivalent
====================================================  =============================================
``TelemetryClient(config=None)``                      ``oa.configure(home=..., exporter="store",
                                                      preview_content=True)`` unless already configured
``TELEMETRY_BASE_DIR`` / ``TELEMETRY_DB_PATH``        ``configure(home=...)``: the store's directory
                                                      (the database is ``store.sqlite`` inside it)
``METRICS_API_ENABLED`` (+ ``METRICS_API_URL``)       extra OTLP/HTTP span exporter and metric reader
                                                      (batched in the background, never blocking)
``client.start_run(agent, job_type, trigger_type,     ``oa.start_run(agent, kind="agent")`` +
**kw)`` -> run id                                     ``set_metadata(job_type=, trigger_type=, **kw)``
``client.log_event(run_id, type, payload)``           a span event ``type`` on the run span
``client.end_run(run_id, status=, **metrics)``        ``set_items``/``set_input``/``set_result``/
                                                      ``set_metrics``/``set_metadata`` +
                                                      ``oa.end_run(run_id, status=...)``
``with client.track_run(agent, job_type) as ctx``     ``start_run`` + ``run.activate()``; status
                                                      ``success``, or ``failed`` with the exception
``ctx.log_event`` / ``ctx.set_metrics(...)``          as ``log_event`` / ``end_run``'s metrics
``client.get_stats()``                                ``oa.get_stats()`` + run counts from the store
``client.export_csv(path)``                           the rows of ``otel-agents export runs``
``client.health_check()``                             ``SELECT 1`` on the store + its directory writable
``client.backup_database(dir)``                       ``otel-agents backup DIR``
====================================================  =============================================

``set_metrics`` fields: ``items_discovered/succeeded/failed`` -> ``otel_agents.run.items.*``;
``input_summary``/``output_summary`` -> the run's input/output (summarised, plus the 100-character
preview this client turns on); ``error_summary`` -> ``otel_agents.run.error_summary``;
``metrics_json`` and any unknown keyword -> ``otel_agents.run.metrics``; ``insight_id``, ``product``,
``platform``, ``product_family``, ``subdomain``, ``git_repo``, ``git_branch`` ->
``otel_agents.run.metadata.*``. Telemetry never raises: a bad value is logged once and counted.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.api._runs import MAX_OPEN_RUNS, Run, get_run, start_run
from otel_agents.api._walk import safe_str
from otel_agents.compat._support import bad_input, pipeline, tolerant
from otel_agents.sdk import _stats
from otel_agents.store import _backup
from otel_agents.store import _db as db
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries

__all__ = ["RunTracker", "TelemetryClient", "TelemetryConfig", "track_run"]

_log = logging.getLogger("otel_agents")

BASE_DIR_ENV: Final = "TELEMETRY_BASE_DIR"
DB_PATH_ENV: Final = "TELEMETRY_DB_PATH"
API_ENABLED_ENV: Final = "METRICS_API_ENABLED"
API_URL_ENV: Final = "METRICS_API_URL"
STATUS_SUCCESS: Final = "success"
STATUS_FAILED: Final = "failed"
ITEM_FIELDS: Final = ("items_discovered", "items_succeeded", "items_failed")
METADATA_FIELDS: Final = (
    "insight_id",
    "product",
    "platform",
    "product_family",
    "subdomain",
    "git_repo",
    "git_branch",
)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class TelemetryConfig:
    """Where runs are stored and whether they are also sent to a remote endpoint."""

    base_dir: str | Path | None = None
    db_path: str | Path | None = None
    metrics_api_enabled: bool = False
    metrics_api_url: str | None = None
    service_name: str = "local-telemetry"
    preview: bool = True

    def __post_init__(self) -> None:
        for name in ("base_dir", "db_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, Path)):
                raise TypeError(f"TelemetryConfig({name}=...): expected a path, got {type(value).__name__}")
        for name in ("metrics_api_enabled", "preview"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"TelemetryConfig({name}=...): expected true or false")
        if self.metrics_api_url is not None and not (
            isinstance(self.metrics_api_url, str) and self.metrics_api_url.startswith(("http://", "https://"))
        ):
            raise ValueError("TelemetryConfig(metrics_api_url=...): expected an http(s) URL")
        if self.metrics_api_enabled and self.metrics_api_url is None:
            raise ValueError("TelemetryConfig(metrics_api_enabled=True) needs metrics_api_url")
        if not isinstance(self.service_name, str) or not self.service_name:
            raise TypeError("TelemetryConfig(service_name=...): expected a non-empty string")

    @classmethod
    def from_env(cls) -> TelemetryConfig:
        """The configuration the old variables describe; a bad value warns and is ignored."""
        enabled_raw = os.environ.get(API_ENABLED_ENV, "").strip().lower()
        enabled = enabled_raw in _TRUE
        if enabled_raw not in _TRUE | _FALSE:
            _log.warning("otel_agents: ignoring %s=%r: expected true or false", API_ENABLED_ENV, enabled_raw)
        url = os.environ.get(API_URL_ENV) or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
        if url is not None and not url.startswith(("http://", "https://")):
            _log.warning("otel_agents: ignoring %s=%r: expected an http(s) URL", API_URL_ENV, url)
            url = None
        if enabled and url is None:
            _log.warning("otel_agents: %s is on but %s is not set; not posting", API_ENABLED_ENV, API_URL_ENV)
            enabled = False
        return cls(
            base_dir=os.environ.get(BASE_DIR_ENV) or None,
            db_path=os.environ.get(DB_PATH_ENV) or None,
            metrics_api_enabled=enabled,
            metrics_api_url=url,
        )

    @property
    def home(self) -> Path | None:
        """The store directory: ``db_path``'s directory, else ``base_dir``, else the default store."""
        if self.db_path is not None:
            path = Path(self.db_path).expanduser()
            if path.name != paths.DB_NAME:
                _log.warning(
                    "otel_agents: %s=%s: the store keeps its database as %s in that directory",
                    DB_PATH_ENV,
                    path,
                    paths.DB_NAME,
                )
            return path.parent
        return Path(self.base_dir).expanduser() if self.base_dir is not None else None


def _config_of(config: object) -> TelemetryConfig:
    if config is None:
        return TelemetryConfig.from_env()
    if isinstance(config, TelemetryConfig):
        return config
    if isinstance(config, Mapping):
        names = {f.name for f in fields(TelemetryConfig)}
        unknown = sorted(str(k) for k in config if k not in names)
        if unknown:
            raise TypeError(f"TelemetryClient(config): unknown key(s) {', '.join(unknown)}")
        return TelemetryConfig(**config)
    raise TypeError(
        f"TelemetryClient(config): expected None, a mapping or TelemetryConfig, got {type(config).__name__}"
    )


def _remote(config: TelemetryConfig) -> dict[str, Any]:
    if not config.metrics_api_enabled or config.metrics_api_url is None:
        return {}
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    base = config.metrics_api_url.rstrip("/")
    return {
        "span_exporters": [OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=5)],
        "metric_readers": [
            PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=5))
        ],
    }


class _State:
    __slots__ = ("metrics", "run")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.metrics: dict[str, object] = {}


class TelemetryClient:
    """The old client: runs with events and metrics, stats, CSV export, health and backup."""

    def __init__(self, config: TelemetryConfig | Mapping[str, Any] | None = None) -> None:
        self.config = _config_of(config)
        options: dict[str, Any] = {
            "exporter": "store",
            "service_name": self.config.service_name,
            "preview_content": self.config.preview,
            **_remote(self.config),
        }
        if self.config.home is not None:
            options["home"] = self.config.home
        self.telemetry = pipeline(**options)
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, _State] = OrderedDict()

    @property
    def home(self) -> Path:
        """The store directory the runs are written to."""
        return _stats.store_home()

    @tolerant("local_telemetry.start_run", default="")
    def start_run(self, agent_name: str, job_type: str, trigger_type: str = "cli", **kwargs: Any) -> str:
        """Open a run for ``agent_name``; returns its generated run id."""
        if not isinstance(agent_name, str) or not agent_name:
            bad_input("local_telemetry.start_run", "agent_name must be a non-empty string")
        name = agent_name if isinstance(agent_name, str) else safe_str(agent_name, 256)
        run = start_run(name or "unknown", kind=semconv.RUN_KIND_AGENT)
        run.handle.set_metadata(job_type=job_type, trigger_type=trigger_type)
        state = _State(run)
        with self._lock:
            self._runs[run.run_id] = state
            while len(self._runs) > MAX_OPEN_RUNS:
                self._runs.popitem(last=False)
        if kwargs:
            self._apply(state, kwargs, "start_run")
        return run.run_id

    @tolerant("local_telemetry.log_event")
    def log_event(self, run_id: str, event_type: str, payload: Any = None) -> None:
        """Record an event on the run ``run_id``."""
        state = self._state(run_id, "log_event")
        if state is not None:
            state.run.log_event(event_type, payload)

    @tolerant("local_telemetry.end_run", default=False)
    def end_run(self, run_id: str, status: str = STATUS_SUCCESS, **metrics: Any) -> bool:
        """Record the final metrics and end the run with ``status``; False for an unknown run id."""
        state = self._state(run_id, "end_run")
        if state is None:
            return False
        with self._lock:
            self._runs.pop(run_id, None)
        if metrics:
            self._apply(state, metrics, "end_run")
        if not isinstance(status, str) or not status:
            bad_input("local_telemetry.end_run", "status must be a non-empty string")
            status = str(status) or STATUS_SUCCESS
        return state.run.end(status)

    @contextlib.contextmanager
    def track_run(
        self,
        agent_name: str | None = None,
        job_type: str | None = None,
        trigger_type: str = "cli",
        **kwargs: Any,
    ) -> Iterator[RunTracker]:
        """A run around the block: ``success`` when it completes, ``failed`` (re-raised) when it raises."""
        if agent_name is None or job_type is None:
            # A missing argument must not stop the block from running: counted, recorded as "unknown".
            bad_input("local_telemetry.track_run", "agent_name and job_type are required")
        # `is None`, not truthiness: a caller's object may raise from __bool__ or __len__.
        run_id = self.start_run(
            "unknown" if agent_name is None else agent_name,
            "unknown" if job_type is None else job_type,
            trigger_type,
            **kwargs,
        )
        state = self._runs.get(run_id)
        tracker = RunTracker(self, run_id)
        if state is None:  # start_run failed and was counted: the block still runs
            yield tracker
            return
        try:
            with state.run.activate():
                yield tracker
        except BaseException as exc:
            with self._lock:
                self._runs.pop(run_id, None)
            state.run.end(tracker.status or STATUS_FAILED, error=exc if isinstance(exc, Exception) else None)
            raise
        self.end_run(run_id, status=tracker.status or STATUS_SUCCESS)

    @tolerant("local_telemetry.get_stats", default={})
    def get_stats(self) -> dict[str, Any]:
        """Run totals by status and by agent, item totals, and the per agent/tool/model figures."""
        by_status: dict[str, int] = {}
        by_agent: dict[str, dict[str, Any]] = {}
        items = dict.fromkeys(ITEM_FIELDS, 0)
        for row in _stats.run_counts():
            name, status, count = str(row["name"]), str(row["status"]), int(row["runs"])
            by_status[status] = by_status.get(status, 0) + count
            agent = by_agent.setdefault(
                name, {"total_runs": 0, "by_status": {}, **dict.fromkeys(ITEM_FIELDS, 0)}
            )
            agent["total_runs"] += count
            agent["by_status"][status] = count
            for key in ITEM_FIELDS:
                agent[key] += int(row[key] or 0)
                items[key] += int(row[key] or 0)
        return {
            "total_runs": sum(by_status.values()),
            "runs_by_status": by_status,
            "runs_by_agent": by_agent,
            "items": items,
            "stats": _stats.get_stats(),
        }

    @tolerant("local_telemetry.export_csv", default=0)
    def export_csv(self, path: str | Path, agent_name: str | None = None) -> int:
        """Write the runs (of one agent, or all) as CSV, the columns of ``otel-agents export runs``."""
        self.telemetry.force_flush()
        db_file = paths.db_path(self.home)
        if not db_file.exists():
            return 0
        conn = db.connect(db_file, readonly=True)
        n = 0
        try:
            with open(path, "w", newline="", encoding="utf-8") as out:
                writer: Any = None
                for row in queries.iter_runs(conn, queries.RunFilter(name=agent_name)):
                    for key in ("start_ns", "end_ns"):
                        row[key.replace("_ns", "_time")] = _iso(row[key])
                    if writer is None:
                        writer = csv.DictWriter(out, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow({k: _cell(v) for k, v in row.items()})
                    n += 1
        finally:
            conn.close()
        return n

    def health_check(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Whether the store answers ``SELECT 1`` and its directory is writable; never raises."""
        if args or kwargs:
            bad_input("local_telemetry.health_check", "health_check() takes no arguments")
        home = self.home
        result: dict[str, Any] = {"status": "healthy", "db_path": str(paths.db_path(home)), "checks": {}}
        try:
            conn = db.connect(paths.db_path(home), readonly=True)
            try:
                conn.execute("SELECT 1").fetchone()
                (runs,) = conn.execute("SELECT count(*) FROM runs").fetchone()
            finally:
                conn.close()
            result["checks"]["database"] = "ok"
            result["total_runs"] = int(runs)
        except Exception as exc:  # noqa: BLE001 - an unhealthy store is a result, not an error
            result["checks"]["database"] = f"error: {type(exc).__name__}"
            result["status"] = "unhealthy"
        result["checks"]["writable"] = "ok" if os.access(home, os.W_OK) else "error: not writable"
        if result["checks"]["writable"] != "ok":
            result["status"] = "unhealthy"
        return result

    def backup_database(self, target_dir: str | Path) -> Path:
        """A consistent copy of the store in the new directory ``target_dir`` (see ``otel-agents backup``)."""
        self.telemetry.force_flush()
        return _backup.backup(self.home, Path(target_dir).expanduser()).target

    def _state(self, run_id: object, site: str) -> _State | None:
        with self._lock:
            state = self._runs.get(run_id) if isinstance(run_id, str) else None
        if state is None:
            run = get_run(run_id) if isinstance(run_id, str) else None
            if run is not None:
                return _State(run)
            bad_input(f"local_telemetry.{site}", "unknown or ended run id")
        return state

    def _apply(self, state: _State, given: Mapping[str, Any], site: str) -> None:
        handle = state.run.handle
        items: dict[str, int] = {}
        metadata: dict[str, object] = {}
        custom_changed = False
        for key, value in given.items():
            if value is None:
                continue
            if key in ITEM_FIELDS:
                if isinstance(value, bool) or not isinstance(value, int):
                    bad_input(f"local_telemetry.{site}", f"{key} must be an int")
                    continue
                items[key.removeprefix("items_")] = value
            elif key == "input_summary":
                handle.set_input(value)
            elif key == "output_summary":
                handle.set_result(value)
            elif key == "error_summary":
                handle.set_attribute(semconv.RUN_ERROR_SUMMARY, value)
            elif key == "metrics_json":
                state.metrics.update(_metrics_mapping(value, site))
                custom_changed = True
            elif key in METADATA_FIELDS:
                metadata[key] = value
            else:
                # Not one of the old fields: kept as a custom metric rather than dropped.
                state.metrics[str(key)] = value
                custom_changed = True
        if items:
            handle.set_items(**items)
        if metadata:
            handle.set_metadata(**metadata)
        if custom_changed:
            handle.set_metrics(state.metrics)


def _metrics_mapping(value: object, site: str) -> Mapping[str, object]:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    bad_input(f"local_telemetry.{site}", "metrics_json must be a JSON object or a mapping")
    return {"metrics_json": value if isinstance(value, str) else repr(type(value))}


def _cell(value: object) -> object:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def _iso(ns: int | None) -> str:
    if ns is None:
        return ""
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.timezone.utc).isoformat()


class RunTracker:
    """What ``track_run`` yields: ``run_id``, ``log_event``, ``set_metrics`` and ``set_status``."""

    def __init__(self, client: TelemetryClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.status: str | None = None

    def log_event(self, event_type: str, payload: Any = None) -> None:
        """Record an event on this run."""
        self.client.log_event(self.run_id, event_type, payload)

    @tolerant("local_telemetry.set_metrics")
    def set_metrics(self, **metrics: Any) -> None:
        """Record run metrics (see the module docstring for where each field goes)."""
        state = self.client._state(self.run_id, "set_metrics")
        if state is not None:
            self.client._apply(state, metrics, "set_metrics")

    def set_status(self, status: str) -> None:
        """Override the status the run ends with (default ``success``, or ``failed`` on an exception)."""
        self.status = status if isinstance(status, str) and status else None


_default: TelemetryClient | None = None
_default_lock = threading.Lock()


def _client() -> TelemetryClient:
    global _default  # noqa: PLW0603 - the module-level track_run's client, made on first use
    with _default_lock:
        if _default is None:
            _default = TelemetryClient()
        return _default


@contextlib.contextmanager
def track_run(
    agent_name: str | None = None, job_type: str | None = None, trigger_type: str = "cli", **kwargs: Any
) -> Iterator[RunTracker]:
    """``TelemetryClient().track_run(...)`` on a client made from the environment on first use."""
    with _client().track_run(agent_name, job_type, trigger_type, **kwargs) as tracker:
        yield tracker
