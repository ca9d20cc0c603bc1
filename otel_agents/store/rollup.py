"""Hourly log-scale duration histograms per workflow, agent, tool and model, behind `stats`."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from typing import Final

from otel_agents import semconv

KIND_WORKFLOW: Final = "workflow"
KIND_AGENT: Final = "agent"
KIND_TOOL: Final = "tool"
KIND_MODEL: Final = "model"
HOUR_NS: Final = 3600 * 10**9
# 20 buckets per factor e: neighbouring bucket bounds differ by 5%, so a percentile read from
# the bucket's geometric middle is within 2.5% of the exact value.
_BUCKETS_PER_E: Final = 20
_ERROR: Final = 2

StatKey = tuple[str, str, int, int]
StatRow = tuple[int, int, int, int, float, int]

UPSERT_SQL: Final = """
    INSERT INTO span_stats
        (kind, name, hour, bucket, calls, errors,
         input_tokens, output_tokens, cost_usd, duration_ns)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (kind, name, hour, bucket) DO UPDATE SET
        calls = calls + excluded.calls,
        errors = errors + excluded.errors,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        cost_usd = cost_usd + excluded.cost_usd,
        duration_ns = duration_ns + excluded.duration_ns
"""


def bucket_of(duration_ns: int) -> int:
    """The histogram bucket of a duration."""
    return int(math.log(max(duration_ns, 1)) * _BUCKETS_PER_E)


def bucket_middle_ns(bucket: int) -> float:
    """A representative duration for ``bucket`` (its geometric middle)."""
    return math.exp((bucket + 0.5) / _BUCKETS_PER_E)


def classify(
    operation: str | None,
    workflow: str | None,
    agent: str | None,
    tool: str | None,
    model: str | None,
) -> tuple[str, str] | None:
    """Which ``stats`` row a span counts towards, if any."""
    if operation == semconv.OP_INVOKE_WORKFLOW:
        return KIND_WORKFLOW, workflow or "?"
    if operation == semconv.OP_INVOKE_AGENT:
        return KIND_AGENT, agent or "?"
    if operation == semconv.OP_EXECUTE_TOOL:
        return KIND_TOOL, tool or "?"
    if model:
        return KIND_MODEL, model
    return None


class Accumulator:
    """Sums one batch's spans per (kind, name, hour, bucket) so the batch costs few upserts."""

    def __init__(self) -> None:
        self.rows: dict[StatKey, list[float]] = {}

    def add(
        self,
        kind_name: tuple[str, str],
        *,
        start_ns: int,
        duration_ns: int,
        status_code: int,
        input_tokens: int | None,
        output_tokens: int | None,
        cost_usd: float | None,
    ) -> None:
        key = (kind_name[0], kind_name[1], start_ns // HOUR_NS, bucket_of(duration_ns))
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0, 0, 0, 0, 0.0, 0]
        row[0] += 1
        row[1] += status_code == _ERROR
        row[2] += input_tokens or 0
        row[3] += output_tokens or 0
        row[4] += cost_usd or 0.0
        row[5] += duration_ns

    def params(self) -> Iterable[tuple[object, ...]]:
        for (kind, name, hour, bucket), r in self.rows.items():
            yield (
                kind,
                name,
                hour,
                bucket,
                int(r[0]),
                int(r[1]),
                int(r[2]),
                int(r[3]),
                r[4],
                int(r[5]),
            )


def backfill_span_stats(conn: sqlite3.Connection) -> None:
    """Fill span_stats from the spans already stored (schema v1 -> v2)."""
    acc = Accumulator()
    cur = conn.execute(
        "SELECT operation, agent, tool, model, name, start_ns, duration_ns, status_code,"
        " input_tokens, output_tokens, cost_usd, attributes FROM spans"
    )
    for op, agent, tool, model, name, start, dur, code, tin, tout, cost, _ in cur:
        workflow = name.split(" ", 1)[1] if op == semconv.OP_INVOKE_WORKFLOW and " " in name else None
        kn = classify(op, workflow, agent, tool, model)
        if kn is not None:
            acc.add(
                kn,
                start_ns=start,
                duration_ns=dur,
                status_code=code,
                input_tokens=tin,
                output_tokens=tout,
                cost_usd=cost,
            )
    conn.executemany(UPSERT_SQL, list(acc.params()))
