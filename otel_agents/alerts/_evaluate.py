"""Evaluating one rule expression over the local store's spans and metric points."""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from otel_agents.alerts._rules import Expr
from otel_agents.api import _semconv as semconv
from otel_agents.store._values import json_object

ERROR_STATUS: Final = 2  # StatusCode.ERROR as the store keeps it
SERVICE_LABEL: Final = "service"


def label_name(key: str) -> str:
    """A metric attribute key as a Prometheus-style label name (the collector's translation)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in key)


# Per ``of``: the span operation, the store column (or attribute) that names the thing, its label.
_OF: Final[dict[str, tuple[str | None, str, str]]] = {
    "workflow": (
        semconv.OP_INVOKE_WORKFLOW,
        f"json_extract(attributes, '$.\"{semconv.GEN_AI_WORKFLOW_NAME}\"')",
        label_name(semconv.GEN_AI_WORKFLOW_NAME),
    ),
    "agent": (semconv.OP_INVOKE_AGENT, "agent", label_name(semconv.GEN_AI_AGENT_NAME)),
    "tool": (semconv.OP_EXECUTE_TOOL, "tool", label_name(semconv.GEN_AI_TOOL_NAME)),
    "model": (None, "model", label_name(semconv.GEN_AI_REQUEST_MODEL)),
}
_NOT_LLM: Final = (semconv.OP_INVOKE_WORKFLOW, semconv.OP_INVOKE_AGENT, semconv.OP_EXECUTE_TOOL)


@dataclass(frozen=True)
class Sample:
    """One value of an expression, with the labels that tell its series apart."""

    labels: Mapping[str, str]
    value: float


@dataclass
class Evaluation:
    """An expression's samples now, and why there are none when it refers to nothing."""

    samples: list[Sample] = field(default_factory=list)
    missing: str | None = None


def evaluate(conn: sqlite3.Connection, expr: Expr, window_s: float, now_ns: int) -> Evaluation:
    """The expression's value per series over ``(now - window, now]``."""
    since = now_ns - int(window_s * 1e9)
    if expr.service is not None and not service_exists(conn, expr.service):
        # A typo in the service would otherwise keep the rule quiet for ever.
        return Evaluation(missing=f"no service named {expr.service!r} in the store")
    if expr.type == "metric":
        assert expr.metric is not None
        return _metric(conn, expr.metric, expr, since=since, until=now_ns, window_s=window_s)
    if expr.type == "dropped":
        dropped = _metric(
            conn,
            semconv.METRIC_DROPPED,
            Expr(
                type="metric",
                aggregation="increase",
                by=(SERVICE_LABEL, semconv.LABEL_REASON),
                service=expr.service,
            ),
            since=since,
            until=now_ns,
            window_s=window_s,
            report_missing=False,
        )
        if expr.reason is not None:
            # Anchored at both ends, as Prometheus' =~ is.
            wanted = re.compile(expr.reason)
            reason = label_name(semconv.LABEL_REASON)
            dropped.samples = [s for s in dropped.samples if wanted.fullmatch(s.labels.get(reason, ""))]
        return dropped
    if expr.type == "cost_per_hour":
        return _cost(conn, expr, since, now_ns, window_s)
    return _spans(conn, expr, since, now_ns)


def _span_filter(expr: Expr, since: int, until: int) -> tuple[str, list[Any], str, str]:
    assert expr.of is not None
    op, column, label = _OF[expr.of]
    # Calls that started in the window (start_ns is indexed; end_ns is not).
    clauses = ["start_ns > ?", "start_ns <= ?"]
    params: list[Any] = [since, until]
    if op is None:
        clauses.append(f"model IS NOT NULL AND coalesce(operation, '') NOT IN ({','.join('?' * 3)})")
        params.extend(_NOT_LLM)
    else:
        clauses.append("operation = ?")
        params.append(op)
    if expr.name is not None:
        clauses.append(f"{column} = ?")
        params.append(expr.name)
    if expr.service is not None:
        clauses.append("service = ?")
        params.append(expr.service)
    return " AND ".join(clauses), params, column, label


