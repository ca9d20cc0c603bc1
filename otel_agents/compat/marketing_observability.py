"""The marketing agents' observability API (StructuredLogger, MetricsCollector) over GenAI spans and metrics.

==================================================  ==============================================
old call                                            OTel-native equivalent
==================================================  ==============================================
``StructuredLogger(name)``, ``.bind_context(**kv)``  a logger whose records carry ``kv`` as
                                                    attributes (``session_id``/``user_id``/
                                                    ``run_id`` under their OTel names)
``log_agent_execution(agent, input_data,            an ``invoke_agent {agent}`` span covering the
output_data, duration_ms, success, error)``         reported duration (``set_input``/``set_result``
                                                    summaries) + an ``agent_execution`` record
``log_routing_decision(source, target, reason,      ``oa.route(source, target=, candidates=,
confidence, alternatives)``                         reason=, confidence=)`` + a record
``log_tool_usage(tool, agent, input_data,           an ``execute_tool {tool}`` span covering the
output_data, duration_ms, success, error)``         duration (arguments/result summarised)
``log_workflow_event(workflow_id, event_type,       ``started``: ``oa.start_run(workflow_name,
workflow_name, step, data)``                        run_id=workflow_id)``; ``completed``/``failed``:
                                                    ``oa.end_run``; anything else a span event on
                                                    the run; always a ``workflow_event`` record
``MetricsCollector.record_metric(name, value,       ``meter.create_histogram(name).record(value,
tags)``                                             tags)``
``record_agent_execution(agent, duration,           ``agent_executions_total`` +
success, tags)``                                    ``agent_execution_duration_seconds``
``record_tool_usage(tool, duration, success,        ``tool_usage_total`` + ``tool_duration_seconds``
agent, tags)``
``record_workflow_metrics(workflow, duration,       ``workflow_executions_total`` +
steps_completed, success, tags)``                   ``workflow_duration_seconds`` +
                                                    ``workflow_steps_completed``
``get_metrics_summary(name, time_range, tags)``     the store's metric points of ``name`` (flushed
                                                    first): count, sum, mean, median, min, max,
                                                    stddev and timestamps
``AlertRule(name, condition, threshold, duration,    a threshold rule on the metrics passed to
cooldown, severity, message_template)``             ``check_rules`` (a rule file for the alert
                                                    engine is the native form)
``AlertManager.add_rule`` /                          the rule set / a ``CallableNotifier``
``add_notification_handler(fn)``
``AlertManager.check_rules(metrics)``                each rule evaluated: fires (after
                                                    ``duration``, outside ``cooldown``) and resolves
                                                    through the engine's manual alerts
==================================================  ==============================================

Inputs and outputs are never logged as content unless content capture is on: they become the
core's summaries (type, length, dict keys, list lengths) and, with ``preview_content=True``, the
first 100 characters followed by "..." (cut after redaction). Values under secret-looking keys are
replaced by ``[REDACTED:secret_key]`` before anything is summarised. Nothing here raises: bad
input is logged once and counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.trace import Status, StatusCode

from otel_agents.api import _semconv as semconv
from otel_agents.api._run_context import run_context
from otel_agents.api._runs import end_run, get_run, start_run
from otel_agents.api._spans import agent as agent_scope
from otel_agents.api._spans import error_type, recorded, route
from otel_agents.api._spans import tool as tool_scope
from otel_agents.api._switches import switches
from otel_agents.api._values import preview_source, summarize
from otel_agents.compat import _alerting as alerting
from otel_agents.compat._alert_rules import RuleClock, describe, evaluate, finite
from otel_agents.compat._alerting import Backend, Handler
from otel_agents.compat._support import (
    attributes,
    bad_input,
    emit_log,
    instrument,
    number,
    pipeline,
    tolerant,
    valid_name,
)
from otel_agents.compat._support import labels as clean_labels
from otel_agents.sdk import _stats
from otel_agents.sdk._configure import current
from otel_agents.sdk.processors._redaction import Redactor, marker

__all__ = ["AlertManager", "AlertRule", "MetricsCollector", "StructuredLogger", "summarize_input"]

SCOPE: Final = "marketing_observability"
MAX_DEPTH: Final = 6
MAX_ITEMS: Final = 100
DISTRIBUTION_BUCKETS: Final = (
    0.0,
    *(m * 10.0**e for e in range(-3, 7) for m in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8)),
)
SECONDS_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_CONTEXT_KEYS: Final = {
    "session_id": semconv.SESSION_ID,
    "user_id": semconv.USER_ID,
    "run_id": semconv.RUN_ID,
    "request_id": semconv.REQUEST_ID,
}
_RANGE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _redactor() -> Redactor:
    active = current()
    return Redactor(extra_keys=active.options.redact_keys if active is not None else ())


def _scrub(value: object, redactor: Redactor, depth: int = 0) -> object:
    """``value`` with the values under secret-looking keys replaced, at any depth (bounded)."""
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: marker("secret_key")
            if isinstance(k, str) and redactor.is_secret_key(k)
            else _scrub(v, redactor, depth + 1)
            for k, v in list(value.items())[:MAX_ITEMS]
        }
    if isinstance(value, (list, tuple)):
        return [_scrub(v, redactor, depth + 1) for v in value[:MAX_ITEMS]]
    return value


def summarize_input(value: object) -> dict[str, Any]:
    """What the logs record of an input or output: the core summary, and the preview when enabled."""
    clean = _scrub(value, _redactor())
    out: dict[str, Any] = {"summary": summarize(clean)}
    if switches.preview_content:
        out["preview"] = preview_source(clean)
    return out


def _io_attributes(input_data: object, output_data: object) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for value, summary_key, preview_key in (
        (input_data, semconv.RUN_INPUT_SUMMARY, semconv.RUN_INPUT_PREVIEW),
        (output_data, semconv.RUN_OUTPUT_SUMMARY, semconv.RUN_OUTPUT_PREVIEW),
    ):
        if value is not None:
            described = summarize_input(value)
            attrs[summary_key] = described["summary"]
            if "preview" in described:
                attrs[preview_key] = described["preview"]
    return attrs


def _seconds(site: str, duration_ms: object) -> float | None:
    if duration_ms is None:
        return None
    ms = number(site, duration_ms)
    if ms is None or ms < 0:
        if ms is not None:
            bad_input(site, "duration must not be negative")
        return None
    return ms / 1000


def _fail(span: Any, error: object) -> None:
    if isinstance(error, BaseException):
        span.set_attribute(semconv.ERROR_TYPE, error_type(error))
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:256]))
    else:
        span.set_attribute(semconv.ERROR_TYPE, "error")
        span.set_status(Status(StatusCode.ERROR, str(error)[:256] if error else "failed"))


class StructuredLogger:
    """The old structured logger for agents, routing, tools and workflows."""

    def __init__(self, name: str = "marketing_agents", context: Mapping[str, Any] | None = None) -> None:
        self.name = name if isinstance(name, str) and name else "marketing_agents"
        pipeline()
        self._context: dict[str, Any] = {}
        if context is not None:
            self._bind(context)

    def _bind(self, context: Mapping[str, Any]) -> None:
        for key, value in context.items():
            self._context[_CONTEXT_KEYS.get(str(key), str(key))] = value

    @tolerant("marketing_observability.bind_context", default=None)
    def bind_context(self, **context: Any) -> StructuredLogger:
        """A logger that adds ``context`` to every record (the old one keeps its own)."""
        bound = StructuredLogger(self.name, None)
        bound._context = dict(self._context)
        bound._bind(context)
        return bound

    def _ids(self) -> Any:
        """The bound session/user/request ids as a run context, so the spans carry them too."""
        return run_context(
            session_id=self._context.get(semconv.SESSION_ID),
            user_id=self._context.get(semconv.USER_ID),
            request_id=self._context.get(semconv.REQUEST_ID),
        )

    def _emit(self, level: str, message: str, event: str, attrs: Mapping[str, Any]) -> None:
        merged = {**attributes(self._context), **attrs, "logger": self.name}
        emit_log(SCOPE, level, message, merged, event_name=event)

    @tolerant("marketing_observability.log_agent_execution")
    def log_agent_execution(
        self,
        agent_name: str,
        input_data: Any = None,
        output_data: Any = None,
        duration_ms: float | None = None,
        success: bool = True,
        error: str | BaseException | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Record one agent execution that took ``duration_ms``: its span and a log record."""
        site = "marketing_observability.log_agent_execution"
        if not isinstance(agent_name, str) or not agent_name:
            bad_input(site, "agent_name must be a non-empty string")
        duration = _seconds(site, duration_ms)
        io = _io_attributes(input_data, output_data)
        redactor = _redactor()
        with self._ids(), recorded(agent_scope(str(agent_name) or "unknown"), duration) as handle:
            if input_data is not None:
                handle.set_input(_scrub(input_data, redactor))
            if output_data is not None:
                handle.set_result(_scrub(output_data, redactor))
            if metadata:
                handle.set_metadata(**{str(k): v for k, v in dict(metadata).items()})
            if not success or error is not None:
                _fail(handle.span, error)
            attrs = {
                semconv.GEN_AI_AGENT_NAME: str(agent_name),
                "success": bool(success) and error is None,
                **io,
                **({"duration_ms": duration * 1000} if duration is not None else {}),
            }
            level = "info" if attrs["success"] else "error"
            self._emit(
                level,
                f"agent {agent_name} {'succeeded' if attrs['success'] else 'failed'}",
                "agent_execution",
                attrs,
            )

    @tolerant("marketing_observability.log_routing_decision")
    def log_routing_decision(
        self,
        source_agent: str,
        target_agent: str,
        reason: str | None = None,
        confidence: float | None = None,
        alternatives: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Record that ``source_agent`` routed to ``target_agent`` (``oa.route``) and log it."""
        site = "marketing_observability.log_routing_decision"
        candidates = [str(a) for a in alternatives] if isinstance(alternatives, (list, tuple)) else []
        if alternatives is not None and not isinstance(alternatives, (list, tuple)):
            bad_input(site, "alternatives must be a list")
        score = number(site, confidence) if confidence is not None else None
        with self._ids():
            route(
                str(source_agent),
                target=str(target_agent),
                candidates=candidates,
                reason=reason,
                confidence=score,
            )
        attrs: dict[str, Any] = {
            semconv.ROUTE_SOURCE: str(source_agent),
            semconv.ROUTE_TARGET: str(target_agent),
        }
        if reason is not None:
            attrs[semconv.ROUTE_REASON] = str(reason)
        if score is not None:
            attrs[semconv.ROUTE_CONFIDENCE] = score
        if context is not None:
            attrs[semconv.RUN_INPUT_SUMMARY] = summarize_input(context)["summary"]
        self._emit("info", f"routed {source_agent} -> {target_agent}", "routing_decision", attrs)

    @tolerant("marketing_observability.log_tool_usage")
    def log_tool_usage(
        self,
        tool_name: str,
        agent_name: str | None = None,
        input_data: Any = None,
        output_data: Any = None,
        duration_ms: float | None = None,
        success: bool = True,
        error: str | BaseException | None = None,
    ) -> None:
        """Record one tool call that took ``duration_ms``: its span and a log record."""
        site = "marketing_observability.log_tool_usage"
        duration = _seconds(site, duration_ms)
        clean_in = _scrub(input_data, _redactor()) if input_data is not None else None
        with self._ids(), recorded(tool_scope(str(tool_name), arguments=clean_in), duration) as handle:
            if agent_name is not None:
                handle.set_attribute(semconv.GEN_AI_AGENT_NAME, str(agent_name))
            if output_data is not None:
                handle.set_result(_scrub(output_data, _redactor()))
            if not success or error is not None:
                _fail(handle.span, error)
            ok = bool(success) and error is None
            attrs = {
                semconv.GEN_AI_TOOL_NAME: str(tool_name),
                "success": ok,
                **_io_attributes(input_data, output_data),
                **({"duration_ms": duration * 1000} if duration is not None else {}),
            }
            if agent_name is not None:
                attrs[semconv.GEN_AI_AGENT_NAME] = str(agent_name)
            self._emit(
                "info" if ok else "error", f"tool {tool_name} {'ok' if ok else 'failed'}", "tool_usage", attrs
            )

    @tolerant("marketing_observability.log_workflow_event")
    def log_workflow_event(
        self,
        workflow_id: str,
        event_type: str,
        workflow_name: str | None = None,
        step: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """A workflow's lifecycle: ``started`` opens its run, ``completed``/``failed`` end it.

        Any other event type is a span event on the open run.
        """
        site = "marketing_observability.log_workflow_event"
        wid = str(workflow_id)
        kind = str(event_type).lower()
        payload = _scrub(data, _redactor()) if data is not None else None
        if kind == "started":
            started = start_run(
                str(workflow_name or wid),
                run_id=wid,
                session_id=self._context.get(semconv.SESSION_ID),
                user_id=self._context.get(semconv.USER_ID),
            )
            if payload is not None:
                started.handle.set_input(payload)
        elif kind in ("completed", "failed", "cancelled"):
            run = get_run(wid)
            if run is None:
                bad_input(site, "workflow was not started (or already ended)")
            else:
                if payload is not None:
                    run.handle.set_result(payload)
                end_run(wid, status=kind)
        else:
            run = get_run(wid)
            if run is None:
                bad_input(site, "workflow was not started (or already ended)")
            else:
                run.log_event(
                    kind if step is None else f"{kind}:{step}", summarize_input(payload) if payload else None
                )
        attrs: dict[str, Any] = {semconv.RUN_ID: wid, "event_type": kind}
        if workflow_name is not None:
            attrs[semconv.GEN_AI_WORKFLOW_NAME] = str(workflow_name)
        if step is not None:
            attrs["step"] = str(step)
        if payload is not None:
            attrs[semconv.RUN_INPUT_SUMMARY] = summarize_input(payload)["summary"]
        level = "error" if kind == "failed" else "info"
        self._emit(level, f"workflow {workflow_name or wid} {kind}", "workflow_event", attrs)


def _time_range(site: str, value: object) -> float | None:
    """Seconds back from now for ``time_range`` (a timedelta, seconds, or "30m"/"24h"/"7d")."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        match = _RANGE.match(value.lower())
        if match:
            return float(match[1]) * _UNITS[match[2]]
        bad_input(site, "time_range must be like 30m, 24h or 7d")
        return None
    return number(site, value)


class MetricsCollector:
    """The old metrics collector: named values and agent, tool and workflow metrics, with summaries."""

    def __init__(self, prefix: str = "") -> None:
        if not isinstance(prefix, str):
            raise TypeError("MetricsCollector(prefix=...): expected a string")
        self.prefix = prefix.rstrip("_")
        pipeline()

    def _name(self, name: str) -> str:
        return f"{self.prefix}_{name}" if self.prefix else name

    @tolerant("marketing_observability.record_metric")
    def record_metric(self, name: str, value: float, tags: Mapping[str, Any] | None = None) -> None:
        """Record ``value`` in the histogram ``name`` (summarised by ``get_metrics_summary``)."""
        site = "marketing_observability.record_metric"
        checked = valid_name(site, name)
        amount = number(site, value)
        if checked is None or amount is None:
            return
        made = instrument("histogram", self._name(checked), "", "", DISTRIBUTION_BUCKETS)
        made.record(amount, clean_labels(site, tags))

    def _execution(
        self,
        site: str,
        names: tuple[str, str],
        labels: dict[str, Any],
        duration: object,
        success: object,
        tags: object,
    ) -> None:
        counter, histogram = names
        attrs = {**clean_labels(site, tags), **labels, "status": "success" if success else "failure"}
        instrument("counter", self._name(counter)).add(1, attrs)
        seconds = number(site, duration) if duration is not None else None
        if seconds is not None and seconds < 0:
            bad_input(site, "duration must not be negative")
        elif seconds is not None:
            timer = instrument("histogram", self._name(histogram), "s", "", SECONDS_BUCKETS)
            timer.record(seconds, attrs)

    @tolerant("marketing_observability.record_agent_execution")
    def record_agent_execution(
        self,
        agent_name: str,
        duration: float | None = None,
        success: bool = True,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Count an agent execution and record its duration in seconds."""
        self._execution(
            "marketing_observability.record_agent_execution",
            ("agent_executions_total", "agent_execution_duration_seconds"),
            {"agent": str(agent_name)},
            duration,
            success,
            tags,
        )

    @tolerant("marketing_observability.record_tool_usage")
    def record_tool_usage(
        self,
        tool_name: str,
        duration: float | None = None,
        success: bool = True,
        agent_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Count a tool call and record its duration in seconds."""
        labels = {"tool": str(tool_name), **({"agent": str(agent_name)} if agent_name else {})}
        self._execution(
            "marketing_observability.record_tool_usage",
            ("tool_usage_total", "tool_duration_seconds"),
            labels,
            duration,
            success,
            tags,
        )

    @tolerant("marketing_observability.record_workflow_metrics")
    def record_workflow_metrics(
        self,
        workflow_name: str,
        duration: float | None = None,
        steps_completed: int | None = None,
        success: bool = True,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Count a workflow execution, its duration in seconds and the steps it completed."""
        site = "marketing_observability.record_workflow_metrics"
        labels = {"workflow": str(workflow_name)}
        self._execution(
            site, ("workflow_executions_total", "workflow_duration_seconds"), labels, duration, success, tags
        )
        if steps_completed is not None:
            steps = number(site, steps_completed)
            if steps is not None:
                attrs = {**clean_labels(site, tags), **labels}
                instrument(
                    "histogram", self._name("workflow_steps_completed"), "", "", DISTRIBUTION_BUCKETS
                ).record(steps, attrs)

    @tolerant("marketing_observability.get_metrics_summary", default=None)
    def get_metrics_summary(
        self,
        name: str,
        time_range: dt.timedelta | float | str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """count, sum, mean, median, min, max, stddev and ISO timestamps of ``name`` in the range."""
        site = "marketing_observability.get_metrics_summary"
        back = _time_range(site, time_range)
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=back) if back is not None else None
        wanted = clean_labels(site, tags)
        out = _stats.metric_summary(self._name(str(name)), since=since, tags=wanted)
        out["timestamps"] = [_iso(t) for t in out["timestamps"]]
        for key in ("first_timestamp", "last_timestamp"):
            out[key] = _iso(out[key]) if out[key] is not None else None
        return out


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.timezone.utc).isoformat()


# --- alerts --------------------------------------------------------------------------------------

_CONDITION: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|==|!=|>|<)\s*(?:threshold)?\s*$")
_OPERATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_SEVERITY: Final = {"info": "info", "warning": "warning", "error": "critical", "critical": "critical"}


@dataclass
class AlertRule:
    """A rule over the metrics passed to ``check_rules``: ``"error_rate > threshold"`` or a callable.

    A configuration call: an unparsable condition or a bad number raises at once.
    """

    name: str
    condition: str | Callable[[Mapping[str, Any]], object]
    threshold: float = 0.0
    duration: float = 0.0
    cooldown: float = 300.0
    severity: str = "warning"
    message_template: str = "{name}: {metric} is {value:g} (threshold {threshold:g})"
    _clock: RuleClock = field(default_factory=RuleClock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("AlertRule(name=...): expected a non-empty string")
        if not callable(self.condition) and not (
            isinstance(self.condition, str) and _CONDITION.match(self.condition)
        ):
            raise ValueError(
                f"AlertRule({self.name!r}): condition must be like 'error_rate > threshold' or a callable"
            )
        if finite(self.threshold) is None:
            raise ValueError(f"AlertRule({self.name!r}): threshold must be a finite number")
        for label, x in (("duration", self.duration), ("cooldown", self.cooldown)):
            seconds = finite(x)
            if seconds is None or seconds < 0:
                raise ValueError(f"AlertRule({self.name!r}): {label} must be a number of seconds >= 0")
        if not isinstance(self.severity, str) or self.severity.lower() not in _SEVERITY:
            raise ValueError(f"AlertRule({self.name!r}): severity must be one of {', '.join(_SEVERITY)}")
        if not isinstance(self.message_template, str):
            raise ValueError(f"AlertRule({self.name!r}): message_template must be a string")

    @property
    def metric(self) -> str | None:
        """The metric a string condition reads."""
        match = _CONDITION.match(self.condition) if isinstance(self.condition, str) else None
        return match[1] if match else None

    def holds(self, metrics: Mapping[str, Any]) -> tuple[bool, float | None] | None:
        """(condition holds, the value read), or None when ``metrics`` lacks what the rule needs."""
        if callable(self.condition):
            return bool(self.condition(metrics)), None
        match = _CONDITION.match(self.condition)
        assert match is not None
        if match[1] not in metrics:
            return None
        value = finite(metrics[match[1]])
        if value is None:
            bad_input("marketing_observability.check_rules", "metric values must be finite numbers")
            return None
        return _OPERATORS[match[2]](value, float(self.threshold)), value


class AlertManager:
    """Rules, notification handlers and ``check_rules``, over the alert engine's manual alerts."""

    def __init__(self) -> None:
        pipeline()
        self.rules: dict[str, AlertRule] = {}
        self._handlers: list[Handler] = []
        self._backend: Backend | None = None

    def _alerts(self) -> Backend:
        if self._backend is None:
            self._backend = alerting.backend(self._handlers)
        return self._backend

    def add_rule(self, rule: AlertRule) -> None:
        """Add (or replace, by name) a rule; anything but an ``AlertRule`` raises."""
        if not isinstance(rule, AlertRule):
            raise TypeError(f"add_rule(rule): expected an AlertRule, got {type(rule).__name__}")
        self.rules[rule.name] = rule

    def add_notification_handler(self, handler: Handler) -> None:
        """Call ``handler(alert)`` (plain or ``async def``) for each notification, on a background thread."""
        if not callable(handler):
            raise TypeError("add_notification_handler(handler): expected a callable")
        self._handlers.append(handler)

    @tolerant("marketing_observability.check_rules", default=[])
    def check_rules(self, metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Evaluate every rule against ``metrics``; the alerts that fired now (resolving the rest)."""
        site = "marketing_observability.check_rules"
        if not isinstance(metrics, Mapping):
            bad_input(site, "metrics must be a dict")
            return []
        fired: list[dict[str, Any]] = []
        backend = self._alerts()
        for rule in list(self.rules.values()):
            try:
                outcome = rule.holds(metrics)
            except Exception:  # noqa: BLE001 - a user's condition callable
                bad_input(site, "a rule's condition raised")
                continue
            if outcome is None:
                continue
            holds, value = outcome
            message = describe(
                rule.message_template,
                name=rule.name,
                metric=rule.metric or rule.name,
                value=value if value is not None else float("nan"),
                threshold=float(rule.threshold),
                severity=rule.severity,
            )
            severity = _SEVERITY[rule.severity.lower()]
            labels = {"metric": rule.metric} if rule.metric else {}
            if severity != rule.severity.lower():
                labels["compat_severity"] = rule.severity.lower()

            fire = functools.partial(
                backend.trigger,
                rule.name,
                dedup_key=rule.name,
                severity=severity,
                summary=message,
                labels=labels,
                value=value,
            )
            key = evaluate(
                backend,
                rule._clock,
                holds=holds,
                duration=float(rule.duration),
                cooldown=float(rule.cooldown),
                fire=fire,
                key=rule.name,
            )
            if key is not None:
                fired.append(
                    {
                        "name": rule.name,
                        "severity": rule.severity,
                        "message": message,
                        "value": value,
                        "dedup_key": key,
                    }
                )
        return fired

    def active_alerts(self) -> list[str]:
        """The names of this manager's rules whose alerts are active."""
        active = set(self._alerts().active_keys())
        return [name for name in self.rules if name in active]

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every notification so far was handed to the handlers."""
        return self._alerts().flush(timeout)
