"""The local engine: evaluates rules over the store, moves alert states, logs and notifies changes."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from opentelemetry._logs import SeverityNumber, get_logger

from otel_agents.alerts import _state as st
from otel_agents.alerts._evaluate import Evaluation, Sample, evaluate
from otel_agents.alerts._notify import (
    FIRING,
    RESOLVED,
    CallableNotifier,
    Dispatcher,
    Notice,
    Notifier,
    SlackNotifier,
    WebhookNotifier,
    default_dispatcher,
    fingerprint,
    resolve_callable,
)
from otel_agents.alerts._rules import LABEL_TEMPLATE, VALUE_TEMPLATE, NotifierSpec, Rule, RuleSet
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._version import __version__
from otel_agents.store import _db as db
from otel_agents.store import _paths as paths

SOURCE_RULE: Final = "rule"
SOURCE_MANUAL: Final = "manual"
_SEVERITY: Final = {
    "info": (SeverityNumber.INFO, "INFO"),
    "warning": (SeverityNumber.WARN, "WARN"),
    "critical": (SeverityNumber.ERROR, "ERROR"),
}


def render(template: str, labels: Mapping[str, str], value: float | None) -> str:
    """Expand the Prometheus template subset ``{{ $labels.x }}``, ``{{ $value }}`` (with
    ``humanizePercentage``, ``humanize`` or ``printf "%.2f"``), so one annotation serves both engines."""

    def value_text(m: re.Match[str]) -> str:
        if value is None:
            return ""
        if m[1] == "humanizePercentage":
            return f"{value * 100:.4g}%"
        if m[1] == "humanize":
            return _humanize(value)
        if m[2] is not None:
            try:
                return m[2] % value
            except (TypeError, ValueError):
                return f"{value:g}"
        return f"{value:.4g}"

    return VALUE_TEMPLATE.sub(value_text, LABEL_TEMPLATE.sub(lambda m: labels.get(m[1], ""), template))


def _humanize(value: float) -> str:
    """Prometheus's ``humanize``: SI prefixes, four significant digits."""
    if value == 0 or not math.isfinite(value):
        return f"{value:.4g}"
    for prefix, size in (
        ("Y", 1e24),
        ("Z", 1e21),
        ("E", 1e18),
        ("P", 1e15),
        ("T", 1e12),
        ("G", 1e9),
        ("M", 1e6),
        ("k", 1e3),
    ):
        if abs(value) >= size:
            return f"{value / size:.4g}{prefix}"
    for prefix, size in (
        ("m", 1e-3),
        ("u", 1e-6),
        ("n", 1e-9),
        ("p", 1e-12),
        ("f", 1e-15),
        ("a", 1e-18),
        ("z", 1e-21),
        ("y", 1e-24),
    ):
        if abs(value) >= size and abs(value) < 1:
            return f"{value / size:.4g}{prefix}"
    return f"{value:.4g}"


def build_notifier(spec: NotifierSpec) -> Notifier:
    """The notifier a rule file's ``notifiers`` entry describes."""
    if spec.type == "webhook":
        assert spec.url is not None
        return WebhookNotifier(
            spec.url, name=spec.name, timeout=spec.timeout, retries=spec.retries, headers=spec.headers
        )
    if spec.type == "slack":
        assert spec.url is not None
        return SlackNotifier(
            spec.url, name=spec.name, timeout=spec.timeout, retries=spec.retries, headers=spec.headers
        )
    assert spec.target is not None
    try:
        fn = resolve_callable(spec.target)
    except ValueError as exc:
        raise ValueError(f"field 'notifiers.{spec.name}.callable': {exc}") from None
    return CallableNotifier(fn, name=spec.name, retries=spec.retries)


@never_raise("alerts.log")
def emit_state_log(alert: st.AlertState, previous: str, threshold: str | None, now_ns: int) -> None:
    """One OTel log record for a state change, through the global logger provider."""
    number, text = _SEVERITY.get(alert.severity, _SEVERITY["warning"])
    attributes: dict[str, Any] = {
        semconv.ALERT_NAME: alert.name,
        semconv.ALERT_STATE: alert.state,
        semconv.ALERT_PREVIOUS_STATE: previous,
        semconv.ALERT_SEVERITY: alert.severity,
        semconv.ALERT_FINGERPRINT: alert.fingerprint,
        semconv.ALERT_SOURCE: alert.source,
    }
    if alert.value is not None:
        attributes[semconv.ALERT_VALUE] = alert.value
    if threshold is not None:
        attributes[semconv.ALERT_THRESHOLD] = threshold
    summary = alert.annotations.get("summary")
    if summary:
        attributes[semconv.ALERT_SUMMARY] = summary
    for key, value in alert.labels.items():
        if key not in ("alertname", "severity"):
            attributes[semconv.ALERT_LABEL_PREFIX + key] = value
    get_logger(semconv.ALERT_SCOPE, __version__, schema_url=semconv.SCHEMA_URL).emit(
        timestamp=now_ns,
        observed_timestamp=now_ns,
        severity_number=number,
        severity_text=text,
        body=f"alert {alert.name} {alert.state}" + (f": {summary}" if summary else ""),
        attributes=attributes,
        event_name=semconv.ALERT_EVENT,
    )


@dataclass
class RuleResult:
    """One rule's evaluation: its samples, alerts and the changes made."""

    rule: Rule
    evaluation: Evaluation
    alerts: list[st.AlertState] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (fingerprint, from, to)

    @property
    def firing(self) -> list[st.AlertState]:
        """The rule's alerts in the firing state."""
        return [a for a in self.alerts if a.state == st.FIRING]


