"""The seam between the compat alert APIs and an alert lifecycle: the alert engine, or OTel log records.

The compat alert calls need five operations: trigger, update, acknowledge and resolve by dedup
key, and the list of active keys; plus handlers that receive each notification. When the alert
engine (``otel_agents.alerts.ManualAlerts``) is installed, they are its manual alerts and its
notifiers (handlers as ``CallableNotifier``s on its delivery thread). Without it, this module keeps
the states in memory (bounded), emits the same state-change log records the engine emits, and
calls the handlers on a background thread. Handlers receive one dict per alert: ``name``,
``dedup_key``, ``severity``, ``state``, ``message``, ``value``, ``labels``, ``timestamp``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from opentelemetry._logs import SeverityNumber, get_logger_provider

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained
from otel_agents.api._threads import start_daemon
from otel_agents.api._version import __version__

Handler = Callable[[dict[str, Any]], object]

SEVERITIES: Final = ("info", "warning", "critical")
FIRING: Final = "firing"
ACKNOWLEDGED: Final = "acknowledged"
RESOLVED: Final = "resolved"
INACTIVE: Final = "inactive"
DEDUP_LABEL: Final = "dedup_key"
MAX_ALERTS: Final = 4096
QUEUE_SIZE: Final = 1024
EXIT_FLUSH_S: Final = 5.0
SOURCE: Final = "manual"
_LOG_SEVERITY: Final = {
    "info": SeverityNumber.INFO,
    "warning": SeverityNumber.WARN,
    "critical": SeverityNumber.ERROR,
}


class Backend(Protocol):
    """What the compat alert APIs need from an alert lifecycle."""

    def trigger(
        self,
        name: str,
        *,
        dedup_key: str,
        severity: str,
        summary: str | None,
        labels: Mapping[str, str],
        value: float | None,
    ) -> str: ...

    def update(
        self, dedup_key: str, *, summary: str | None, severity: str | None, value: float | None
    ) -> bool: ...

    def acknowledge(self, dedup_key: str) -> bool: ...

    def resolve(self, dedup_key: str) -> bool: ...

    def active_keys(self) -> list[str]: ...

    def flush(self, timeout: float = 10.0) -> bool: ...


def _rfc3339(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.timezone.utc).isoformat()


def alert_dict(
    labels: Mapping[str, str], annotations: Mapping[str, str], state: str, when: str
) -> dict[str, Any]:
    """The dict a compat handler receives for one alert."""
    value = annotations.get("value")
    return {
        "name": labels.get("alertname", ""),
        "dedup_key": labels.get(DEDUP_LABEL, labels.get("alertname", "")),
        "severity": labels.get("severity", "warning"),
        "state": state,
        "message": annotations.get("summary", ""),
        "value": float(value) if value not in (None, "") else None,
        "labels": {k: v for k, v in labels.items() if k not in ("alertname", "severity", DEDUP_LABEL)},
        "timestamp": when,
    }


def call(handler: Handler, alert: dict[str, Any]) -> None:
    """Call a handler; an ``async def`` one runs to completion on its own event loop."""
    result = handler(alert)
    if inspect.isawaitable(result):
        asyncio.run(_wait(result))


async def _wait(awaitable: Any) -> None:
    await awaitable


class _Delivery:
    """One background thread calling the handlers; a full queue or a failing handler is counted."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Handler, dict[str, Any]] | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._at_exit = False

    def submit(self, handler: Handler, alert: dict[str, Any]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = start_daemon(self._run, "otel-agents-compat-alerts")
        try:
            self._queue.put_nowait((handler, alert))
        except queue.Full:
            stats.count_drop("compat.alerts.queue_full")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is not None:
                    handler, alert = item
                    try:
                        call(handler, alert)
                    except Exception as exc:  # a user's handler: contained and counted
                        if not contained("compat.alerts.handler", exc):
                            raise
            finally:
                self._queue.task_done()

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


_delivery = _Delivery()


@dataclass
class _Alert:
    name: str
    severity: str
    labels: dict[str, str]
    state: str = FIRING
    summary: str | None = None
    value: float | None = None
    started_ns: int = field(default_factory=time.time_ns)


class LogRecordAlerts:
    """Alert states in memory, every change an OTel log record, handlers on a background thread."""

    def __init__(self, handlers: list[Handler]) -> None:
        self.handlers = handlers
        self._lock = threading.Lock()
        self._alerts: OrderedDict[str, _Alert] = OrderedDict()

    def trigger(
        self,
        name: str,
        *,
        dedup_key: str,
        severity: str,
        summary: str | None,
        labels: Mapping[str, str],
        value: float | None,
    ) -> str:
        with self._lock:
            alert = self._alerts.get(dedup_key)
            if alert is not None and alert.state in (FIRING, ACKNOWLEDGED):
                alert.summary = summary or alert.summary
                alert.value = value if value is not None else alert.value
                return dedup_key
            previous = alert.state if alert is not None else INACTIVE
            all_labels = {"alertname": name, **labels, DEDUP_LABEL: dedup_key, "severity": severity}
            alert = _Alert(name, severity, all_labels, summary=summary, value=value)
            self._alerts[dedup_key] = alert
            self._alerts.move_to_end(dedup_key)
            while len(self._alerts) > MAX_ALERTS:
                self._alerts.popitem(last=False)
                stats.count_drop("compat.alerts.evicted")
        self._changed(alert, previous, notify=True)
        return dedup_key

    def update(
        self, dedup_key: str, *, summary: str | None, severity: str | None, value: float | None
    ) -> bool:
        with self._lock:
            alert = self._alerts.get(dedup_key)
            if alert is None or alert.state not in (FIRING, ACKNOWLEDGED):
                return False
            if summary is not None:
                alert.summary = summary
            if severity is not None:
                alert.severity = severity
                alert.labels["severity"] = severity
            if value is not None:
                alert.value = value
        self._notify(alert)
        return True

    def acknowledge(self, dedup_key: str) -> bool:
        with self._lock:
            alert = self._alerts.get(dedup_key)
            if alert is None or alert.state != FIRING:
                return False
            alert.state = ACKNOWLEDGED
        self._changed(alert, FIRING, notify=False)
        return True

    def resolve(self, dedup_key: str) -> bool:
        with self._lock:
            alert = self._alerts.get(dedup_key)
            if alert is None or alert.state not in (FIRING, ACKNOWLEDGED):
                return False
            previous, alert.state = alert.state, RESOLVED
        self._changed(alert, previous, notify=True)
        return True

    def active_keys(self) -> list[str]:
        with self._lock:
            return [k for k, a in self._alerts.items() if a.state in (FIRING, ACKNOWLEDGED)]

    def flush(self, timeout: float = 10.0) -> bool:
        return _delivery.flush(timeout)

    def _changed(self, alert: _Alert, previous: str, *, notify: bool) -> None:
        attrs: dict[str, Any] = {
            semconv.ALERT_NAME: alert.name,
            semconv.ALERT_STATE: alert.state,
            semconv.ALERT_PREVIOUS_STATE: previous,
            semconv.ALERT_SEVERITY: alert.severity,
            semconv.ALERT_SOURCE: SOURCE,
        }
        if alert.value is not None:
            attrs[semconv.ALERT_VALUE] = alert.value
        if alert.summary:
            attrs[semconv.ALERT_SUMMARY] = alert.summary
        for key, value in alert.labels.items():
            if key not in ("alertname", "severity"):
                attrs[semconv.ALERT_LABEL_PREFIX + key] = value
        get_logger_provider().get_logger(semconv.ALERT_SCOPE, __version__, semconv.SCHEMA_URL).emit(
            severity_number=_LOG_SEVERITY.get(alert.severity, SeverityNumber.WARN),
            severity_text=alert.severity.upper(),
            body=f"alert {alert.name} {alert.state}" + (f": {alert.summary}" if alert.summary else ""),
            attributes=attrs,
            event_name=semconv.ALERT_EVENT,
        )
        if notify:
            self._notify(alert)

    def _notify(self, alert: _Alert) -> None:
        annotations = {"summary": alert.summary or ""}
        if alert.value is not None:
            annotations["value"] = repr(alert.value)
        state = FIRING if alert.state == ACKNOWLEDGED else alert.state
        payload = alert_dict(alert.labels, annotations, state, _rfc3339(time.time_ns()))
        for handler in list(self.handlers):
            _delivery.submit(handler, payload)


class EngineAlerts:
    """The alert engine's manual alerts (``otel_agents.alerts.ManualAlerts``) behind the seam."""

    def __init__(self, handlers: list[Handler], engine: Any) -> None:
        self.handlers = handlers
        self._engine = engine
        self._manual: Any = None
        self._notified = 0

    def _alerts(self) -> Any:
        # Made on first use: its state lives beside the store the process writes to.
        if self._manual is None or self._notified != len(self.handlers):
            from otel_agents.sdk._stats import store_home

            notifiers = [
                self._engine.CallableNotifier(fn=_adapter(h), name=f"compat-{i}")
                for i, h in enumerate(self.handlers)
            ]
            if self._manual is not None:
                self._manual.close()
            self._manual = self._engine.ManualAlerts(home=store_home(), notifiers=notifiers)
            self._notified = len(self.handlers)
        return self._manual

    def trigger(
        self,
        name: str,
        *,
        dedup_key: str,
        severity: str,
        summary: str | None,
        labels: Mapping[str, str],
        value: float | None,
    ) -> str:
        notes = {"value": repr(value)} if value is not None else {}
        return str(
            self._alerts().trigger(
                name,
                dedup_key=dedup_key,
                severity=severity,
                summary=summary,
                labels=dict(labels),
                annotations=notes,
                value=value,
            )
        )

    def update(
        self, dedup_key: str, *, summary: str | None, severity: str | None, value: float | None
    ) -> bool:
        notes = {"value": repr(value)} if value is not None else None
        return bool(
            self._alerts().update(
                dedup_key, summary=summary, annotations=notes, severity=severity, value=value
            )
        )

    def acknowledge(self, dedup_key: str) -> bool:
        return bool(self._alerts().acknowledge(dedup_key))

    def resolve(self, dedup_key: str) -> bool:
        return bool(self._alerts().resolve(dedup_key))

    def active_keys(self) -> list[str]:
        return [a.labels.get(DEDUP_LABEL, a.name) for a in self._alerts().active()]

    def flush(self, timeout: float = 10.0) -> bool:
        return bool(self._alerts().dispatcher.flush(timeout))


def _adapter(handler: Handler) -> Handler:
    """A CallableNotifier function (an Alertmanager webhook payload) calling ``handler`` per alert."""

    def deliver(payload: dict[str, Any]) -> None:
        for entry in payload.get("alerts", ()):
            labels, notes = entry.get("labels", {}), entry.get("annotations", {})
            call(handler, alert_dict(labels, notes, entry["status"], entry["startsAt"]))

    return deliver


def _engine_module() -> Any:
    try:
        import otel_agents.alerts as engine  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return engine if hasattr(engine, "ManualAlerts") and hasattr(engine, "CallableNotifier") else None


ENGINE: Any = _engine_module()


def backend(handlers: list[Handler]) -> Backend:
    """The engine's manual alerts when it is installed, else the log-record fallback."""
    if ENGINE is not None:
        return EngineAlerts(handlers, ENGINE)
    return LogRecordAlerts(handlers)
