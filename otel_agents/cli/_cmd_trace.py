"""``otel-agents trace ID``: one trace as a tree with a waterfall, routing decisions and errors."""

from __future__ import annotations

import argparse
import textwrap
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
# The narrowest useful waterfall; below it TOKENS and COST make room, then lines are cut.
_MIN_BAR = 12
_NBSP = "\u00a0"
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
    out: list[str] = []
    term = Output.detect(no_color=args.no_color)

    def note(text: str) -> None:
        out.extend(_fit("", safe(text), "  ", term.width))

    if len(traces) > 1:
        # A run continued in other processes: every part, oldest first, as its own tree.
        note(f"run {args.id.strip()}: {len(traces)} traces, oldest first")
        out.append("")
    for i, (trace_id, spans) in enumerate(traces):
        if i:
            out.append("")
        out.append(render(trace_id, spans, queries.runs_of_trace(conn, trace_id), width=term.width))
        run_id = next((s["run_id"] for s in spans if s["run_id"]), None)
        others = [t for t in queries.run_trace_ids(conn, run_id) if t != trace_id] if run_id else []
        if others and len(traces) == 1:
            out.append("")
            note(f"run {run_id} continues in {len(others)} other trace(s): " + ", ".join(others))
    print(colour_errors("\n".join(out), term))
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


def _cut(line: str, width: int) -> str:
    """A line no wider than ``width``: cut with an ellipsis, never wrapped."""
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def render(
    trace_id: str,
    spans: list[dict[str, Any]],
    runs: list[dict[str, Any]] | None = None,
    *,
    width: int | None = None,
) -> str:
    """The text tree for a trace's spans, its waterfall fitted to ``width`` columns when given."""
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
    # (lead, text, continuation lead): a line too wide for ``width`` wraps its text under the
    # continuation lead, or is cut when that is None (table rows).
    lines: list[tuple[str, str, str | None]] = [
        (
            "",
            # No-break spaces keep each label with its value when the line wraps.
            f"trace{_NBSP}{trace_id}  service{_NBSP}{head['service'] or '?'}  {len(spans)}{_NBSP}spans  "
            f"{fmt_duration(total)}  {errors}{_NBSP}error(s)",
            "  ",
        )
    ]
    ctx = [
        f"{label} {head[key]}"
        for label, key in (("run", "run_id"), ("session", "session_id"), ("user", "user_id"))
        if head.get(key)
    ]
    if ctx:
        lines.append(("  ", " · ".join(ctx), "    "))
    for run in runs or []:
        run_detail = _run_lines(run)
        lines.extend(("  ", line, "    ") for line in run_detail)
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
    label_width = max(len(r[0]) for r in rows)
    # SPAN, DURATION, STATUS, the gaps and the bar's two '|': 21; TOKENS and COST: 24 more.
    bar, money = _BAR, True
    if width is not None:
        bar = min(_BAR, width - label_width - 21 - 24 - 2)
        if bar < _MIN_BAR:
            money = False
            bar = max(_MIN_BAR, min(_BAR, width - label_width - 21 - 2))
    money_head = f"  {'TOKENS':>11}  {'COST':>9}" if money else ""
    lines.append(("", "", None))
    lines.append(
        ("", f"{'SPAN'.ljust(label_width)}  {'DURATION':>9}  {'STATUS':6}{money_head}  WATERFALL", None)
    )
    for label, span, detail_prefix in rows:
        cost = fmt_cost(span["cost_usd"]) if span["cost_usd"] is not None else ""
        money_cells = f"  {_tokens(span):>11}  {cost:>9}" if money else ""
        row = (
            f"{label.ljust(label_width)}  {fmt_duration(span['duration_ns']):>9}  "
            f"{_STATUS.get(span['status_code'], '?'):6}{money_cells}  "
            f"{_bar(span, t0, total, bar)}"
        )
        lines.append(("", row, None))
        for detail in _details(span):
            lines.append((f"{detail_prefix}   ↳ ", detail, f"{detail_prefix}     "))
    # Every stored string is in these lines: one escape pass keeps each a single, inert line.
    return "\n".join(out for lead, text, cont in lines for out in _fit(safe(lead), safe(text), cont, width))


def _fit(lead: str, text: str, cont: str | None, width: int | None) -> list[str]:
    """``lead + text`` as one line, or wrapped under ``cont`` (cut when None) to fit ``width``."""
    line = lead + text
    if width is None or len(line) <= width:
        return [line.replace(_NBSP, " ")]
    room = width - len(cont or "")
    if cont is None or room < 20 or width - len(lead) < 20:
        return [_cut(line.replace(_NBSP, " "), width)]
    first, *rest = textwrap.wrap(text, width - len(lead), break_on_hyphens=False) or [""]
    wrapped = textwrap.wrap(" ".join(rest), room, break_on_hyphens=False) if rest else []
    return [(lead + first).replace(_NBSP, " "), *(cont + piece.replace(_NBSP, " ") for piece in wrapped)]


def _tokens(span: dict[str, Any]) -> str:
    tin, tout = span["input_tokens"], span["output_tokens"]
    if tin is None and tout is None:
        return ""
    return f"{tin or 0}/{tout or 0}"


def _bar(span: dict[str, Any], t0: int, total: int, size: int = _BAR) -> str:
    start = int((int(span["start_ns"]) - t0) / total * size)
    length = max(1, round(int(span["duration_ns"]) / total * size))
    start = min(start, size - 1)
    length = min(length, size - start)
    return "|" + " " * start + "█" * length + " " * (size - start - length) + "|"


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
