"""``otel-agents runs``: recent workflow and agent runs, filtered, as a table or JSON."""

from __future__ import annotations

import argparse
from typing import Any

from otel_agents.api import _semconv as semconv
from otel_agents.cli._common import (
    add_home,
    fmt_cost,
    fmt_duration,
    fmt_time,
    home_of,
    json_text,
    open_store_db,
    parse_time,
    positive_int,
    table,
)
from otel_agents.store import _queries as queries

EXAMPLE = """example:
  otel-agents runs --name support_triage --status error --since 24h
  otel-agents runs --session s-1 --json | jq '.[].trace_id'
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "runs",
        help="list recent runs (workflows and top-level agents)",
        description="Recent runs, newest first.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    add_run_filters(p)
    p.add_argument("--limit", type=positive_int, default=20, help="how many runs (default 20)")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    p.set_defaults(func=run)


def add_run_filters(p: argparse.ArgumentParser) -> None:
    """The run filters shared by ``runs`` and ``export runs``."""
    p.add_argument("--name", help="workflow or agent name")
    p.add_argument("--status", help="run status, e.g. ok or error")
    p.add_argument("--since", help="start time: 30m, 2h, 7d ago, or ISO 8601")
    p.add_argument("--until", help="end of the time range (same forms as --since)")
    p.add_argument("--run-id", help=f"run id ({semconv.RUN_ID})")
    p.add_argument("--session", help=f"session id ({semconv.SESSION_ID})")
    p.add_argument("--user", help=f"user id ({semconv.USER_ID})")


def run_filter(args: argparse.Namespace) -> queries.RunFilter:
    """The RunFilter the parsed options describe."""
    return queries.RunFilter(
        name=args.name,
        status=args.status,
        since_ns=parse_time(args.since) if args.since else None,
        until_ns=parse_time(args.until) if args.until else None,
        run_id=args.run_id,
        session_id=args.session,
        user_id=args.user,
    )


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    rows = queries.runs(conn, run_filter(args), limit=args.limit)
    if args.json:
        print(json_text(rows))
        return 0
    if not rows:
        print("no runs match (try a wider --since, or run `otel-agents demo`)")
        return 0
    print(render(rows))
    return 0


def render(rows: list[dict[str, Any]]) -> str:
    """Runs as an aligned text table."""
    body = [
        [
            fmt_time(r["start_ns"]),
            str(r["name"] or "?"),
            str(r["kind"]),
            str(r["status"]),
            fmt_duration(r["duration_ns"]),
            _tokens(r),
            fmt_cost(r["cost_usd"]),
            str(r["run_id"] or "-"),
            str(r["trace_id"])[:16],
            str(r["error_type"] or ""),
        ]
        for r in rows
    ]
    headers = ["START", "NAME", "KIND", "STATUS", "DURATION", "TOKENS", "COST", "RUN ID", "TRACE", "ERROR"]
    return table(headers, body, right=frozenset({4, 5, 6}))


def _tokens(r: dict[str, Any]) -> str:
    tin, tout = r.get("input_tokens"), r.get("output_tokens")
    if tin is None and tout is None:
        return "-"
    return f"{tin or 0:,}/{tout or 0:,}"
