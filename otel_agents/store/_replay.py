"""Rebuild SDK ReadableSpans from stored rows, so stored spans can be sent to an OTLP endpoint."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState


def _attrs(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = orjson.loads(text)
    if not isinstance(value, dict):
        return {}
    # OTLP attribute values are primitives or arrays; stored arrays come back as lists.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}


def _where(since_ns: int | None, until_ns: int | None, trace_id: str | None) -> tuple[str, list[object]]:
    clauses = ["start_ns >= ?", "start_ns < ?"]
    params: list[object] = [since_ns or 0, until_ns if until_ns is not None else 2**63 - 1]
    if trace_id is not None:
        clauses.append("trace_id = ?")
        params.append(trace_id)
    return " AND ".join(clauses), params


def count(conn: sqlite3.Connection, since_ns: int | None, until_ns: int | None, trace_id: str | None) -> int:
    """How many spans :func:`batches` would yield."""
    where, params = _where(since_ns, until_ns, trace_id)
    return int(conn.execute(f"SELECT count(*) FROM spans WHERE {where}", params).fetchone()[0])  # noqa: S608


def batches(
    conn: sqlite3.Connection,
    since_ns: int | None,
    until_ns: int | None,
    trace_id: str | None = None,
    size: int = 512,
) -> Iterator[list[ReadableSpan]]:
    """Stored spans in the range as ReadableSpans, ``size`` at a time, oldest first."""
    where, params = _where(since_ns, until_ns, trace_id)
    resources: dict[int | None, Resource] = {}
    for rid, attrs, schema_url in conn.execute("SELECT id, attributes, schema_url FROM resources"):
        resources[rid] = Resource(_attrs(attrs), schema_url or None)
    cur = conn.execute(
        "SELECT trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code,"  # noqa: S608
        " status_message, resource_id, scope_name, scope_version, attributes, links, trace_state,"
        f" flags FROM spans WHERE {where} ORDER BY start_ns",
        params,
    )
    while True:
        rows = cur.fetchmany(size)
        if not rows:
            return
        events = _events(conn, {(r[0], r[1]) for r in rows})
        yield [_span(r, resources, events) for r in rows]


def _events(conn: sqlite3.Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[Event]]:
    out: dict[tuple[str, str], list[Event]] = {}
    for trace_id in {k[0] for k in keys}:
        for span_id, time_ns, name, attrs in conn.execute(
            "SELECT span_id, time_ns, name, attributes FROM events WHERE trace_id = ? ORDER BY time_ns",
            (trace_id,),
        ):
            if (trace_id, span_id) in keys:
                out.setdefault((trace_id, span_id), []).append(Event(name, _attrs(attrs), time_ns))
    return out


def _span(
    r: tuple[Any, ...], resources: dict[int | None, Resource], events: dict[tuple[str, str], list[Event]]
) -> ReadableSpan:
    (trace_id, span_id, parent_id, name, kind, start, end, code, message, rid, scope_name,
     scope_version, attrs, links, trace_state, flags) = r  # fmt: skip
    state = TraceState.from_header([trace_state]) if trace_state else TraceState()
    ctx = SpanContext(int(trace_id, 16), int(span_id, 16), False, TraceFlags(flags or 1), state)
    parent = SpanContext(int(trace_id, 16), int(parent_id, 16), False) if parent_id else None
    link_objs = [
        Link(SpanContext(int(lk["trace_id"], 16), int(lk["span_id"], 16), False), lk.get("attributes") or {})
        for lk in (orjson.loads(links) if links else [])
    ]
    status_code = StatusCode(code)
    return ReadableSpan(
        name=name,
        context=ctx,
        parent=parent,
        resource=resources.get(rid, Resource.get_empty()),
        attributes=_attrs(attrs),
        events=events.get((trace_id, span_id), []),
        links=link_objs,
        kind=SpanKind(kind),
        status=Status(status_code, message if status_code is StatusCode.ERROR else None),
        start_time=start,
        end_time=end,
        instrumentation_scope=InstrumentationScope(scope_name or "unknown", scope_version),
    )
