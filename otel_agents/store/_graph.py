"""The routing graph from stored route decisions: agents as nodes, hand-offs as edges with outcomes."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from otel_agents.api import _semconv as semconv

_ERROR: Final = 2
# JSON paths of the hand-off keys inside the stored attributes (the keys contain dots).
_SOURCE: Final = f'$."{semconv.ROUTE_SOURCE}"'
_TARGET: Final = f'$."{semconv.ROUTE_TARGET}"'
_IDS_PER_QUERY: Final = 500
# Route spans are named "route {source}": a range on the short name column is ~20x cheaper than
# searching every span's attribute text (events, far fewer, are searched for the hand-off key).
_ROUTE_NAMES: Final = (semconv.SPAN_ROUTE.format(""), semconv.SPAN_ROUTE.format("").rstrip() + "!")


@dataclass
class Edge:
    """Hand-offs from ``source`` to ``target``: how many, and how the target's invocations went."""

    source: str
    target: str
    count: int = 0
    errors: int = 0
    # Durations (ns) of the target agent's invocation that followed each hand-off, where found.
    durations: list[int] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0

    @property
    def p95_ns(self) -> int | None:
        return percentile(self.durations, 0.95)

    def as_dict(self) -> dict[str, Any]:
        p95 = self.p95_ns
        return {
            "source": self.source,
            "target": self.target,
            "count": self.count,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "p95_ms": None if p95 is None else p95 / 1e6,
        }


@dataclass
class Node:
    """One agent: its invocations and failures in the same scope as the edges."""

    name: str
    calls: int = 0
    errors: int = 0
    durations: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        p95 = percentile(self.durations, 0.95)
        return {
            "name": self.name,
            "calls": self.calls,
            "errors": self.errors,
            "error_rate": self.errors / self.calls if self.calls else 0.0,
            "p95_ms": None if p95 is None else p95 / 1e6,
        }


@dataclass
class Graph:
    """Nodes by name and edges by (source, target), sorted for stable output."""

    nodes: dict[str, Node]
    edges: list[Edge]

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.as_dict() for n in self.nodes.values()],
            "edges": [e.as_dict() for e in self.edges],
        }


def percentile(values: Sequence[int], q: float) -> int | None:
    """The nearest-rank ``q`` percentile of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def _scope(
    trace_ids: Sequence[str] | None, since_ns: int | None, until_ns: int | None, alias: str, column: str
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if trace_ids is not None:
        clauses.append(f"{alias}.trace_id IN ({', '.join('?' * len(trace_ids))})")
        params.extend(trace_ids)
    if since_ns is not None:
        clauses.append(f"{alias}.{column} >= ?")
        params.append(since_ns)
    if until_ns is not None:
        clauses.append(f"{alias}.{column} < ?")
        params.append(until_ns)
    return " AND ".join(clauses) or "1", params


def routing_graph(
    conn: sqlite3.Connection,
    *,
    trace_ids: Sequence[str] | None = None,
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> Graph:
    """The routing graph of some traces, or of every trace started in [since, until).

    An edge counts the route decisions (route spans, and span events carrying the hand-off keys)
    from source to target; its errors and p95 are those of the target agent's invocation that
    followed each decision in the same trace.
    """
    if trace_ids is not None and len(trace_ids) > _IDS_PER_QUERY:
        trace_ids = list(trace_ids)[:_IDS_PER_QUERY]
    span_where, span_params = _scope(trace_ids, since_ns, until_ns, "s", "start_ns")
    event_where, event_params = _scope(trace_ids, since_ns, until_ns, "e", "time_ns")
    like = f'%"{semconv.ROUTE_TARGET}"%'
    op = semconv.OP_INVOKE_AGENT
    # Each decision, with the first invocation of its target agent at or after it in the trace.
    sql = f"""
        WITH r AS (
            SELECT s.trace_id, s.start_ns AS at, json_extract(s.attributes, ?) AS source,
                   json_extract(s.attributes, ?) AS target
            FROM spans s WHERE s.name >= ? AND s.name < ? AND {span_where}
            UNION ALL
            SELECT e.trace_id, e.time_ns, json_extract(e.attributes, ?), json_extract(e.attributes, ?)
            FROM events e WHERE e.attributes LIKE ? AND {event_where}
        )
        SELECT r.source, r.target,
            (SELECT t.status_code FROM spans t WHERE t.trace_id = r.trace_id AND t.operation = ?
             AND t.agent = r.target AND t.start_ns >= r.at ORDER BY t.start_ns LIMIT 1),
            (SELECT t.duration_ns FROM spans t WHERE t.trace_id = r.trace_id AND t.operation = ?
             AND t.agent = r.target AND t.start_ns >= r.at ORDER BY t.start_ns LIMIT 1)
        FROM r WHERE r.target IS NOT NULL
    """  # noqa: S608 - the clauses are ours, every value is a parameter
    rows = conn.execute(
        sql,
        [_SOURCE, _TARGET, *_ROUTE_NAMES, *span_params, _SOURCE, _TARGET, like, *event_params, op, op],
    ).fetchall()
    edges: dict[tuple[str, str], Edge] = {}
    for source, target, code, duration in rows:
        key = (str(source if source is not None else "?"), str(target))
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = Edge(*key)
        edge.count += 1
        edge.errors += code == _ERROR
        if duration is not None:
            edge.durations.append(int(duration))
    nodes: dict[str, Node] = {}
    for edge in edges.values():
        for name in (edge.source, edge.target):
            nodes.setdefault(name, Node(name))
    for agent, code, duration in conn.execute(
        f"SELECT s.agent, s.status_code, s.duration_ns FROM spans s"  # noqa: S608 - fixed clauses
        f" WHERE s.operation = ? AND s.agent IS NOT NULL AND {span_where}",
        [op, *span_params],
    ):
        node = nodes.setdefault(str(agent), Node(str(agent)))
        node.calls += 1
        node.errors += code == _ERROR
        node.durations.append(int(duration))
    ordered = sorted(edges.values(), key=lambda e: (-e.count, e.source, e.target))
    return Graph(nodes=dict(sorted(nodes.items())), edges=ordered)
