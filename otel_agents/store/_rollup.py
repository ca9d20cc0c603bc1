"""Hourly log-scale duration histograms per workflow, agent, tool and model, behind `stats`."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Final

import orjson

from otel_agents.api import _semconv as semconv

KIND_WORKFLOW: Final = "workflow"
KIND_AGENT: Final = "agent"
KIND_TOOL: Final = "tool"
KIND_MODEL: Final = "model"
HOUR_NS: Final = 3600 * 10**9
# 20 buckets per factor e: neighbouring bucket bounds differ by 5%, so a percentile read from
# the bucket's geometric middle is within 2.5% of the exact value.
_BUCKETS_PER_E: Final = 20
_ERROR: Final = 2
# Stays far below SQLite's bound-parameter limit (three per key).
_KEYS_PER_QUERY: Final = 300
_SELECT_STATS: Final = (
    "SELECT kind, name, hour, calls, errors, input_tokens, output_tokens, cost_usd, unpriced_calls,"
    " duration_ns, buckets FROM span_stats"
)

StatKey = tuple[str, str, int]


class Totals:
    """One (kind, name, hour) row: counters plus the duration histogram {bucket: count}.

    ``cost_usd`` stays None until a call with a known price is counted; ``unpriced_calls`` counts
    the calls without one, so an unknown price never reads as $0.
    """

    __slots__ = (
        "buckets",
        "calls",
        "cost_usd",
        "duration_ns",
        "errors",
        "input_tokens",
        "output_tokens",
        "unpriced_calls",
    )

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd: float | None = None
        self.unpriced_calls = 0
        self.duration_ns = 0
        self.buckets: dict[int, int] = {}

    def merge(self, other: Totals) -> None:
        self.calls += other.calls
        self.errors += other.errors
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd = _add_cost(self.cost_usd, other.cost_usd)
        self.unpriced_calls += other.unpriced_calls
        self.duration_ns += other.duration_ns
        for b, n in other.buckets.items():
            self.buckets[b] = self.buckets.get(b, 0) + n

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> Totals:
        """From the (calls, errors, input, output, cost, unpriced, duration, buckets) columns."""
        t = cls()
        calls, errors, tin, tout, cost, unpriced, dur, buckets = row
        t.calls, t.errors = int(str(calls)), int(str(errors))
        t.input_tokens, t.output_tokens = int(str(tin)), int(str(tout))
        t.cost_usd = None if cost is None else float(str(cost))
        t.unpriced_calls, t.duration_ns = int(str(unpriced)), int(str(dur))
        t.buckets = {int(k): int(v) for k, v in orjson.loads(str(buckets)).items()}
        return t

    def row(self) -> tuple[object, ...]:
        return (
            self.calls,
            self.errors,
            self.input_tokens,
            self.output_tokens,
            self.cost_usd,
            self.unpriced_calls,
            self.duration_ns,
            orjson.dumps({str(k): v for k, v in self.buckets.items()}).decode(),
        )


def _add_cost(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else a + b


def bucket_middle_ns(bucket: int) -> float:
    """A representative duration for ``bucket`` (its geometric middle)."""
    return math.exp((bucket + 0.5) / _BUCKETS_PER_E)


def classify(
    operation: str | None, workflow: str | None, agent: str | None, tool: str | None, model: str | None
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
    """Sums one batch's spans per (kind, name, hour), so a batch rewrites only a few rows."""

    def __init__(self) -> None:
        self.rows: dict[StatKey, Totals] = {}

    def add_spans(  # noqa: PLR0917 - columns of one batch
        self,
        keys: Sequence[StatKey | None],
        durations: Sequence[int],
        status_codes: Sequence[int],
        input_tokens: Sequence[int | None],
        output_tokens: Sequence[int | None],
        costs: Sequence[float | None],
        unpriced: Sequence[int],
    ) -> None:
        """Count each span towards its (kind, name, hour) row; a None key counts nowhere.

        ``unpriced`` is, per span, how many calls it stands for that had no known price.
        """
        rows = self.rows
        log = math.log
        for key, duration, code, tin, tout, cost, no_price in zip(
            keys, durations, status_codes, input_tokens, output_tokens, costs, unpriced, strict=True
        ):
            if key is None:
                continue
            t = rows.get(key)
            if t is None:
                t = rows[key] = Totals()
            t.calls += 1
            t.errors += code == _ERROR
            t.input_tokens += tin or 0
            t.output_tokens += tout or 0
            if cost is not None:
                t.cost_usd = cost if t.cost_usd is None else t.cost_usd + cost
            t.unpriced_calls += no_price
            t.duration_ns += duration
            b = int(log(duration if duration > 1 else 1) * _BUCKETS_PER_E)
            buckets = t.buckets
            buckets[b] = buckets.get(b, 0) + 1

    def write(self, conn: sqlite3.Connection) -> None:
        """Merge into span_stats; call inside the batch's write transaction (read-modify-write)."""
        keys = list(self.rows)
        stored: dict[StatKey, tuple[object, ...]] = {}
        # One query per chunk of keys instead of one per key.
        for i in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[i : i + _KEYS_PER_QUERY]
            values = ", ".join(["(?, ?, ?)"] * len(chunk))
            cur = conn.execute(
                f"{_SELECT_STATS} WHERE (kind, name, hour) IN (VALUES {values})",
                [v for key in chunk for v in key],
            )
            for row in cur:
                stored[(row[0], row[1], row[2])] = row[3:]
        out = []
        for key, t in self.rows.items():
            old = stored.get(key)
            if old is None:
                out.append((*key, *t.row()))
                continue
            calls, errors, tin, tout, cost, unpriced, dur, text = old
            # Merge with the stored histogram's string keys as they are: no round trip through int.
            buckets: dict[str, int] = orjson.loads(str(text))
            for b, n in t.buckets.items():
                k = str(b)
                buckets[k] = buckets.get(k, 0) + n
            out.append(
                (
                    *key,
                    int(str(calls)) + t.calls,
                    int(str(errors)) + t.errors,
                    int(str(tin)) + t.input_tokens,
                    int(str(tout)) + t.output_tokens,
                    _add_cost(None if cost is None else float(str(cost)), t.cost_usd),
                    int(str(unpriced)) + t.unpriced_calls,
                    int(str(dur)) + t.duration_ns,
                    orjson.dumps(buckets).decode(),
                )
            )
        conn.executemany(
            "INSERT OR REPLACE INTO span_stats (kind, name, hour, calls, errors, input_tokens,"
            " output_tokens, cost_usd, unpriced_calls, duration_ns, buckets)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            out,
        )


