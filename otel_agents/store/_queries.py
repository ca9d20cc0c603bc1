"""Read-side queries over a store, shared by the CLI commands and the demo."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any, Final, NamedTuple

Row = dict[str, Any]
_HEX: Final = frozenset("0123456789abcdef")


# A NamedTuple, not a dataclass: `dataclasses` imports `inspect`, a tenth of `otel-agents runs`' start-up.
class RunFilter(NamedTuple):
    """Filters for :func:`runs`; None means "any"."""

    name: str | None = None
    status: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    run_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None


def _rows(cur: sqlite3.Cursor) -> list[Row]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def runs(conn: sqlite3.Connection, f: RunFilter, limit: int = 20, *, decode: bool = True) -> list[Row]:
    """Most recently active runs first, matching every filter; the rows of one run id become one run.

    A run continued in another process (the same run id, a new trace) or holding nested run spans
    is one row: it starts at its first part, ends at its last, sums the tokens and cost of each
    trace's outermost run span, is ``error`` if any part failed, and lists its ``trace_ids``.
    Runs are ordered by their newest part; the status filter applies to the whole run.
    ``decode=False`` leaves ``metrics`` and ``metadata`` as their stored JSON text (the first
    part's), for a caller that shows neither: `otel-agents runs` then starts without orjson.
    """
    # Walk the run rows newest first on the start index, taking each run id once, until `limit`
    # runs pass: a few index pages for a page of runs, however large the store.
    where, params = _run_where(f)
    cur = conn.execute(f"SELECT run_id, id FROM runs {where} ORDER BY start_ns DESC", params)  # noqa: S608
    seen: set[object] = set()
    out: list[Row] = []
    try:
        while len(out) < limit:
            chunk = cur.fetchmany(max(2 * limit, 64))
            if not chunk:
                break
            fresh = []
            for run_id, row_id in chunk:
                key = run_id if run_id is not None else ("#", row_id)
                if key not in seen:
                    seen.add(key)
                    fresh.append((run_id, row_id))
            for run in _load_runs(conn, fresh, decode):
                # A part's status matched; the run's own status (error if any part failed) must too.
                if f.status is None or run["status"] == f.status:
                    out.append(run)
                    if len(out) == limit:
                        break
    finally:
        cur.close()
    return out


def _load_runs(
    conn: sqlite3.Connection, keys: list[tuple[str | None, int]], decode: bool = True
) -> list[Row]:
    """Every part of each (run id, or row id for a run without one) key, merged, in key order."""
    run_ids = [k[0] for k in keys if k[0] is not None]
    row_ids = [k[1] for k in keys if k[0] is None]
    parts: dict[object, list[Row]] = {}
    for column, values in (("run_id", run_ids), ("id", row_ids)):
        for i in range(0, len(values), _IDS_PER_QUERY):
            chunk = values[i : i + _IDS_PER_QUERY]
            cur = conn.execute(
                f"SELECT * FROM runs WHERE {column} IN ({', '.join('?' * len(chunk))})"  # noqa: S608
                " ORDER BY start_ns, id",
                chunk,
            )
            for r in _rows(cur):
                parts.setdefault(r["run_id"] if column == "run_id" else ("#", r["id"]), []).append(
                    _decode_run(r) if decode else r
                )
    return [merge_run(parts[k[0] if k[0] is not None else ("#", k[1])]) for k in keys]


_IDS_PER_QUERY: Final = 500
_SUMMED: Final = (
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "items_discovered",
    "items_succeeded",
    "items_failed",
)


def merge_run(parts: list[Row]) -> Row:
    """One run from its run rows (oldest first): see :func:`runs`."""
    out = dict(parts[0])
    # Per trace only its outermost run span counts: a nested workflow's tokens are in its parent's.
    outer: dict[str, Row] = {}
    for p in parts:
        best = outer.get(p["trace_id"])
        if best is None or p["duration_ns"] > best["duration_ns"]:
            outer[p["trace_id"]] = p
    out["trace_ids"] = list(outer)
    out["traces"] = len(outer)
    out["parts"] = len(parts)
    if len(parts) == 1:
        return out
    out["start_ns"] = min(p["start_ns"] for p in parts)
    out["end_ns"] = max(p["end_ns"] for p in parts)
    out["duration_ns"] = out["end_ns"] - out["start_ns"]
    for key in _SUMMED:
        values = [p[key] for p in outer.values() if p[key] is not None]
        out[key] = sum(values) if values else None
    failed = [p for p in parts if p["status"] == "error"]
    if failed:
        out["status"] = "error"
        out["error_type"] = failed[0]["error_type"]
        out["error_message"] = failed[0]["error_message"]
    last = parts[-1]
    out["output_summary"] = last["output_summary"] or out["output_summary"]
    for key in ("metrics", "metadata"):
        combined: dict[str, Any] = {}
        for p in parts:
            if isinstance(p.get(key), dict):
                combined.update(p[key])
        out[key] = combined or out.get(key)
    return out


def iter_runs(conn: sqlite3.Connection, f: RunFilter) -> Iterator[Row]:
    """Every matching run, oldest first (for export)."""
    where, params = _run_where(f)
    cur = conn.execute(f"SELECT * FROM runs {where} ORDER BY start_ns", params)  # noqa: S608
    cols = [d[0] for d in cur.description]
    for r in cur:
        yield _decode_run(dict(zip(cols, r, strict=True)))


def _run_where(f: RunFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    for column, value in (
        ("name", f.name),
        ("status", f.status),
        ("run_id", f.run_id),
        ("session_id", f.session_id),
        ("user_id", f.user_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if f.since_ns is not None:
        clauses.append("start_ns >= ?")
        params.append(f.since_ns)
    if f.until_ns is not None:
        clauses.append("start_ns < ?")
        params.append(f.until_ns)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def run_counts(conn: sqlite3.Connection) -> list[Row]:
    """Per run name and status: how many runs, their item totals and mean duration."""
    return _rows(
        conn.execute(
            "SELECT name, status, count(*) AS runs, sum(items_discovered) AS items_discovered,"
            " sum(items_succeeded) AS items_succeeded, sum(items_failed) AS items_failed,"
            " avg(duration_ns) AS mean_duration_ns FROM runs GROUP BY name, status ORDER BY name, status"
        )
    )


def _decode_run(r: Row) -> Row:
    # orjson, here and below, is imported where used: see runs(decode=False).
    import orjson

    for key in ("metrics", "metadata"):
        if r.get(key):
            with contextlib.suppress(orjson.JSONDecodeError):
                r[key] = orjson.loads(r[key])
    return r


class AmbiguousId(LookupError):
    """A trace id prefix matched more than one trace."""


def resolve_trace(conn: sqlite3.Connection, ident: str) -> str | None:
    """The trace id for a full or prefix trace id, or a run id; None if nothing matches."""
    ident = ident.strip()
    low = ident.lower()
    if len(low) >= 4 and set(low) <= _HEX:
        if len(low) == 32:
            row = conn.execute("SELECT trace_id FROM spans WHERE trace_id = ? LIMIT 1", (low,))
            found = row.fetchone()
            if found:
                return str(found[0])
        else:
            upper = low + "g"
            cur = conn.execute(
                "SELECT DISTINCT trace_id FROM spans WHERE trace_id >= ? AND trace_id < ? LIMIT 2",
                (low, upper),
            )
            matches = [str(r[0]) for r in cur.fetchall()]
            if len(matches) > 1:
                raise AmbiguousId(f"trace id prefix {ident!r} matches several traces; give more digits")
            if matches:
                return matches[0]
    row = conn.execute(
        "SELECT trace_id FROM runs WHERE run_id = ? ORDER BY start_ns DESC LIMIT 1", (ident,)
    ).fetchone()
    return None if row is None else str(row[0])


def run_trace_ids(conn: sqlite3.Connection, run_id: str) -> list[str]:
    """The traces a run id was recorded in, oldest first (several when a run was continued)."""
    cur = conn.execute(
        "SELECT trace_id, min(start_ns) AS first FROM runs WHERE run_id = ? GROUP BY trace_id ORDER BY first",
        (run_id,),
    )
    return [str(r[0]) for r in cur.fetchall()]


def resolve_traces(conn: sqlite3.Connection, ident: str) -> list[str]:
    """Every trace ``ident`` names: one for a trace id or prefix, all of a run's for a run id."""
    trace_id = resolve_trace(conn, ident)
    if trace_id is None:
        return []
    by_run = run_trace_ids(conn, ident.strip())
    return by_run if trace_id in by_run else [trace_id]


def error_text(error_type: str | None, message: str | None) -> str:
    """``type: message`` without the type twice (the SDK's status message starts with its name)."""
    kind = error_type or "unknown"
    msg = message or ""
    short = kind.rsplit(".", 1)[-1]
    for prefix in (f"{kind}: ", f"{short}: "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
            break
    return f"{kind}: {msg}" if msg else kind


def runs_of_trace(conn: sqlite3.Connection, trace_id: str) -> list[Row]:
    """The run rows (usually one) recorded in a trace, oldest first."""
    cur = conn.execute("SELECT * FROM runs WHERE trace_id = ? ORDER BY start_ns", (trace_id,))
    return [_decode_run(r) for r in _rows(cur)]


def trace_spans(conn: sqlite3.Connection, trace_id: str) -> list[Row]:
    """Every span of a trace, by start time, with its decoded attributes, events and log records."""
    # Imported where used, as in stats(): `runs`, the command most often typed, starts without them.
    import orjson

    from otel_agents.store._values import json_object

    spans = _rows(conn.execute("SELECT * FROM spans WHERE trace_id = ? ORDER BY start_ns, id", (trace_id,)))
    events: dict[str, list[Row]] = {}
    for e in _rows(conn.execute("SELECT * FROM events WHERE trace_id = ? ORDER BY time_ns, id", (trace_id,))):
        e["attributes"] = json_object(e["attributes"])
        events.setdefault(e["span_id"], []).append(e)
    logs: dict[str, list[Row]] = {}
    for log in _rows(
        conn.execute(
            "SELECT span_id, time_ns, severity_text, body FROM logs WHERE trace_id = ? ORDER BY time_ns",
            (trace_id,),
        )
    ):
        logs.setdefault(log["span_id"], []).append(log)
    for s in spans:
        s["attributes"] = json_object(s["attributes"])
        s["links"] = orjson.loads(s["links"]) if s["links"] else []
        s["events"] = events.get(s["span_id"], [])
        s["logs"] = logs.get(s["span_id"], [])
    return spans


def stats(conn: sqlite3.Connection, since_ns: int | None, until_ns: int | None) -> list[Row]:
    """Per workflow/agent/tool/model: calls, errors, error rate, p50/p95 duration, tokens, cost and
    how many calls had no known price (cost is None when none had one).

    Spans that started in [since, until) count, exactly: whole hours are read from the hourly
    rollup, the partial hours at either end from the spans table. Percentiles come from 5%-wide
    log buckets (within 2.5% of exact).
    """
    import orjson

    from otel_agents.store._rollup import SPAN_COLUMNS, Accumulator, accumulate

    first_hour, end_hour, edges = _split_hours(since_ns, until_ns)
    clauses, params = [], []
    if first_hour is not None:
        clauses.append("hour >= ?")
        params.append(first_hour)
    if end_hour is not None:
        clauses.append("hour < ?")
        params.append(end_hour)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    sums: dict[tuple[str, str], list[Any]] = {}
    histograms: dict[tuple[str, str], dict[str, int]] = {}
    if first_hour is None or end_hour is None or first_hour < end_hour:
        # Counters are summed by SQLite; only the histograms are merged here, as plain dicts keyed by
        # the bucket's text (the cheapest merge measured: ~2x faster than building Totals per row).
        for kind, name, *totals in conn.execute(
            "SELECT kind, name, sum(calls), sum(errors), sum(input_tokens), sum(output_tokens),"  # noqa: S608
            " sum(cost_usd), sum(unpriced_calls), sum(duration_ns)"
            f" FROM span_stats {where} GROUP BY kind, name",
            params,
        ):
            sums[(kind, name)] = totals
        for kind, name, text in conn.execute(
            f"SELECT kind, name, buckets FROM span_stats {where}",  # noqa: S608
            params,
        ):
            _merge_buckets(histograms, (kind, name), orjson.loads(text))
    if edges:
        acc = Accumulator()
        for lo, hi in edges:
            accumulate(
                acc,
                conn.execute(
                    f"SELECT {SPAN_COLUMNS} FROM spans WHERE start_ns >= ? AND start_ns < ?",  # noqa: S608
                    (lo, hi),
                ),
            )
        for (kind, name, _hour), t in acc.rows.items():
            total = sums.setdefault((kind, name), [0, 0, 0, 0, None, 0, 0])
            for i, v in enumerate(
                (t.calls, t.errors, t.input_tokens, t.output_tokens, None, t.unpriced_calls, t.duration_ns)
            ):
                if v is not None:
                    total[i] += v
            # No priced call means no cost, never $0: None stays None until a real cost arrives.
            if t.cost_usd is not None:
                total[4] = t.cost_usd if total[4] is None else total[4] + t.cost_usd
            _merge_buckets(histograms, (kind, name), {str(b): n for b, n in t.buckets.items()})
    out: list[Row] = []
    for (kind, name), (calls, errors, tokens_in, tokens_out, cost, unpriced, duration) in sums.items():
        buckets = sorted((int(b), n) for b, n in histograms.get((kind, name), {}).items())
        out.append(
            {
                "kind": kind,
                "name": name,
                "calls": calls,
                "errors": errors,
                "error_rate": errors / calls if calls else 0.0,
                "p50_ms": _percentile(buckets, calls, 0.50) / 1e6,
                "p95_ms": _percentile(buckets, calls, 0.95) / 1e6,
                "mean_ms": duration / calls / 1e6 if calls else 0.0,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                # SQLite's sum() of only NULLs is NULL: no priced call means no cost, never $0.
                "cost_usd": cost,
                "unpriced_calls": unpriced,
            }
        )
    order = {"workflow": 0, "agent": 1, "tool": 2, "model": 3}
    out.sort(key=lambda r: (order.get(r["kind"], 9), -r["calls"], r["name"]))
    return out


def _split_hours(
    since_ns: int | None, until_ns: int | None
) -> tuple[int | None, int | None, list[tuple[int, int]]]:
    """[since, until) as whole rollup hours [first, end) plus the partial edges as ns ranges."""
    from otel_agents.store._rollup import HOUR_NS

    edges: list[tuple[int, int]] = []
    first = end = None
    if since_ns is not None:
        first = -(-since_ns // HOUR_NS)  # the first hour that starts at or after since
    if until_ns is not None:
        end = until_ns // HOUR_NS  # hours before the one until falls in are whole
    if (
        since_ns is not None
        and until_ns is not None
        and first is not None
        and end is not None
        and first > end
    ):
        # since and until inside one hour: no whole hour, one edge.
        return first, end, [(since_ns, until_ns)] if since_ns < until_ns else []
    if since_ns is not None and first is not None and since_ns < first * HOUR_NS:
        edges.append((since_ns, first * HOUR_NS))
    if until_ns is not None and end is not None and until_ns > end * HOUR_NS:
        edges.append((end * HOUR_NS, until_ns))
    return first, end, edges


def _merge_buckets(
    into: dict[tuple[str, str], dict[str, int]], key: tuple[str, str], add: dict[str, int]
) -> None:
    merged = into.get(key)
    if merged is None:
        into[key] = add
        return
    get = merged.get
    for bucket, count in add.items():
        merged[bucket] = get(bucket, 0) + count


def _percentile(buckets: list[tuple[int, int]], calls: int, q: float) -> float:
    from otel_agents.store._rollup import bucket_middle_ns

    rank = q * calls
    seen = 0
    for bucket, count in buckets:
        seen += count
        if seen >= rank:
            return bucket_middle_ns(bucket)
    return bucket_middle_ns(buckets[-1][0]) if buckets else 0.0


SPAN_EXPORT_COLUMNS: Final = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, duration_ns, status_code,"
    " status_message, service, operation, agent, tool, model, provider, input_tokens,"
    " output_tokens, cost_usd, error_type, run_id, session_id, user_id, attributes"
)


def iter_spans(conn: sqlite3.Connection, since_ns: int | None, until_ns: int | None) -> Iterator[Row]:
    """Spans whose start lies in [since, until), oldest first."""
    cur = conn.execute(
        f"SELECT {SPAN_EXPORT_COLUMNS} FROM spans"  # noqa: S608 - fixed column list
        " WHERE start_ns >= ? AND start_ns < ? ORDER BY start_ns",
        (since_ns if since_ns is not None else 0, until_ns if until_ns is not None else 2**63 - 1),
    )
    cols = [d[0] for d in cur.description]
    for r in cur:
        yield dict(zip(cols, r, strict=True))


def count_spans(conn: sqlite3.Connection, since_ns: int | None, until_ns: int | None) -> int:
    """How many spans :func:`iter_spans` would yield."""
    row = conn.execute(
        "SELECT count(*) FROM spans WHERE start_ns >= ? AND start_ns < ?",
        (since_ns if since_ns is not None else 0, until_ns if until_ns is not None else 2**63 - 1),
    ).fetchone()
    return int(row[0])


def spans_after(conn: sqlite3.Connection, last_id: int, limit: int = 500) -> list[Row]:
    """Spans stored after row ``last_id``, in storage order (for ``tail``)."""
    return _rows(
        conn.execute(
            "SELECT id, trace_id, span_id, name, start_ns, duration_ns, status_code, status_message,"
            " service, agent, input_tokens, output_tokens, cost_usd, error_type"
            " FROM spans WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, limit),
        )
    )


def last_span_id(conn: sqlite3.Connection, back: int = 0) -> int:
    """The row id after which the newest ``back`` spans follow (0: all of them)."""
    row = conn.execute("SELECT id FROM spans ORDER BY id DESC LIMIT 1 OFFSET ?", (max(back, 0),)).fetchone()
    return 0 if row is None else int(row[0])


def counters(conn: sqlite3.Connection) -> list[Row]:
    """Persisted drop and internal-error counts of every process that wrote here."""
    return _rows(conn.execute("SELECT kind, reason, count, updated_ns FROM counters ORDER BY kind, reason"))


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row count per table."""
    out = {}
    for table in ("spans", "runs", "events", "logs", "metric_points"):
        out[table] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    return out
