"""The UI's pages as server-rendered HTML; every stored string goes through ``e`` (HTML-escaped)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote, urlencode

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.store import _queries as queries
from otel_agents.store._figures import fmt_cost, fmt_duration, fmt_int
from otel_agents.store._graph import routing_graph
from otel_agents.ui import _svg
from otel_agents.ui._format import e, fmt_time, fmt_tokens, parse_time
from otel_agents.ui._series import series

_ERROR: Final = 2
RUN_FILTERS: Final = ("name", "status", "since", "until", "run_id", "session", "user")
STAT_KINDS: Final = ("agent", "tool", "model", "workflow")


class NotFound(Exception):
    """An unknown run, trace or page: the message says what was looked for."""


_ACTIVE: Final = ' class="active"'
_ERROR_BADGE: Final = ' <span class="status error">ERROR</span>'


def _link(path: str, text: str) -> str:
    return f'<a href="{e(path)}">{e(text)}</a>'


def layout(title: str, body: str, *, active: str = "", script: bool = False) -> str:
    """The page around ``body``: navigation, search, the vendored stylesheet (and poll script)."""
    nav = "".join(
        f'<a href="{href}"{_ACTIVE if key == active else ""}>{label}</a>'
        for key, href, label in (
            ("runs", "/", "Runs"),
            ("graph", "/graph", "Agent graph"),
            ("stats", "/stats", "Stats"),
        )
    )
    js = '<script src="/static/poll.js" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · otel-agents</title>"
        f'<link rel="stylesheet" href="/static/ui.css">{js}</head><body>'
        f'<header><span class="brand">otel-agents</span><nav>{nav}</nav>'
        '<form class="search" action="/search" method="get" role="search">'
        '<input name="q" placeholder="trace id or run id" aria-label="trace id or run id">'
        "<button>Go</button></form></header>"
        f"<main>{body}</main></body></html>"
    )


def message_page(title: str, message: str) -> str:
    """A page that says what went wrong (a missing, broken or locked store; an unknown id)."""
    return layout(title, f'<h1>{e(title)}</h1><p class="problem">{e(message)}</p><p><a href="/">Runs</a></p>')


def _filters_form(params: Mapping[str, str]) -> str:
    fields = [
        ("name", "name", "support_triage"),
        ("status", "status", "ok / error"),
        ("since", "since", "30m, 24h, 7d, ISO"),
        ("until", "until", "now"),
        ("run_id", "run id", ""),
        ("session", "session id", ""),
        ("user", "user id", ""),
    ]
    inputs = "".join(
        f'<label>{label}<input name="{key}" value="{e(params.get(key, ""))}" placeholder="{e(hint)}"></label>'
        for key, label, hint in fields
    )
    return f'<form class="filters" method="get" action="/">{inputs}<button>Filter</button><a href="/">clear</a></form>'


def run_filter(params: Mapping[str, str]) -> queries.RunFilter:
    """The RunFilter a runs page's query string describes (unreadable times are ignored)."""

    def text(key: str) -> str | None:
        value = params.get(key, "").strip()
        return value or None

    return queries.RunFilter(
        name=text("name"),
        status=text("status"),
        since_ns=parse_time(params.get("since", "")),
        until_ns=parse_time(params.get("until", "")),
        run_id=text("run_id"),
        session_id=text("session"),
        user_id=text("user"),
    )


def _status(status: str | None) -> str:
    cls = "status error" if status == "error" else "status ok"
    return f'<span class="{cls}">{e(status or "-")}</span>'


def run_rows(runs: Sequence[Mapping[str, Any]]) -> str:
    """The runs table's body rows."""
    out = []
    for r in runs:
        target = f"/run/{quote(str(r['run_id']), safe='')}" if r.get("run_id") else f"/trace/{r['trace_id']}"
        traces = f' <span class="muted">({r["traces"]} traces)</span>' if r.get("traces", 1) > 1 else ""
        err = "error" if r["status"] == "error" else ""
        out.append(
            f'<tr class="{err}"><td>{e(fmt_time(r["start_ns"]))}</td>'
            f"<td>{_link(target, str(r['name'] or '?'))}</td><td>{e(r['kind'])}</td>"
            f"<td>{_status(r['status'])}</td><td class=num>{e(fmt_duration(r['duration_ns']))}</td>"
            f"<td class=num>{e(fmt_tokens(r['input_tokens'], r['output_tokens']))}</td>"
            f"<td class=num>{e(fmt_cost(r['cost_usd']))}</td>"
            f"<td>{e(r['run_id'] or '-')}{traces}</td><td>{e(r['session_id'] or '-')}</td>"
            f"<td>{e(r['user_id'] or '-')}</td>"
            f"<td class=err>{e(queries.error_text(r['error_type'], r['error_message']) if err else '')}</td></tr>"
        )
    return "".join(out) or '<tr><td colspan="11" class="muted">no runs match these filters</td></tr>'


