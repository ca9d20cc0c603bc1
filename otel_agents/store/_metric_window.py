"""Summary statistics of one metric over a time range, from the store's cumulative metric points."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class _Series:
    """One cumulative stream (same service, attributes and start): its baseline and latest point."""

    base: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    times: list[int] = field(default_factory=list)
    previous_count: float = 0.0


def metric_summary(
    conn: sqlite3.Connection,
    name: str,
    *,
    since_ns: int | None = None,
    until_ns: int | None = None,
    tags: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Count, sum, mean, min, max, median, stddev and timestamps of histogram ``name`` in a range.

    Points are cumulative, so each stream's figures are its last point in the range minus its last
    point before it. Count, sum and mean are exact; min and max are exact for streams that started
    inside the range (otherwise they are the stream's extremes since it started); median and stddev
    are estimated from the bucket counts (the bucket of the median, interpolated; bucket midpoints).
    Gauge points count as one sample each.
    """
    until = until_ns if until_ns is not None else 2**63 - 1
    rows = conn.execute(
        "SELECT time_ns, start_ns, service, attributes, type, value, count, sum, min, max, data"
        " FROM metric_points WHERE name = ? AND time_ns <= ? ORDER BY time_ns, id",
        (name, until),
    )
    wanted = {str(k): v for k, v in (tags or {}).items()}
    series: dict[tuple[object, ...], _Series] = {}
    samples: list[float] = []
    sample_times: list[int] = []
    for time_ns, start_ns, service, attrs_text, kind, value, count, total, low, high, data in rows:
        attrs = orjson.loads(attrs_text) if attrs_text else {}
        if any(attrs.get(k) != v for k, v in wanted.items()):
            continue
        inside = since_ns is None or time_ns >= since_ns
        if kind == "gauge":
            if inside and value is not None:
                samples.append(float(value))
                sample_times.append(time_ns)
            continue
        if kind != "histogram":
            continue
        point = {"count": count or 0, "sum": total or 0.0, "min": low, "max": high, "data": data}
        s = series.setdefault((service, attrs_text, start_ns), _Series())
        if not inside:
            s.base = point
            s.previous_count = point["count"]
            continue
        if point["count"] > s.previous_count:
            s.times.append(time_ns)
        s.previous_count = point["count"]
        s.last = point
    return _combine(name, [s for s in series.values() if s.last is not None], samples, sample_times)


def _combine(
    name: str, series: list[_Series], samples: list[float], sample_times: list[int]
) -> dict[str, Any]:
    count = float(len(samples))
    total = math.fsum(samples)
    lows = list(samples)
    highs = list(samples)
    buckets: dict[tuple[float, float], float] = {}
    for value in samples:
        buckets[(value, value)] = buckets.get((value, value), 0.0) + 1
    times = list(sample_times)
    for s in series:
        last = s.last
        assert last is not None
        base = s.base
        n = last["count"] - (base["count"] if base else 0)
        if n <= 0:
            continue
        count += n
        total += last["sum"] - (base["sum"] if base else 0.0)
        if last["min"] is not None:
            lows.append(last["min"])
        if last["max"] is not None:
            highs.append(last["max"])
        times.extend(s.times)
        for edge, k in _bucket_deltas(last["data"], base["data"] if base else None).items():
            buckets[edge] = buckets.get(edge, 0.0) + k
    if count == 0:
        return empty(name)
    low, high = min(lows) if lows else None, max(highs) if highs else None
    mean = total / count
    clamped = _clamp(buckets, low, high)
    times.sort()
    return {
        "name": name,
        "count": int(count),
        "sum": total,
        "mean": mean,
        "median": _median(clamped, count),
        "min": low,
        "max": high,
        "stddev": _stddev(clamped, count, mean),
        "first_timestamp": times[0] if times else None,
        "last_timestamp": times[-1] if times else None,
        "timestamps": times,
    }


def empty(name: str) -> dict[str, Any]:
    """The summary of a metric with no values in the range."""
    return {
        "name": name,
        "count": 0,
        "sum": 0.0,
        "mean": None,
        "median": None,
        "min": None,
        "max": None,
        "stddev": None,
        "first_timestamp": None,
        "last_timestamp": None,
        "timestamps": [],
    }


def _bucket_deltas(last: str | None, base: str | None) -> dict[tuple[float, float], float]:
    if not last:
        return {}
    now = orjson.loads(last)
    before = orjson.loads(base)["counts"] if base else [0] * len(now["counts"])
    bounds = [-math.inf, *now["bounds"], math.inf]
    return {
        (bounds[i], bounds[i + 1]): float(c - b)
        for i, (c, b) in enumerate(zip(now["counts"], before, strict=False))
        if c - b > 0
    }


def _clamp(
    buckets: dict[tuple[float, float], float], low: float | None, high: float | None
) -> list[tuple[float, float, float]]:
    """(lower, upper, count) per bucket, ordered, with the open ends closed by the observed min/max."""
    out = []
    for (lower, upper), n in sorted(buckets.items()):
        lo = lower if low is None else max(lower, low)
        hi = upper if high is None else min(upper, high)
        if not math.isfinite(lo):
            lo = hi
        if not math.isfinite(hi):
            hi = lo
        out.append((lo, max(hi, lo), n))
    return out


def _median(buckets: list[tuple[float, float, float]], count: float) -> float:
    rank = count / 2
    seen = 0.0
    for lo, hi, n in buckets:
        if seen + n >= rank:
            return lo + (hi - lo) * ((rank - seen) / n)
        seen += n
    return buckets[-1][1]


def _stddev(buckets: list[tuple[float, float, float]], count: float, mean: float) -> float:
    if count < 2:
        return 0.0
    spread = math.fsum(n * ((lo + hi) / 2 - mean) ** 2 for lo, hi, n in buckets)
    return math.sqrt(spread / (count - 1))
