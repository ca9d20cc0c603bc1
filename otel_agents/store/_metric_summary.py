"""Any stored metric listed and summarised over a window: count, sum, min, max, mean, p50, p95, stddev."""

from __future__ import annotations

import itertools
import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from otel_agents.store._values import json_object


def list_metrics(conn: sqlite3.Connection, since_ns: int | None = None) -> list[dict[str, Any]]:
    """One row per metric: name, type, unit, services, series, points, first and last time."""
    where, params = ("WHERE time_ns >= ?", [since_ns]) if since_ns is not None else ("", [])
    rows = conn.execute(
        "SELECT name, type, unit, group_concat(DISTINCT service),"  # noqa: S608 - fixed clauses
        " count(DISTINCT coalesce(service, '') || '|' || coalesce(attributes, '')),"
        f" count(*), min(time_ns), max(time_ns) FROM metric_points {where}"
        " GROUP BY name, type, unit ORDER BY name",
        params,
    ).fetchall()
    return [
        {
            "name": name,
            "type": kind,
            "unit": unit or "",
            "services": sorted((services or "").split(",")) if services else [],
            "series": series,
            "points": points,
            "first_ns": first,
            "last_ns": last,
        }
        for name, kind, unit, services, series, points, first, last in rows
    ]


@dataclass
class Summary:
    """The statistics of one metric (or one group of its series) over a window."""

    labels: dict[str, str]
    type: str
    count: float
    sum: float | None
    min: float | None
    max: float | None
    mean: float | None
    p50: float | None
    p95: float | None
    stddev: float | None
    basis: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def summarize(
    conn: sqlite3.Connection,
    name: str,
    *,
    since_ns: int,
    until_ns: int,
    labels: Mapping[str, str] | None = None,
    service: str | None = None,
    by: Sequence[str] = (),
) -> list[Summary]:
    """Summaries of metric ``name`` over ``[since, until]``, one per ``by`` group.

    Gauges and up-down counters: statistics of the recorded values. Counters: of the increases
    between consecutive collections (``sum`` is the total increase). Histograms: of the merged
    bucket increments (count, sum and mean exact; percentiles interpolated in buckets; stddev from
    bucket midpoints; min and max as the SDK reported them).
    """
    series: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in conn.execute(
        "SELECT time_ns, start_ns, service, attributes, type, value, count, sum, min, max, data"
        " FROM metric_points WHERE name = ? AND time_ns <= ? ORDER BY time_ns, id",
        (name, until_ns),
    ):
        attrs = json_object(row[3])
        if service is not None and row[2] != service:
            continue
        if any(str(attrs.get(k)) != v for k, v in (labels or {}).items()):
            continue
        series.setdefault((row[2] or "", row[3] or ""), []).append((*row, attrs))
    groups: dict[tuple[tuple[str, str], ...], list[list[tuple[Any, ...]]]] = {}
    for points in series.values():
        if not any(p[0] >= since_ns for p in points):
            continue
        attrs, svc = points[-1][-1], points[-1][2] or ""
        key = tuple((b, svc if b == "service" else str(attrs.get(b, ""))) for b in by)
        groups.setdefault(key, []).append(points)
    return [_summary(dict(key), members, since_ns) for key, members in sorted(groups.items())]


def _summary(labels: dict[str, str], members: list[list[tuple[Any, ...]]], since_ns: int) -> Summary:
    kind = members[0][-1][4]
    if kind in ("histogram", "exponential_histogram"):
        return _histogram(labels, kind, members, since_ns)
    values: list[float] = []
    counter = kind == "sum" and all(_is_counter(points) for points in members)
    for points in members:
        inside = [p for p in points if p[0] >= since_ns and p[5] is not None]
        if counter:
            values.extend(_increments(points, since_ns))
        else:
            values.extend(float(p[5]) for p in inside)
    basis = "increases between collections" if counter else "recorded values"
    return _stats(
        labels, "counter" if counter else ("up_down_counter" if kind == "sum" else kind), values, basis
    )


def _is_counter(points: list[tuple[Any, ...]]) -> bool:
    data = points[-1][10]
    if data:
        return bool(json_object(data).get("monotonic"))
    # Written before the store kept the flag: a sum that never went down is taken as a counter.
    levels = [p[5] for p in points if p[5] is not None]
    return all(b >= a for a, b in itertools.pairwise(levels))


def _increments(points: list[tuple[Any, ...]], since_ns: int) -> list[float]:
    before = [p for p in points if p[0] < since_ns]
    inside = [p for p in points if p[0] >= since_ns]
    prev: float | None = (
        float(before[-1][5] or 0) if before else (0.0 if (inside[0][1] or 0) >= since_ns else None)
    )
    out = []
    for p in inside:
        level = float(p[5] or 0)
        if prev is not None:
            out.append(level - prev if level >= prev else level)
        prev = level
    return out


