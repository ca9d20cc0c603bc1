"""``otel-agents graph``: the routing graph (agents, hand-offs) as a text tree, Mermaid or DOT."""

from __future__ import annotations

import argparse
from typing import Any

from otel_agents.cli._common import CliError, add_home, home_of, json_text, open_store_db, parse_time, safe
from otel_agents.cli._tables import Output, colour_errors
from otel_agents.store import _queries as queries
from otel_agents.store._figures import fmt_duration
from otel_agents.store._graph import Edge, Graph, Node, routing_graph

EXAMPLE = """example:
  otel-agents graph                         # every route decision in the store, as a tree
  otel-agents graph demo-T-1003-ab12        # one run (run id) or trace (id or prefix)
  otel-agents graph --since 24h --format mermaid > routing.mmd
  otel-agents graph --format dot | dot -Tsvg > routing.svg
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "graph",
        help="the routing graph: agents and hand-offs with counts, errors and p95",
        description=(
            "Agents as nodes, routing decisions (route spans and hand-off events) as edges. An edge's"
            " errors and p95 are those of the target agent's invocation after each decision."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("id", nargs="?", help="only this run id or trace id (prefix); default: the time range")
    p.add_argument("--since", help="from: 30m, 2h, 7d ago, or ISO 8601 (default: everything)")
    p.add_argument("--until", help="to (same forms as --since)")
    p.add_argument(
        "--format", choices=["text", "mermaid", "dot", "json"], default="text", help="default text"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    trace_ids = None
    if args.id:
        if args.since or args.until:
            raise CliError("give a run/trace id or --since/--until, not both", code=2)
        try:
            trace_ids = queries.resolve_traces(conn, args.id)
        except queries.AmbiguousId as exc:
            raise CliError(str(exc)) from None
        if not trace_ids:
            raise CliError(f"no trace or run {args.id!r} in the store (see `otel-agents runs`)")
    graph = routing_graph(
        conn,
        trace_ids=trace_ids,
        since_ns=parse_time(args.since) if args.since else None,
        until_ns=parse_time(args.until) if args.until else None,
    )
    if args.format == "json":
        print(json_text(graph.as_dict()))
    elif args.format == "mermaid":
        print(mermaid(graph))
    elif args.format == "dot":
        print(dot(graph))
    elif not graph.edges:
        print("no routing decisions recorded in that scope (oa.route() records them)")
    else:
        print(colour_errors(tree(graph), Output.detect(no_color=args.no_color)))
    return 0


def _edge_label(e: Edge) -> str:
    parts = [f"{e.count:,} hand-off" + ("" if e.count == 1 else "s")]
    parts.append(f"{e.errors:,} ERROR ({e.error_rate:.0%})" if e.errors else "0 errors")
    if e.p95_ns is not None:
        parts.append(f"p95 {fmt_duration(e.p95_ns)}")
    return " · ".join(parts)


def _node_label(n: Node) -> str:
    if not n.calls:
        return ""
    errors = f", {n.errors:,} ERROR" if n.errors else ""
    return f"({n.calls:,} call{'' if n.calls == 1 else 's'}{errors})"


def tree(graph: Graph) -> str:
    """Each entry agent (a source nothing routes to) with its hand-offs below it, recursively."""
    out: dict[str, list[Edge]] = {}
    targets = set()
    for e in graph.edges:
        out.setdefault(e.source, []).append(e)
        targets.add(e.target)
    roots = [s for s in out if s not in targets] or list(out)[:1]
    lines: list[str] = []
    shown: set[str] = set()

    def walk(name: str, prefix: str, seen: frozenset[str]) -> None:
        edges = out.get(name, [])
        for i, e in enumerate(edges):
            last = i == len(edges) - 1
            again = e.target in seen
            node = graph.nodes.get(e.target)
            label = f"{safe(e.target)} {_node_label(node) if node and not again else ''}".rstrip()
            note = "  (cycle)" if again else ""
            lines.append(f"{prefix}{'└─' if last else '├─'}→ {label}  {_edge_label(e)}{note}")
            if not again and e.target not in shown:
                shown.add(e.target)
                walk(e.target, prefix + ("   " if last else "│  "), seen | {e.target})

    for root in roots:
        node = graph.nodes.get(root)
        lines.append(f"{safe(root)} {_node_label(node) if node else ''}".rstrip())
        shown.add(root)
        walk(root, "", frozenset({root}))
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    # Inside a quoted Mermaid label only the quote needs its entity; control characters are escaped.
    return safe(text).replace('"', "#quot;")


def mermaid(graph: Graph) -> str:
    """A Mermaid flowchart: one node per agent, one labelled arrow per (source, target)."""
    ids = {name: f"n{i}" for i, name in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for name, node in graph.nodes.items():
        label = name + (f"<br/>{_node_label(node)}" if node.calls else "")
        lines.append(f'  {ids[name]}["{_mermaid_text(label)}"]')
    for e in graph.edges:
        lines.append(f'  {ids[e.source]} -->|"{_mermaid_text(_edge_label(e))}"| {ids[e.target]}')
    for e in graph.edges:
        if e.errors:
            lines.append(f"  linkStyle {graph.edges.index(e)} stroke:#d62728")
    return "\n".join(lines)


def _dot_text(text: str) -> str:
    return safe(text).replace("\\", "\\\\").replace('"', '\\"')


def dot(graph: Graph) -> str:
    """A Graphviz digraph: one node per agent, one labelled edge per (source, target)."""
    lines = [
        "digraph routing {",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="sans-serif"];',
    ]
    for name, node in graph.nodes.items():
        label = _dot_text(name) + (f"\\n{_dot_text(_node_label(node))}" if node.calls else "")
        lines.append(f'  "{_dot_text(name)}" [label="{label}"];')
    for e in graph.edges:
        colour = ', color="#d62728"' if e.errors else ""
        label = _dot_text(_edge_label(e))
        lines.append(f'  "{_dot_text(e.source)}" -> "{_dot_text(e.target)}" [label="{label}"{colour}];')
    lines.append("}")
    return "\n".join(lines)
