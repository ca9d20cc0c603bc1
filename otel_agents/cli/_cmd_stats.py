"""``otel-agents stats``: calls, error rate, p50/p95 duration, tokens and cost per agent, tool, model."""

from __future__ import annotations

import argparse
from typing import Any, Final

from otel_agents.cli import _tables
from otel_agents.cli._common import add_home, home_of, json_text, open_store_db, parse_time
from otel_agents.cli._tables import Column, Output
from otel_agents.store import _queries as queries
from otel_agents.store._figures import fmt_cost, fmt_duration, fmt_int

COLUMNS: Final = (
    Column("KIND"),
    Column("NAME", min_width=12),
    Column("CALLS", right=True),
    Column("ERRORS", right=True, style=lambda v: "bold red" if v != "0.0%" else None),
    Column("P50", right=True),
    Column("P95", right=True),
    Column("TOKENS IN", right=True, drop=2),
    Column("TOKENS OUT", right=True, drop=1),
    Column("COST", right=True, drop=3),
    Column("UNPRICED", right=True, drop=4),
)

EXAMPLE = """example:
  otel-agents stats --since 24h
  otel-agents stats --json | jq '.[] | select(.kind == "tool")'
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "stats",
        help="per workflow, agent, tool and model: calls, errors, p50/p95, tokens, cost",
        description=(
            "Aggregate statistics. Percentiles are read from 5%-wide duration buckets (within"
            " 2.5% of exact). --since/--until are exact: whole hours come from the hourly"
            " rollup, the partial hours at either end from the spans themselves."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("--since", help="from: 30m, 2h, 7d ago, or ISO 8601 (default: everything)")
    p.add_argument("--until", help="to (same forms as --since)")
    p.add_argument("--kind", choices=["workflow", "agent", "tool", "model"], help="only this kind")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    rows = queries.stats(
        conn,
        parse_time(args.since) if args.since else None,
        parse_time(args.until) if args.until else None,
    )
    if args.kind:
        rows = [r for r in rows if r["kind"] == args.kind]
    if args.json:
        print(json_text(rows))
        return 0
    if not rows:
        print("no agent, tool or model calls recorded in that range")
        return 0
    body = [
        [
            r["kind"],
            r["name"],
            fmt_int(r["calls"]),
            f"{r['error_rate'] * 100:.1f}%",
            fmt_duration(r["p50_ms"] * 1e6),
            fmt_duration(r["p95_ms"] * 1e6),
            fmt_int(r["input_tokens"]),
            fmt_int(r["output_tokens"]),
            fmt_cost(r["cost_usd"]),
            fmt_int(r["unpriced_calls"]) if r["unpriced_calls"] else "",
        ]
        for r in rows
    ]
    print(_tables.render(COLUMNS, body, Output.detect(no_color=args.no_color)))
    return 0
