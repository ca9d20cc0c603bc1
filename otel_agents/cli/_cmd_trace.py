"""``otel-agents trace ID``: one trace as a tree with a waterfall, routing decisions and errors."""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.cli._common import CliError, add_home, home_of, json_text, open_store_db, safe
from otel_agents.cli._tables import Output, colour_errors
from otel_agents.store import _queries as queries
from otel_agents.store._figures import fmt_cost, fmt_duration

EXAMPLE = """example:
  otel-agents trace 4bf92f3577b3          # a trace id or a unique prefix of one
  otel-agents trace r-42                  # or a run id
"""
_BAR = 28
_STATUS = {0: "", 1: "ok", 2: "ERROR"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "trace",
        help="show one trace as a tree with durations, tokens, cost, routing and errors",
        description="One trace as a tree (waterfall).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("id", help="trace id (or unique prefix, 4+ hex digits) or run id")
    p.add_argument("--json", action="store_true", help="print the spans as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    try:
        trace_ids = queries.resolve_traces(conn, args.id)
    except queries.AmbiguousId as exc:
        raise CliError(str(exc)) from None
    if not trace_ids:
        raise CliError(f"no trace or run {args.id!r} in the store (see `otel-agents runs`)")
    traces = [(t, queries.trace_spans(conn, t)) for t in trace_ids]
    if args.json:
        print(json_text([s for _, spans in traces for s in spans]))
        return 0
    out = []
    if len(traces) > 1:
        # A run continued in other processes: every part, oldest first, as its own tree.
        out.append(safe(f"run {args.id.strip()}: {len(traces)} traces, oldest first") + "\n")
    for i, (trace_id, spans) in enumerate(traces):
        if i:
            out.append("")
        out.append(render(trace_id, spans, queries.runs_of_trace(conn, trace_id)))
        run_id = next((s["run_id"] for s in spans if s["run_id"]), None)
        others = [t for t in queries.run_trace_ids(conn, run_id) if t != trace_id] if run_id else []
        if others and len(traces) == 1:
            out.append(
                "\n" + safe(f"run {run_id} continues in {len(others)} other trace(s): " + ", ".join(others))
            )
    print(colour_errors("\n".join(out), Output.detect(no_color=args.no_color)))
    return 0


def _run_lines(run: dict[str, Any]) -> list[str]:
    """What a run row adds beyond its span: items, summaries, custom metrics, metadata."""
    out = []
    items = [
        f"{run[f'items_{k}']} {k}"
        for k in ("discovered", "succeeded", "failed")
        if run.get(f"items_{k}") is not None
    ]
    if items:
        out.append("items " + ", ".join(items))
    for label, key in (("input", "input_summary"), ("output", "output_summary")):
        if run.get(key):
            out.append(f"{label} {run[key]}")
    if run.get("metrics"):
        out.append("metrics " + orjson.dumps(run["metrics"]).decode())
    if run.get("metadata"):
        out.append("metadata " + ", ".join(f"{k}={v}" for k, v in run["metadata"].items()))
    return out


def render(trace_id: str, spans: list[dict[str, Any]], runs: list[dict[str, Any]] | None = None) -> str:
    """The text tree for a trace's spans."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in spans:
        parent = s["parent_span_id"] if s["parent_span_id"] in ids else None
        children.setdefault(parent, []).append(s)
    t0 = min(s["start_ns"] for s in spans)
    t1 = max(s["end_ns"] for s in spans)
    total = max(t1 - t0, 1)
    errors = sum(1 for s in spans if s["status_code"] == 2)
    roots = children.get(None, [])
    head = roots[0] if roots else spans[0]
    lines = [
        f"trace {trace_id}  service {head['service'] or '?'}  {len(spans)} spans  "
        f"{fmt_duration(total)}  {errors} error(s)"
    ]
    ctx = [
        f"{label} {head[key]}"
        for label, key in (("run", "run_id"), ("session", "session_id"), ("user", "user_id"))
        if head.get(key)
    ]
    if ctx:
        lines.append("  " + " · ".join(ctx))
    for run in runs or []:
        run_detail = _run_lines(run)
        lines.extend(f"  {line}" for line in run_detail)
    rows: list[tuple[str, dict[str, Any], str]] = []

    def walk(span: dict[str, Any], prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        rows.append(
            (
                prefix + branch + safe(span["name"]),
                span,
                prefix + ("" if depth == 0 else ("   " if last else "│  ")),
            )
        )
        kids = children.get(span["span_id"], [])
        for i, kid in enumerate(kids):
            walk(
                kid,
                prefix + ("" if depth == 0 else ("   " if last else "│  ")),
                i == len(kids) - 1,
                depth + 1,
            )

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1, 0)
    width = max(len(r[0]) for r in rows)
    lines.append("")
    lines.append(
        f"{'SPAN'.ljust(width)}  {'DURATION':>9}  {'STATUS':6}  {'TOKENS':>11}  {'COST':>9}  WATERFALL"
    )
    for label, span, detail_prefix in rows:
        lines.append(
            f"{label.ljust(width)}  {fmt_duration(span['duration_ns']):>9}  "
            f"{_STATUS.get(span['status_code'], '?'):6}  {_tokens(span):>11}  "
            f"{fmt_cost(span['cost_usd']) if span['cost_usd'] is not None else '':>9}  "
            f"{_bar(span, t0, total)}"
        )
        for detail in _details(span):
            lines.append(f"{detail_prefix}   ↳ {detail}")
    # Every stored string is in these lines: one escape pass keeps each a single, inert line.
    return "\n".join(safe(line) for line in lines)


def _tokens(span: dict[str, Any]) -> str:
    tin, tout = span["input_tokens"], span["output_tokens"]
    if tin is None and tout is None:
        return ""
    return f"{tin or 0}/{tout or 0}"


def _bar(span: dict[str, Any], t0: int, total: int) -> str:
    start = int((int(span["start_ns"]) - t0) / total * _BAR)
    length = max(1, round(int(span["duration_ns"]) / total * _BAR))
    start = min(start, _BAR - 1)
    length = min(length, _BAR - start)
    return "|" + " " * start + "█" * length + " " * (_BAR - start - length) + "|"


def _details(span: dict[str, Any]) -> list[str]:
    attrs = span["attributes"]
    out = []
    for source in [attrs, *(e["attributes"] for e in span["events"])]:
        # Stores written before 0.2 hold the legacy keys.
        target = source.get(semconv.ROUTE_TARGET, source.get(semconv.LEGACY_ROUTE_TARGET))
        if target is not None:
            origin = source.get(semconv.ROUTE_SOURCE, source.get(semconv.LEGACY_ROUTE_SOURCE, "?"))
            parts = [f"route {origin} → {target}"]
            if source.get(semconv.ROUTE_CANDIDATES) is not None:
                cands = source[semconv.ROUTE_CANDIDATES]
                parts.append(
                    "candidates " + (", ".join(map(str, cands)) if isinstance(cands, list) else str(cands))
                )
            if source.get(semconv.ROUTE_CONFIDENCE) is not None:
                parts.append(f"confidence {source[semconv.ROUTE_CONFIDENCE]}")
            if source.get(semconv.ROUTE_REASON):
                parts.append(f"reason {source[semconv.ROUTE_REASON]!r}")
            out.append("; ".join(parts))
            break
    if span["status_code"] == 2 or span["error_type"]:
        out.append("error " + queries.error_text(span["error_type"], span["status_message"]))
    model = span["model"]
    if model and span["operation"] not in (semconv.OP_INVOKE_AGENT, semconv.OP_INVOKE_WORKFLOW):
        out.append(f"model {model}" + (f" ({span['provider']})" if span["provider"] else ""))
    for e in span["events"]:
        if e["name"] != "exception" and not (
            semconv.ROUTE_TARGET in e["attributes"] or semconv.LEGACY_ROUTE_TARGET in e["attributes"]
        ):
            out.append(f"event {e['name']}")
    for log in span["logs"]:
        out.append(f"log {log['severity_text'] or ''} {log['body'] or ''}".rstrip())
    return out