def _spans(conn: sqlite3.Connection, expr: Expr, since: int, until: int) -> Evaluation:
    where, params, column, label = _span_filter(expr, since, until)
    out = Evaluation()
    if expr.type == "latency":
        groups: dict[tuple[str, str], list[int]] = {}
        for service, name, duration in conn.execute(
            f"SELECT service, {column}, duration_ns FROM spans WHERE {where}",  # noqa: S608 - fixed
            params,
        ):
            groups.setdefault((service or "", name or ""), []).append(int(duration))
        for (service, name), durations in sorted(groups.items()):
            value = quantile(sorted(durations), expr.quantile) / 1e9
            out.samples.append(Sample({SERVICE_LABEL: service, label: name}, value))
    else:
        for service, name, calls, errors in conn.execute(
            f"SELECT service, {column}, count(*), sum(status_code = {ERROR_STATUS}) FROM spans"  # noqa: S608
            f" WHERE {where} GROUP BY service, {column} ORDER BY service, {column}",
            params,
        ):
            value = float(calls) if expr.type == "calls" else errors / calls
            out.samples.append(Sample({SERVICE_LABEL: service or "", label: name or ""}, value))
    if not out.samples and expr.name is not None:
        where_all, params_all, _, _ = _span_filter(expr, 0, 2**63 - 1)
        if conn.execute(f"SELECT 1 FROM spans WHERE {where_all} LIMIT 1", params_all).fetchone() is None:  # noqa: S608
            out.missing = f"no {expr.of} named {expr.name!r} in the store"
    return out


def _cost(conn: sqlite3.Connection, expr: Expr, since: int, until: int, window_s: float) -> Evaluation:
    # Workflow and agent spans carry their children's cost rolled up: count each cost once, where
    # it was spent (LLM calls and tools).
    params: list[Any] = [since, until, semconv.OP_INVOKE_WORKFLOW, semconv.OP_INVOKE_AGENT]
    service = ""
    if expr.service is not None:
        service = " AND service = ?"
        params.append(expr.service)
    out = Evaluation()
    for svc, cost in conn.execute(
        "SELECT service, sum(cost_usd) FROM spans WHERE start_ns > ? AND start_ns <= ?"  # noqa: S608
        f" AND cost_usd IS NOT NULL AND coalesce(operation, '') NOT IN (?, ?){service}"
        " GROUP BY service ORDER BY service",
        params,
    ):
        out.samples.append(Sample({SERVICE_LABEL: svc or ""}, float(cost) * 3600 / window_s))
    return out


