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
    # One pass over the spans for both the decisions and the agents' invocations: each full scan of
    # the wide spans table costs as much as the rest together.
    decisions: list[tuple[str, int, object, object]] = []
    invocations: dict[str, list[tuple[int, str, int, int]]] = {}
    nodes: dict[str, Node] = {}
    for trace_id, start, operation, agent, code, duration, source, target in conn.execute(
        "SELECT s.trace_id, s.start_ns, s.operation, s.agent, s.status_code, s.duration_ns,"  # noqa: S608
        " CASE WHEN s.operation IS NOT ? THEN json_extract(s.attributes, ?) END,"
        " CASE WHEN s.operation IS NOT ? THEN json_extract(s.attributes, ?) END"
        f" FROM spans s WHERE (s.operation = ? OR (s.name >= ? AND s.name < ?)) AND {span_where}",
        [op, _SOURCE, op, _TARGET, op, *_ROUTE_NAMES, *span_params],
    ):
        if operation == op:
            if agent is None:
                continue
            invocations.setdefault(trace_id, []).append((start, str(agent), code, duration))
            node = nodes.get(str(agent))
            if node is None:
                node = nodes[str(agent)] = Node(str(agent))
            node.calls += 1
            node.errors += code == _ERROR
            node.durations.append(int(duration))
        elif target is not None:
            decisions.append((trace_id, start, source, target))
    decisions.extend(
        conn.execute(
            "SELECT e.trace_id, e.time_ns, json_extract(e.attributes, ?), json_extract(e.attributes, ?)"  # noqa: S608
            f" FROM events e WHERE e.attributes LIKE ? AND {event_where}",
            [_SOURCE, _TARGET, like, *event_params],
        ).fetchall()
    )
    for calls in invocations.values():
        calls.sort()
    edges: dict[tuple[str, str], Edge] = {}
    for trace_id, at, source, target in decisions:
        if target is None:
            continue
        key = (str(source if source is not None else "?"), str(target))
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = Edge(*key)
        edge.count += 1
        # The outcome of a hand-off: the target agent's first invocation at or after it.
        for start, agent, code, duration in invocations.get(trace_id, ()):
            if start >= at and agent == key[1]:
                edge.errors += code == _ERROR
                edge.durations.append(int(duration))
                break
    for edge in edges.values():
        for name in (edge.source, edge.target):
            nodes.setdefault(name, Node(name))
    ordered = sorted(edges.values(), key=lambda e: (-e.count, e.source, e.target))
    return Graph(nodes=dict(sorted(nodes.items())), edges=ordered)
