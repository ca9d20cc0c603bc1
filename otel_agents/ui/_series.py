"""Time series for the stats page: per time bucket and name, calls, errors, p50/p95, tokens, cost."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Final

from otel_agents.store._graph import percentile
from otel_agents.store._rollup import SPAN_COLUMNS, classify

BUCKETS: Final = 24
_ERROR: Final = 2
TOP: Final = 6


@dataclass
class Cell:
    """One name in one time bucket."""

    calls: int = 0
    errors: int = 0
    durations: list[int] = field(default_factory=list)
    tokens: int = 0
    cost: float = 0.0


@dataclass
class Series:
    """Bucket start times and, per name (the busiest ``TOP``), one Cell per bucket."""

    times: list[int]
    bucket_ns: int
    names: list[str]
    cells: dict[str, list[Cell]]

    def values(self, metric: str) -> dict[str, list[float | None]]:
        """One list per name: calls, errors, p50_ms, p95_ms, tokens or cost per bucket."""
        out: dict[str, list[float | None]] = {}
        for name in self.names:
            row: list[float | None] = []
            for c in self.cells[name]:
                if metric in ("p50_ms", "p95_ms"):
                    p = percentile(c.durations, 0.5 if metric == "p50_ms" else 0.95)
                    row.append(None if p is None else p / 1e6)
                else:
                    row.append(float(getattr(c, metric)))
            out[name] = row
        return out


def series(conn: sqlite3.Connection, kind: str, since_ns: int, until_ns: int) -> Series:
    """Spans of ``kind`` (workflow, agent, tool, model) started in [since, until), in BUCKETS buckets."""
    bucket_ns = max((until_ns - since_ns) // BUCKETS, 1)
    cells: dict[str, list[Cell]] = {}
    cur = conn.execute(
        f"SELECT {SPAN_COLUMNS} FROM spans WHERE start_ns >= ? AND start_ns < ?",  # noqa: S608 - fixed columns
        (since_ns, until_ns),
    )
    while chunk := cur.fetchmany(10_000):
        for op, agent, tool, model, name, start, duration, code, tin, tout, cost, _, duplicate_of in chunk:
            workflow = name.split(" ", 1)[1] if " " in name else None
            # A span marked as another span's model call is counted there, as in `stats`.
            kn = None if duplicate_of is not None else classify(op, workflow, agent, tool, model)
            if kn is None or kn[0] != kind:
                continue
            row = cells.get(kn[1])
            if row is None:
                row = cells[kn[1]] = [Cell() for _ in range(BUCKETS)]
            c = row[min((start - since_ns) // bucket_ns, BUCKETS - 1)]
            c.calls += 1
            c.errors += code == _ERROR
            c.durations.append(duration)
            c.tokens += (tin or 0) + (tout or 0)
            c.cost += cost or 0.0
    busiest = sorted(cells, key=lambda n: (-sum(c.calls for c in cells[n]), n))[:TOP]
    times = [since_ns + i * bucket_ns for i in range(BUCKETS)]
    return Series(times=times, bucket_ns=bucket_ns, names=busiest, cells={n: cells[n] for n in busiest})
