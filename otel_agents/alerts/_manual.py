"""Manual alerts: trigger, update, acknowledge and resolve by dedup key, to notifiers and Alertmanager."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from otel_agents.alerts import _state as st
from otel_agents.alerts._engine import SOURCE_MANUAL, emit_state_log
from otel_agents.alerts._notify import (
    FIRING,
    RESOLVED,
    Dispatcher,
    Notice,
    Notifier,
    default_dispatcher,
    post_json,
)
from otel_agents.alerts._rules import SEVERITIES
from otel_agents.api._guard import never_raise
from otel_agents.store._values import scrub

DEDUP_LABEL: Final = "dedup_key"


@dataclass
class AlertmanagerNotifier(Notifier):
    """``POST /api/v2/alerts`` to Alertmanager; a resolved alert is sent with its end time."""

    url: str
    name: str = "alertmanager"
    timeout: float = 5.0
    retries: int = 3
    headers: Mapping[str, str] = field(default_factory=dict)
    kind: str = "alertmanager"

    def deliver(self, notices: Sequence[Notice]) -> None:
        alerts = []
        for n in notices:
            alert: dict[str, Any] = {
                "labels": dict(n.labels),
                "annotations": dict(n.annotations),
                "startsAt": n.alertmanager_alert()["startsAt"],
                "generatorURL": n.generator_url,
            }
            if n.status == RESOLVED:
                alert["endsAt"] = n.alertmanager_alert()["endsAt"]
            alerts.append(alert)
        post_json(self.url.rstrip("/") + "/api/v2/alerts", orjson.dumps(alerts), self.timeout, self.headers)


class ManualAlerts:
    """Alerts raised by code: the dedup key identifies one alert across trigger, update and resolve.

    State lives beside the store (``home``), so ``otel-agents alerts list`` shows manual alerts too.
    Notifications go through the same background dispatcher as rule alerts; nothing here raises
    into the application except bad arguments.
    """

    def __init__(
        self,
        *,
        home: Path | str | None = None,
        notifiers: Sequence[Notifier] = (),
        alertmanager_url: str | None = None,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        from otel_agents.store import default_home

        self.home = Path(home).expanduser() if home is not None else default_home()
        self.notifiers = list(notifiers)
        if alertmanager_url is not None:
            if not alertmanager_url.startswith(("http://", "https://")):
                raise ValueError("alertmanager_url: expected an http:// or https:// URL")
            self.notifiers.append(AlertmanagerNotifier(alertmanager_url))
        self.dispatcher = dispatcher or default_dispatcher()
        self._lock = threading.Lock()
        self._state: st.StateStore | None = None

    def _store(self) -> st.StateStore:
        if self._state is None:
            self._state = st.StateStore(self.home)
        return self._state

    def trigger(
        self,
        name: str,
        *,
        dedup_key: str | None = None,
        severity: str = "warning",
        summary: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        value: float | None = None,
    ) -> str:
        """Raise ``name`` (again) and notify; a key that is already firing is updated instead.

        Returns the dedup key (``name`` when none is given).
        """
        key = _check(name, dedup_key, severity)
        # Text with a lone surrogate cannot be stored (SQLite, JSON take UTF-8 only): replaced first.
        name, notes = scrub(name), scrub({**(annotations or {}), **({"summary": summary} if summary else {})})
        with self._lock, never_raise("alerts.manual.trigger"):
            now = time.time_ns()
            store = self._store()
            alert = store.get(_fp(key))
            previous = alert.state if alert is not None else st.INACTIVE
            if alert is not None and alert.state in (st.FIRING, st.ACKNOWLEDGED):
                alert.annotations.update(notes)
                alert.value = value if value is not None else alert.value
                store.save(alert, previous, notified=False, now_ns=now)
                return key
            all_labels = {
                "alertname": name,
                **{scrub(str(k)): scrub(str(v)) for k, v in (labels or {}).items()},
                DEDUP_LABEL: key,
                "severity": severity,
            }
            alert = st.AlertState(
                _fp(key),
                name,
                SOURCE_MANUAL,
                st.FIRING,
                severity,
                all_labels,
                annotations=notes,
                value=value,
                started_ns=now,
                notified_ns=now,
            )
            store.save(alert, previous, notified=True, now_ns=now)
            emit_state_log(alert, previous, None, now)
            self._send(alert, FIRING)
        return key

    def update(
        self,
        dedup_key: str,
        *,
        summary: str | None = None,
        annotations: Mapping[str, str] | None = None,
        severity: str | None = None,
        value: float | None = None,
    ) -> bool:
        """Change an active alert's annotations, severity or value and re-notify; False if not active."""
        if severity is not None and severity not in SEVERITIES:
            raise ValueError(f"severity: expected one of {', '.join(SEVERITIES)}")
        with self._lock, never_raise("alerts.manual.update"):
            now = time.time_ns()
            store = self._store()
            alert = store.get(_fp(dedup_key))
            if alert is None or alert.state not in (st.FIRING, st.ACKNOWLEDGED):
                return False
            notes = {**(annotations or {}), **({"summary": summary} if summary else {})}
            alert.annotations.update(scrub(notes))
            if severity is not None:
                alert.severity = severity
                alert.labels["severity"] = severity
            if value is not None:
                alert.value = value
            store.save(alert, alert.state, notified=True, now_ns=now)
            self._send(alert, FIRING)
            return True
        return False

    def acknowledge(self, dedup_key: str, *, by: str | None = None) -> bool:
        """Mark an active alert as acknowledged (logged, kept active, not re-notified)."""
        with self._lock, never_raise("alerts.manual.acknowledge"):
            now = time.time_ns()
            store = self._store()
            alert = store.get(_fp(dedup_key))
            if alert is None or alert.state != st.FIRING:
                return False
            alert.state = st.ACKNOWLEDGED
            alert.acknowledged_by = None if by is None else scrub(str(by))
            store.save(alert, st.FIRING, notified=False, now_ns=now)
            emit_state_log(alert, st.FIRING, None, now)
            return True
        return False

    def resolve(self, dedup_key: str) -> bool:
        """Resolve an active alert and notify; False when it was not active."""
        with self._lock, never_raise("alerts.manual.resolve"):
            now = time.time_ns()
            store = self._store()
            alert = store.get(_fp(dedup_key))
            if alert is None or alert.state not in (st.FIRING, st.ACKNOWLEDGED):
                return False
            previous = alert.state
            alert.state = st.RESOLVED
            alert.ended_ns = now
            store.save(alert, previous, notified=True, now_ns=now)
            emit_state_log(alert, previous, None, now)
            self._send(alert, RESOLVED)
            return True
        return False

    def active(self) -> list[st.AlertState]:
        """Every manual alert that is firing or acknowledged (empty if the state cannot be read)."""
        with self._lock, never_raise("alerts.manual.active"):
            return [
                a
                for a in self._store().all()
                if a.source == SOURCE_MANUAL and a.state in (st.FIRING, st.ACKNOWLEDGED)
            ]
        return []

    def close(self) -> None:
        """Release the state file."""
        with self._lock:
            if self._state is not None:
                self._state.close()
                self._state = None

    def _send(self, alert: st.AlertState, status: str) -> None:
        notice = Notice(
            status=status,
            labels=dict(alert.labels),
            annotations=dict(alert.annotations),
            starts_ns=alert.started_ns or 0,
            ends_ns=alert.ended_ns,
        )
        for notifier in self.notifiers:
            self.dispatcher.submit(notifier, [notice])


def _fp(key: str) -> str:
    return f"manual:{scrub(key)}"


def _check(name: object, dedup_key: object, severity: object) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError("name: expected a non-empty string")
    if dedup_key is not None and (not isinstance(dedup_key, str) or not dedup_key):
        raise ValueError("dedup_key: expected a non-empty string")
    if severity not in SEVERITIES:
        raise ValueError(f"severity: expected one of {', '.join(SEVERITIES)}")
    return str(scrub(dedup_key if isinstance(dedup_key, str) else name))
