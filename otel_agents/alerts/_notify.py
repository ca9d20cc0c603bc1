"""Notifications: Alertmanager-shaped webhooks, Slack, Python callables, sent from a background thread."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final

import orjson

from otel_agents.api import _counters as stats
from otel_agents.api._threads import start_daemon

_log = logging.getLogger("otel_agents.alerts")

FIRING: Final = "firing"
RESOLVED: Final = "resolved"
ZERO_TIME: Final = "0001-01-01T00:00:00Z"  # Alertmanager's "no end time"
QUEUE_SIZE: Final = 1000
BACKOFF_S: Final = 0.5
MAX_BACKOFF_S: Final = 10.0
# How long an exiting process waits for notifications still queued or being retried.
EXIT_WAIT_S: Final = 2.0
# Counter reasons, shown by `otel-agents doctor` among the drops.
DROP_FAILED: Final = "alerts.notification_failed"
DROP_QUEUE_FULL: Final = "alerts.notification_queue_full"


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit id of a label set (what Alertmanager calls an alert's fingerprint)."""
    text = "\xff".join(f"{k}\xfe{labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rfc3339(ns: int | None) -> str:
    """An RFC 3339 UTC time, or Alertmanager's zero time for None."""
    if not ns:
        return ZERO_TIME
    return (
        datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@dataclass(frozen=True)
class Notice:
    """One alert as it is notified: its labels (``alertname`` and ``severity`` included)."""

    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_ns: int
    ends_ns: int | None = None
    generator_url: str = ""

    @property
    def name(self) -> str:
        """The alert's name (its ``alertname`` label)."""
        return self.labels.get("alertname", "")

    @property
    def fingerprint(self) -> str:
        """The label set's fingerprint."""
        return fingerprint(self.labels)

    def alertmanager_alert(self) -> dict[str, Any]:
        """This alert in the shape of one entry of Alertmanager's webhook ``alerts`` list."""
        return {
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": rfc3339(self.starts_ns),
            "endsAt": rfc3339(self.ends_ns) if self.status == RESOLVED else ZERO_TIME,
            "generatorURL": self.generator_url,
            "fingerprint": self.fingerprint,
        }


def webhook_payload(notices: Sequence[Notice], receiver: str) -> dict[str, Any]:
    """The Alertmanager webhook payload (version 4) for a group of notices of one alert name."""
    labels = [dict(n.labels) for n in notices]
    common = {k: v for k, v in labels[0].items() if all(lab.get(k) == v for lab in labels)}
    annotations = [dict(n.annotations) for n in notices]
    common_ann = {k: v for k, v in annotations[0].items() if all(a.get(k) == v for a in annotations)}
    group = {"alertname": notices[0].name}
    group_key = "{}:{" + ",".join(f'{k}="{v}"' for k, v in group.items()) + "}"
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": FIRING if any(n.status == FIRING for n in notices) else RESOLVED,
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": common,
        "commonAnnotations": common_ann,
        "externalURL": "",
        "alerts": [n.alertmanager_alert() for n in notices],
    }


def slack_text(notices: Sequence[Notice]) -> str:
    """One line per alert for a Slack incoming webhook."""
    lines = []
    for n in notices:
        summary = n.annotations.get("summary") or n.annotations.get("description") or ""
        severity = n.labels.get("severity", "")
        lines.append(f"[{n.status.upper()}] {n.name} ({severity}){': ' + summary if summary else ''}")
    return "\n".join(lines)


class Notifier:
    """A notification target; ``deliver`` raises on failure, and the dispatcher retries it."""

    name: str = "notifier"
    kind: str = "notifier"
    retries: int = 3

    def deliver(self, notices: Sequence[Notice]) -> None:
        """Send ``notices`` (one group) or raise."""
        raise NotImplementedError


@dataclass
class WebhookNotifier(Notifier):
    """POST the Alertmanager webhook JSON, so existing Alertmanager receivers work unchanged."""

    url: str
    name: str = "webhook"
    timeout: float = 5.0
    retries: int = 3
    headers: Mapping[str, str] = field(default_factory=dict)
    kind: str = "webhook"

    def deliver(self, notices: Sequence[Notice]) -> None:
        post_json(self.url, orjson.dumps(webhook_payload(notices, self.name)), self.timeout, self.headers)


@dataclass
class SlackNotifier(Notifier):
    """POST ``{"text": ...}`` to a Slack-compatible incoming webhook."""

    url: str
    name: str = "slack"
    timeout: float = 5.0
    retries: int = 3
    headers: Mapping[str, str] = field(default_factory=dict)
    kind: str = "slack"

    def deliver(self, notices: Sequence[Notice]) -> None:
        post_json(self.url, orjson.dumps({"text": slack_text(notices)}), self.timeout, self.headers)


@dataclass
class CallableNotifier(Notifier):
    """Call ``fn(payload)`` with the Alertmanager webhook payload, on the delivery thread."""

    fn: Callable[[dict[str, Any]], object]
    name: str = "python"
    retries: int = 0
    kind: str = "python"

    def deliver(self, notices: Sequence[Notice]) -> None:
        self.fn(webhook_payload(notices, self.name))


def resolve_callable(target: str) -> Callable[[dict[str, Any]], object]:
    """``package.module:function`` to the function; ValueError when it does not resolve."""
    module_name, _, attr = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # noqa: BLE001 - a user module may raise anything while it imports
        raise ValueError(f"cannot import {target!r}: {type(exc).__name__}: {exc}") from None
    if not callable(fn):
        raise ValueError(f"{target!r} is not callable")
    return fn  # type: ignore[no-any-return]


def post_json(url: str, body: bytes, timeout: float, headers: Mapping[str, str]) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError("only http and https URLs are allowed")
    req = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    # The receiver's own headers (an Authorization, often) go to that URL only, never along a
    # redirect to another host.
    for name, value in headers.items():
        req.add_unredirected_header(name, value)
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        resp.read()
        if not 200 <= resp.status < 300:
            raise OSError(f"HTTP {resp.status}")


class Dispatcher:
    """A bounded queue and one daemon thread: the caller never waits for a receiver."""

    def __init__(self, *, backoff_s: float = BACKOFF_S, queue_size: int = QUEUE_SIZE) -> None:
        self._queue: queue.Queue[tuple[Notifier, tuple[Notice, ...]]] = queue.Queue(queue_size)
        self._backoff_s = backoff_s
        self._lock = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = False
        self._exit_hook = False
        self.delivered = 0
        self.failed = 0

    def submit(self, notifier: Notifier, notices: Sequence[Notice]) -> bool:
        """Queue one delivery; False (and a counted drop) when the queue is full."""
        if not notices:
            return True
        with self._lock:
            if self._closed:
                stats.count_drop(DROP_FAILED)
                return False
            if self._thread is None or not self._thread.is_alive():
                self._thread = start_daemon(self._run, "otel-agents-alerts")
            if not self._exit_hook:
                # The delivery thread is a daemon: at exit, wait a little, then count what is left.
                atexit.register(self.close, EXIT_WAIT_S)
                self._exit_hook = True
            try:
                self._queue.put_nowait((notifier, tuple(notices)))
            except queue.Full:
                stats.count_drop(DROP_QUEUE_FULL)
                return False
            self._busy += 1
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait up to ``timeout`` seconds for every queued delivery to succeed or give up."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Flush within ``timeout``, then stop retrying: what is still undelivered is counted as failed."""
        self.flush(timeout)
        self._stop.set()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            abandoned, self._busy = self._busy, 0
            self.failed += abandoned
            self._lock.notify_all()
        if abandoned:
            stats.count_drop(DROP_FAILED, abandoned)
            with contextlib.suppress(Exception):
                _log.warning(
                    "otel_agents: %d alert notification(s) not delivered within %gs of closing",
                    abandoned,
                    timeout,
                )

    def _run(self) -> None:
        while True:
            notifier, notices = self._queue.get()
            try:
                ok = self._attempts(notifier, notices)
            except BaseException:  # noqa: BLE001 - the delivery thread must outlive anything
                ok = False
            with self._lock:
                if self._closed:
                    continue  # counted by close()
                if ok:
                    self.delivered += 1
                else:
                    self.failed += 1
                    stats.count_drop(DROP_FAILED)
                self._busy -= 1
                self._lock.notify_all()

    def _attempts(self, notifier: Notifier, notices: tuple[Notice, ...]) -> bool:
        for attempt in range(notifier.retries + 1):
            try:
                notifier.deliver(notices)
                return True
            except Exception as exc:  # noqa: BLE001 - a receiver's failure is counted, never raised
                if attempt == notifier.retries or self._stop.is_set():
                    with contextlib.suppress(Exception):
                        _log.warning(
                            "otel_agents: alert notification to %s %r failed after %d attempt(s) (%s)",
                            notifier.kind,
                            notifier.name,
                            attempt + 1,
                            type(exc).__name__,
                        )
                    return False
                self._stop.wait(min(self._backoff_s * 2**attempt, MAX_BACKOFF_S))
        return False


_default: Dispatcher | None = None
_default_lock = threading.Lock()


def default_dispatcher() -> Dispatcher:
    """The process's shared dispatcher."""
    global _default  # noqa: PLW0603 - one delivery thread per process
    with _default_lock:
        if _default is None:
            _default = Dispatcher()
        return _default