def _stats(labels: dict[str, str], kind: str, values: list[float], basis: str) -> Summary:
    if not values:
        return Summary(labels, kind, 0, None, None, None, None, None, None, None, basis)
    ordered = sorted(values)
    total = math.fsum(ordered)
    mean = total / len(ordered)
    variance = math.fsum((v - mean) ** 2 for v in ordered) / len(ordered)
    return Summary(
        labels,
        kind,
        len(ordered),
        total,
        ordered[0],
        ordered[-1],
        mean,
        _quantile(ordered, 0.5),
        _quantile(ordered, 0.95),
        math.sqrt(variance),
        basis,
    )


def _quantile(ordered: list[float], q: float) -> float:
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _histogram(
    labels: dict[str, str], kind: str, members: list[list[tuple[Any, ...]]], since_ns: int
) -> Summary:
    count, total = 0.0, 0.0
    lows: list[float] = []
    highs: list[float] = []
    bounds: list[float] | None = None
    merged: list[float] = []
    for points in members:
        before = [p for p in points if p[0] < since_ns]
        inside = [p for p in points if p[0] >= since_ns]
        base = before[-1] if before else None
        if base is None and (inside[0][1] or 0) < since_ns:
            base = inside[0]  # started before the window with no earlier point: count from the first
            inside = inside[1:]
        for p in inside:
            prev_count = float(base[6] or 0) if base is not None else 0.0
            if float(p[6] or 0) < prev_count:
                base = None  # reset
            count += float(p[6] or 0) - (float(base[6] or 0) if base is not None else 0.0)
            total += float(p[7] or 0) - (float(base[7] or 0) if base is not None else 0.0)
            if p[8] is not None:
                lows.append(float(p[8]))
            if p[9] is not None:
                highs.append(float(p[9]))
            if kind == "histogram":
                extra = json_object(p[10])
                counts = [float(c) for c in extra.get("counts", [])]
                prev = [float(c) for c in json_object(base[10]).get("counts", [])] if base is not None else []
                delta = [c - (prev[i] if i < len(prev) else 0.0) for i, c in enumerate(counts)]
                if bounds is None:
                    bounds = [float(b) for b in extra.get("bounds", [])]
                if len(delta) == len(bounds) + 1:
                    merged = [a + b for a, b in zip(merged, delta, strict=True)] if merged else delta
            base = p
    if count <= 0:
        return Summary(labels, kind, 0, None, None, None, None, None, None, None, "bucket increments")
    mean = total / count
    p50 = p95 = stddev = None
    if bounds is not None and merged:
        p50 = _bucket_quantile(bounds, merged, 0.5, lows, highs)
        p95 = _bucket_quantile(bounds, merged, 0.95, lows, highs)
        mids = _midpoints(bounds, lows, highs)
        n = sum(merged)
        if n > 0:
            stddev = math.sqrt(
                max(sum(c * (m - mean) ** 2 for c, m in zip(merged, mids, strict=True)) / n, 0.0)
            )
    return Summary(
        labels,
        kind,
        count,
        total,
        min(lows) if lows else None,
        max(highs) if highs else None,
        mean,
        p50,
        p95,
        stddev,
        "bucket increments",
    )


def _edges(bounds: list[float], lows: list[float], highs: list[float]) -> list[float]:
    low = min(lows) if lows else (bounds[0] if bounds else 0.0)
    high = max(highs) if highs else (bounds[-1] if bounds else 0.0)
    edges = [min(low, bounds[0]) if bounds else low, *bounds, max(high, bounds[-1]) if bounds else high]
    if lows and highs:
        # Every value lies within the reported min and max: no bucket reaches beyond them, so a
        # percentile interpolated in a wide bucket never lands above the max (or below the min).
        edges = [min(max(e, low), high) for e in edges]
    return edges


def _midpoints(bounds: list[float], lows: list[float], highs: list[float]) -> list[float]:
    edges = _edges(bounds, lows, highs)
    return [(edges[i] + edges[i + 1]) / 2 for i in range(len(edges) - 1)]


def _bucket_quantile(
    bounds: list[float], counts: list[float], q: float, lows: list[float], highs: list[float]
) -> float:
    edges = _edges(bounds, lows, highs)
    rank = q * sum(counts)
    seen = 0.0
    for i, c in enumerate(counts):
        if c > 0 and seen + c >= rank:
            return edges[i] + (edges[i + 1] - edges[i]) * ((rank - seen) / c)
        seen += c
    return edges[-1]