def quantile(ordered: list[int], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated between the closest ranks."""
    if not ordered:
        return 0.0
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def service_exists(conn: sqlite3.Connection, service: str) -> bool:
    """True when anything stored (spans, logs, metric points) came from ``service``."""
    return (
        conn.execute("SELECT 1 FROM resources WHERE service = ? LIMIT 1", (service,)).fetchone() is not None
    )


def _has_labels(conn: sqlite3.Connection, name: str, wanted: Mapping[str, str]) -> bool:
    """True when some point of metric ``name``, at any time, carries the ``wanted`` attributes."""
    for (attrs,) in conn.execute("SELECT attributes FROM metric_points WHERE name = ?", (name,)):
        labels = json_object(attrs)
        if all(str(labels.get(k)) == v for k, v in wanted.items()):
            return True
    return False


def metric_exists(conn: sqlite3.Connection, name: str) -> bool:
    """True when the store holds at least one point of metric ``name``."""
    return conn.execute("SELECT 1 FROM metric_points WHERE name = ? LIMIT 1", (name,)).fetchone() is not None


def _metric(
    conn: sqlite3.Connection,
    name: str,
    expr: Expr,
    *,
    since: int,
    until: int,
    window_s: float,
    report_missing: bool = True,
) -> Evaluation:
    out = Evaluation()
    if report_missing and not metric_exists(conn, name):
        out.missing = f"metric {name!r} does not exist in the store"
        return out
    # The newest point at or before the window's start is the baseline of counter increases.
    series: dict[tuple[str, str], list[tuple[int, int | None, float | None, Any]]] = {}
    for time_ns, start_ns, service, attrs, kind, value, count, total, low, high in conn.execute(
        "SELECT time_ns, start_ns, service, attributes, type, value, count, sum, min, max"
        " FROM metric_points WHERE name = ? AND time_ns <= ? AND time_ns > ? ORDER BY time_ns, id",
        (name, until, since - int(max(window_s, 60) * 1e9)),
    ):
        labels = json_object(attrs)
        if expr.service is not None and service != expr.service:
            continue
        if any(str(labels.get(k)) != v for k, v in expr.labels.items()):
            continue
        number = value if kind in ("sum", "gauge") else (total / count if count else None)
        key = (service or "", attrs or "")
        series.setdefault(key, []).append(
            (time_ns, start_ns, number, (kind, count, low, high, labels, service))
        )
    groups: dict[tuple[tuple[str, str], ...], list[float]] = {}
    for points in series.values():
        value = _series_value(points, expr.aggregation, since, window_s)
        if value is None:
            continue
        _, _, _, _, labels, service = points[-1][3]
        group = tuple(
            (label_name(k), str(service or "") if k == SERVICE_LABEL else str(labels.get(k, "")))
            for k in expr.by
        )
        groups.setdefault(group, []).append(value)
    for group, values in sorted(groups.items()):
        out.samples.append(Sample(dict(group), _combine(expr.aggregation, values)))
    if report_missing and not out.samples and expr.labels and not _has_labels(conn, name, expr.labels):
        shown = ", ".join(f"{k}={v}" for k, v in expr.labels.items())
        out.missing = f"no series of metric {name!r} has {shown} in the store"
    return out


def _combine(aggregation: str, values: list[float]) -> float:
    """Several series of one group: the max of maxima, min of minima, mean of means, else the sum."""
    if aggregation == "max":
        return max(values)
    if aggregation == "min":
        return min(values)
    if aggregation == "mean":
        return sum(values) / len(values)
    return float(sum(values))


def _series_value(
    points: list[tuple[int, int | None, float | None, Any]], aggregation: str, since: int, window_s: float
) -> float | None:
    inside = [p for p in points if p[0] > since]
    if not inside:
        return None
    if aggregation in ("increase", "rate"):
        before = [p for p in points if p[0] <= since]
        increase = _increase(before[-1] if before else None, inside, since)
        return increase if aggregation == "increase" else increase / window_s
    if aggregation == "last":
        return inside[-1][2]
    values = [p[2] for p in inside if p[2] is not None]
    if aggregation == "max":
        highs = [p[3][3] for p in inside if p[3][3] is not None]
        return max(highs or values) if (highs or values) else None
    if aggregation == "min":
        lows = [p[3][2] for p in inside if p[3][2] is not None]
        return min(lows or values) if (lows or values) else None
    return sum(values) / len(values) if values else None


def _increase(baseline: Any, inside: list[Any], since: int) -> float:
    """Counter increase across the window; a histogram's counts; resets start again from zero."""

    def level(p: Any) -> float:
        kind, count = p[3][0], p[3][1]
        return float(count or 0) if kind.endswith("histogram") else float(p[2] or 0)

    # A series that started inside the window counted up from zero.
    prev = level(baseline) if baseline is not None else (0.0 if (inside[0][1] or 0) > since else None)
    total = 0.0
    for p in inside:
        current = level(p)
        if prev is not None:
            total += current - prev if current >= prev else current
        prev = current
    return total