@dataclass
class Report:
    """One evaluation round over every rule."""

    results: list[RuleResult]

    @property
    def firing(self) -> list[st.AlertState]:
        """Every firing alert."""
        return [a for r in self.results for a in r.firing]

    @property
    def missing(self) -> list[tuple[str, str]]:
        """(rule, why) for every rule whose expression refers to nothing in the store."""
        return [(r.rule.name, r.evaluation.missing) for r in self.results if r.evaluation.missing]


class Engine:
    """Evaluates a rule set against one store home; notifications go through a dispatcher."""

    def __init__(
        self,
        rules: RuleSet,
        home: Path,
        *,
        notifiers: Mapping[str, Notifier] | None = None,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.rules = rules
        self.home = home
        self.notifiers = (
            dict(notifiers)
            if notifiers is not None
            else {name: build_notifier(spec) for name, spec in rules.notifiers.items()}
        )
        self.dispatcher = dispatcher or default_dispatcher()
        self.state = st.StateStore(home)

    def close(self) -> None:
        """Release the state file (queued notifications keep going)."""
        self.state.close()

    def evaluate(self, now_ns: int | None = None) -> Report:
        """Evaluate every rule once at ``now_ns`` (default: now)."""
        now = time.time_ns() if now_ns is None else now_ns
        path = paths.db_path(self.home)
        conn = db.connect(path, readonly=True) if path.exists() else None
        try:
            results = []
            for rule in self.rules.rules:
                evaluation = evaluate(conn, rule.expr, rule.window_s, now) if conn else _empty(rule)
                results.append(self._apply(rule, evaluation, now))
            return Report(results)
        finally:
            if conn is not None:
                conn.close()

    def _apply(self, rule: Rule, evaluation: Evaluation, now: int) -> RuleResult:
        result = RuleResult(rule, evaluation)
        known = {a.fingerprint: a for a in self.state.of_rule(rule.name, SOURCE_RULE)}
        breaching: dict[str, tuple[dict[str, str], Sample]] = {}
        for sample in evaluation.samples:
            if rule.threshold.breached(sample.value):
                labels = {"alertname": rule.name, **sample.labels, **rule.labels, "severity": rule.severity}
                breaching[fingerprint(labels)] = (labels, sample)
        to_notify: dict[str, list[Notice]] = {FIRING: [], RESOLVED: []}
        for fp, (labels, sample) in breaching.items():
            alert = known.get(fp)
            previous = alert.state if alert is not None else st.INACTIVE
            if alert is None or alert.state == st.RESOLVED:
                alert = st.AlertState(
                    fp,
                    rule.name,
                    SOURCE_RULE,
                    st.PENDING,
                    rule.severity,
                    labels,
                    pending_ns=now,
                    notified_ns=alert.notified_ns if alert else None,
                )
            alert.value = sample.value
            alert.annotations = {k: render(v, labels, sample.value) for k, v in rule.annotations.items()}
            if alert.state == st.PENDING and now - (alert.pending_ns or now) >= rule.for_s * 1e9:
                alert.state = st.FIRING
                alert.started_ns = now
                alert.ended_ns = None
            notified = False
            if alert.state == st.FIRING and previous != st.FIRING:
                in_cooldown = (
                    alert.notified_ns is not None and now - alert.notified_ns < rule.cooldown_s * 1e9
                )
                if not in_cooldown:
                    to_notify[FIRING].append(_notice(alert, FIRING))
                    alert.notified_ns = now
                    notified = True
            self._record(result, alert, previous=previous, rule=rule, notified=notified, now=now)
        for fp, alert in known.items():
            if fp in breaching or alert.state == st.RESOLVED:
                continue
            previous = alert.state
            if alert.state == st.PENDING:
                self.state.delete(fp)
                result.changes.append((fp, previous, st.INACTIVE))
                continue
            alert.state = st.RESOLVED
            alert.ended_ns = now
            # A firing notice that the cooldown held back needs no resolved notice either.
            notified = alert.notified_ns is not None and alert.notified_ns >= (alert.started_ns or 0)
            if notified:
                to_notify[RESOLVED].append(_notice(alert, RESOLVED))
            self._record(result, alert, previous=previous, rule=rule, notified=notified, now=now)
        for notices in to_notify.values():
            self._notify(rule.notify, notices)
        return result

    def _record(
        self,
        result: RuleResult,
        alert: st.AlertState,
        *,
        previous: str,
        rule: Rule,
        notified: bool,
        now: int,
    ) -> None:
        self.state.save(alert, previous, notified=notified, now_ns=now)
        result.alerts.append(alert)
        if previous != alert.state:
            result.changes.append((alert.fingerprint, previous, alert.state))
            emit_state_log(alert, previous, rule.threshold.describe(), now)

    def _notify(self, targets: Sequence[str], notices: list[Notice]) -> None:
        if not notices:
            return
        for target in targets:
            notifier = self.notifiers.get(target)
            if notifier is not None:
                self.dispatcher.submit(notifier, notices)


def _notice(alert: st.AlertState, status: str) -> Notice:
    return Notice(
        status=status,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_ns=alert.started_ns or alert.pending_ns or 0,
        ends_ns=alert.ended_ns,
    )


def _empty(rule: Rule) -> Evaluation:
    if rule.expr.type == "metric":
        return Evaluation(missing=f"metric {rule.expr.metric!r} does not exist in the store")
    return Evaluation()