SPAN_COLUMNS: Final = (
    "operation, agent, tool, model, name, start_ns, duration_ns, status_code, input_tokens,"
    " output_tokens, cost_usd,"
    f" json_extract(attributes, '$.\"{semconv.COST_UNKNOWN_CALLS}\"'),"
    f" json_extract(attributes, '$.\"{semconv.DUPLICATE_OF}\"')"
)


def unpriced_calls(kind: str | None, cost: object, own_count: object) -> int:
    """Calls without a known price a stats row gets from one span: one per unpriced model call,
    an agent's or workflow's rolled-up count, none for tools."""
    if kind is None or kind == KIND_TOOL:
        return 0
    if kind == KIND_MODEL:
        return int(cost is None)
    return own_count if type(own_count) is int and own_count > 0 else 0


def accumulate(acc: Accumulator, cur: sqlite3.Cursor) -> None:
    """Count the spans rows ``cur`` yields (selected as :data:`SPAN_COLUMNS`) towards ``acc``, as
    the writer counted them: duplicates of another span's model call count nowhere."""
    while chunk := cur.fetchmany(10_000):
        keys: list[StatKey | None] = []
        unpriced: list[int] = []
        for op, agent, tool, model, name, start, *_, cost, own_unpriced, duplicate_of in chunk:
            workflow = name.split(" ", 1)[1] if op == semconv.OP_INVOKE_WORKFLOW and " " in name else None
            kn = None if duplicate_of is not None else classify(op, workflow, agent, tool, model)
            keys.append(None if kn is None else (kn[0], kn[1], start // HOUR_NS))
            unpriced.append(unpriced_calls(None if kn is None else kn[0], cost, own_unpriced))
        columns = list(zip(*chunk, strict=True))
        acc.add_spans(keys, columns[6], columns[7], columns[8], columns[9], columns[10], unpriced)


def backfill_span_stats(conn: sqlite3.Connection) -> None:
    """Fill span_stats from the spans already stored (runs inside the migration's transaction)."""
    acc = Accumulator()
    accumulate(acc, conn.execute(f"SELECT {SPAN_COLUMNS} FROM spans"))  # noqa: S608 - fixed columns
    acc.write(conn)