def runs_page(conn: sqlite3.Connection, params: Mapping[str, str], limit: int) -> str:
    """Recent runs with filters; the poll script refreshes the table while apps write."""
    runs = queries.runs(conn, run_filter(params), limit=limit)
    query = urlencode({k: params[k] for k in RUN_FILTERS if params.get(k)})
    head = "".join(
        f"<th{' class=num' if h in ('duration', 'tokens', 'cost') else ''}>{h}</th>"
        for h in (
            "start (UTC)",
            "name",
            "kind",
            "status",
            "duration",
            "tokens",
            "cost",
            "run id",
            "session",
            "user",
            "error",
        )
    )
    body = (
        f"<h1>Runs</h1>{_filters_form(params)}"
        f'<p class="muted">most recently active first, up to {limit}; refreshes every 5 s'
        f' <a href="/?{e(query)}">reload</a></p>'
        f'<table class="runs"><thead><tr>{head}</tr></thead>'
        f'<tbody id="runs-body" data-poll="/fragment/runs?{e(query)}">{run_rows(runs)}</tbody></table>'
    )
    return layout("Runs", body, active="runs", script=True)


def _tree(spans: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in spans:
        children.setdefault(s["parent_span_id"] if s["parent_span_id"] in ids else None, []).append(s)
    out: list[tuple[dict[str, Any], int]] = []
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        out.append((span, depth))
        stack.extend((kid, depth + 1) for kid in reversed(children.get(span["span_id"], [])))
    return out


def _value(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return e(orjson.dumps(v).decode())
    return e(v)


def _span_details(span: Mapping[str, Any], anchor: str) -> str:
    attrs = "".join(
        f"<tr><th>{e(k)}</th><td>{_value(v)}</td></tr>" for k, v in sorted(span["attributes"].items())
    )
    fields = [
        ("span id", span["span_id"]),
        ("parent", span["parent_span_id"] or "-"),
        ("service", span["service"] or "-"),
        ("start (UTC)", fmt_time(span["start_ns"])),
        ("duration", fmt_duration(span["duration_ns"])),
        ("status", {0: "unset", 1: "ok", 2: "ERROR"}.get(span["status_code"], "?")),
        ("tokens in/out", fmt_tokens(span["input_tokens"], span["output_tokens"])),
        ("cost", fmt_cost(span["cost_usd"])),
    ]
    head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in fields)
    error = ""
    if span["status_code"] == _ERROR:
        error = f'<p class="problem">error {e(queries.error_text(span["error_type"], span["status_message"]))}</p>'
    events = "".join(
        f"<li>{e(fmt_time(ev['time_ns']))} <b>{e(ev['name'])}</b> {_value(ev['attributes']) if ev['attributes'] else ''}</li>"
        for ev in span["events"]
    )
    logs = "".join(
        f'<li><span class="sev">{e(log["severity_text"] or "")}</span> {e(log["body"] or "")}</li>'
        for log in span["logs"]
    )
    links = "".join(
        f"<li>{_link('/trace/' + str(link.get('trace_id', '')), str(link.get('trace_id', '')))}</li>"
        for link in span["links"]
        if isinstance(link, dict)
    )
    cls = "span error" if span["status_code"] == _ERROR else "span"
    return (
        f'<details class="{cls}" id="{e(anchor)}-{e(span["span_id"])}"><summary>{e(span["name"])}'
        f' <span class="muted">{e(fmt_duration(span["duration_ns"]))}</span>'
        f"{_ERROR_BADGE if span['status_code'] == _ERROR else ''}</summary>"
        f'{error}<table class="kv">{head}</table><h4>attributes (as stored)</h4><table class="kv">{attrs}</table>'
        f"{f'<h4>events</h4><ul>{events}</ul>' if events else ''}"
        f"{f'<h4>logs</h4><ul class=logs>{logs}</ul>' if logs else ''}"
        f"{f'<h4>links</h4><ul>{links}</ul>' if links else ''}"
        "</details>"
    )


def _llm_table(spans: Sequence[Mapping[str, Any]]) -> str:
    calls = [
        s
        for s in spans
        if s["model"] and s["operation"] not in (semconv.OP_INVOKE_AGENT, semconv.OP_INVOKE_WORKFLOW)
    ]
    if not calls:
        return ""
    rows = "".join(
        f"<tr><td>{e(s['name'])}</td><td>{e(s['model'])}</td><td>{e(s['provider'] or '-')}</td>"
        f"<td class=num>{e(fmt_int(s['input_tokens']))}</td><td class=num>{e(fmt_int(s['output_tokens']))}</td>"
        f"<td class=num>{e(fmt_cost(s['cost_usd']))}</td><td class=num>{e(fmt_duration(s['duration_ns']))}</td>"
        f"<td>{_status('error' if s['status_code'] == _ERROR else 'ok')}</td></tr>"
        for s in calls
    )
    return (
        '<h3>LLM calls</h3><table class="llm"><thead><tr><th>span</th><th>model</th><th>provider</th>'
        "<th>tokens in</th><th>tokens out</th><th>cost</th><th>duration</th><th>status</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _run_summary(run: Mapping[str, Any]) -> str:
    fields = [
        ("run id", run.get("run_id") or "-"),
        ("name", run.get("name") or "-"),
        ("status", run.get("status")),
        ("start (UTC)", fmt_time(run.get("start_ns"))),
        ("duration", fmt_duration(run.get("duration_ns"))),
        ("tokens in/out", fmt_tokens(run.get("input_tokens"), run.get("output_tokens"))),
        ("cost", fmt_cost(run.get("cost_usd"))),
        ("session", run.get("session_id") or "-"),
        ("user", run.get("user_id") or "-"),
        ("service", run.get("service") or "-"),
    ]
    for k in ("input_summary", "output_summary"):
        if run.get(k):
            fields.append((k.replace("_", " "), run[k]))
    for k in ("metrics", "metadata"):
        if run.get(k):
            fields.append((k, orjson.dumps(run[k]).decode() if not isinstance(run[k], str) else run[k]))
    if run.get("status") == "error":
        fields.append(("error", queries.error_text(run.get("error_type"), run.get("error_message"))))
    return (
        '<table class="kv summary">'
        + "".join(
            f"<tr><th>{e(k)}</th><td>{_status(str(v)) if k == 'status' else e(v)}</td></tr>"
            for k, v in fields
        )
        + "</table>"
    )


def traces_page(conn: sqlite3.Connection, title: str, trace_ids: Sequence[str]) -> str:
    """A run (every trace of it) or one trace: summary, waterfalls, span details, LLM calls."""
    parts = []
    run_rows_ = [r for t in trace_ids for r in queries.runs_of_trace(conn, t)]
    run_id = next((r["run_id"] for r in run_rows_ if r.get("run_id")), None)
    all_traces = list(trace_ids)
    if run_id:
        merged = queries.runs(conn, queries.RunFilter(run_id=run_id), limit=1)
        if merged:
            parts.append(_run_summary(merged[0]))
            all_traces = merged[0]["trace_ids"]
    elif run_rows_:
        parts.append(_run_summary(queries.merge_run(run_rows_)))
    if len(all_traces) > 1:
        items = "".join(
            f"<li>{_link(f'/trace/{t}', t)}{' (shown below)' if t in trace_ids else ''}</li>"
            for t in all_traces
        )
        parts.append(f'<h3>This run spans {len(all_traces)} traces</h3><ol class="trace-links">{items}</ol>')
    for n, trace_id in enumerate(trace_ids):
        spans = queries.trace_spans(conn, trace_id)
        if not spans:
            continue
        anchor = f"t{n}"
        errors = sum(1 for s in spans if s["status_code"] == _ERROR)
        rows = _tree(spans)
        graph = routing_graph(conn, trace_ids=[trace_id])
        graph_link = (
            f' · <a href="/graph?trace={e(trace_id)}">agent graph ({len(graph.edges)} hand-off edges)</a>'
            if graph.edges
            else ""
        )
        parts.append(
            f'<section class="trace" id="trace-{e(trace_id)}"><h2>trace {e(trace_id)}</h2>'
            f'<p class="muted">{len(spans)} spans · {errors} error(s){graph_link}</p>'
            f'<div class="scroll">{_svg.waterfall(rows, anchor)}</div>'
            f"{_llm_table(spans)}<h3>spans</h3>"
            + "".join(_span_details(s, anchor) for s, _ in rows)
            + "</section>"
        )
    return layout(title, f"<h1>{e(title)}</h1>" + "".join(parts), active="runs")


def graph_page(conn: sqlite3.Connection, params: Mapping[str, str]) -> str:
    """The agent graph for one run / trace, or for a time range (default: the last 24 hours)."""
    run_id = params.get("run", "").strip()
    trace = params.get("trace", "").strip()
    scope: str
    if run_id or trace:
        ident = run_id or trace
        trace_ids = queries.resolve_traces(conn, ident)
        if not trace_ids:
            raise NotFound(f"no run or trace {ident!r} in the store")
        graph = routing_graph(conn, trace_ids=trace_ids)
        scope = f"{'run' if run_id else 'trace'} {ident}"
    else:
        since = parse_time(params.get("since", "") or "24h")
        until = parse_time(params.get("until", ""))
        graph = routing_graph(conn, since_ns=since, until_ns=until)
        scope = f"since {params.get('since') or '24h'}" + (
            f" until {params['until']}" if params.get("until") else ""
        )
    rows = "".join(
        f'<tr class="{"error" if edge.errors else ""}"><td>{e(edge.source)}</td><td>{e(edge.target)}</td>'
        f"<td class=num>{edge.count:,}</td><td class=num>{edge.errors:,}</td>"
        f"<td class=num>{edge.error_rate:.1%}</td><td class=num>{e(fmt_duration(edge.p95_ns))}</td></tr>"
        for edge in graph.edges
    )
    form = (
        '<form class="filters" method="get" action="/graph">'
        f'<label>since<input name="since" value="{e(params.get("since", ""))}" placeholder="24h"></label>'
        f'<label>until<input name="until" value="{e(params.get("until", ""))}" placeholder="now"></label>'
        f'<label>run id<input name="run" value="{e(run_id)}"></label><button>Show</button></form>'
    )
    table = (
        '<table class="edges"><thead><tr><th>source</th><th>target</th><th>hand-offs</th><th>errors</th>'
        f"<th>error rate</th><th>p95 of target</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="muted">no routing decisions in this scope (oa.route() records them)</p>'
    )
    body = (
        f"<h1>Agent graph</h1>{form}<p class=muted>{e(scope)}: agents as nodes, routing decisions as edges;"
        " an edge's errors and p95 are those of the target agent's invocation after each decision.</p>"
        f'<div class="scroll">{_svg.agent_graph(graph)}</div>{table}'
    )
    return layout("Agent graph", body, active="graph")


_METRICS: Final = (
    ("calls", "calls", _svg.nice_number),
    ("errors", "errors", _svg.nice_number),
    ("p50_ms", "p50 latency", _svg.nice_ms),
    ("p95_ms", "p95 latency", _svg.nice_ms),
    ("tokens", "tokens (in + out)", _svg.nice_number),
    ("cost", "cost (USD)", _svg.nice_cost),
)


def stats_page(conn: sqlite3.Connection, params: Mapping[str, str], now_ns: int) -> str:
    """Charts over time by agent, tool or model, and the exact totals table of the range."""
    kind = params.get("kind", "agent")
    if kind not in STAT_KINDS:
        kind = "agent"
    since = parse_time(params.get("since", "") or "24h") or now_ns - 86_400 * 10**9
    until = parse_time(params.get("until", "")) or now_ns
    if until <= since:
        until = since + 1
    data = series(conn, kind, since, until)
    charts = "".join(
        _svg.line_chart(f"{title} per {fmt_duration(data.bucket_ns)}", data.times, data.values(metric), fmt)
        for metric, title, fmt in _METRICS
    )
    totals = [r for r in queries.stats(conn, since, until) if r["kind"] == kind]
    rows = "".join(
        f'<tr class="{"error" if r["errors"] else ""}"><td>{e(r["name"])}</td><td class=num>{r["calls"]:,}</td>'
        f"<td class=num>{r['errors']:,}</td><td class=num>{r['error_rate']:.1%}</td>"
        f"<td class=num>{e(fmt_duration(r['p50_ms'] * 1e6))}</td><td class=num>{e(fmt_duration(r['p95_ms'] * 1e6))}</td>"
        f"<td class=num>{e(fmt_int(r['input_tokens']))}</td><td class=num>{e(fmt_int(r['output_tokens']))}</td>"
        f"<td class=num>{e(fmt_cost(r['cost_usd']))}</td></tr>"
        for r in totals
    )
    kinds = "".join(f'<option value="{k}"{" selected" if k == kind else ""}>{k}</option>' for k in STAT_KINDS)
    form = (
        '<form class="filters" method="get" action="/stats">'
        f'<label>by<select name="kind">{kinds}</select></label>'
        f'<label>since<input name="since" value="{e(params.get("since", ""))}" placeholder="24h"></label>'
        f'<label>until<input name="until" value="{e(params.get("until", ""))}" placeholder="now"></label>'
        "<button>Show</button></form>"
    )
    body = (
        f"<h1>Stats by {e(kind)}</h1>{form}"
        f'<p class="muted">{e(fmt_time(since))} .. {e(fmt_time(until))} UTC; the busiest {len(data.names)} shown</p>'
        f'<div class="charts">{charts}</div>'
        '<table class="stats"><thead><tr><th>name</th><th>calls</th><th>errors</th><th>error rate</th>'
        "<th>p50</th><th>p95</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr></thead>"
        f"<tbody>{rows or '<tr><td colspan=9 class=muted>nothing recorded in this range</td></tr>'}</tbody></table>"
    )
    return layout("Stats", body, active="stats")
