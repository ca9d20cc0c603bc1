"""``otel-agents runs``: recent workflow and agent runs, filtered, as a table or JSON."""

from __future__ import annotations

import argparse
from typing import Any, Final

from otel_agents.cli import _tables
from otel_agents.cli._common import (
    add_home,
    fmt_time,
    home_of,
    json_text,
    open_store_db,
    parse_time,
    positive_int,
)
from otel_agents.cli._tables import Column, Output, error_style, status_style
from otel_agents.store import _queries as queries
from otel_agents.store._figures import fmt_cost, fmt_duration

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
        formatter_class=RunFilterHelp,
    )
    add_home(p)
    add_run_filters(p)
    p.add_argument("--limit", type=positive_int, default=20, help="how many runs (default 20)")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    p.set_defaults(func=run)


class RunFilterHelp(argparse.RawDescriptionHelpFormatter):
    """Help that names the attribute each id filter matches, read from semconv only when help is shown.

    semconv imports upstream's conventions (typing_extensions, inspect, their enums): about a
    quarter of `runs`' start-up, for three help strings a run of the command never prints.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        from otel_agents.api import _semconv as semconv

        keys = {"run_id": semconv.RUN_ID, "session": semconv.SESSION_ID, "user": semconv.USER_ID}
        key = keys.get(action.dest)
        return action.help if key is None or action.help is None else f"{action.help} ({key})"


def add_run_filters(p: argparse.ArgumentParser) -> None:
    """The run filters shared by ``runs`` and ``export runs`` (whose parsers use RunFilterHelp)."""
    p.add_argument("--name", help="workflow or agent name")
    p.add_argument("--status", help="run status, e.g. ok or error")
    p.add_argument("--since", help="start time: 30m, 2h, 7d ago, or ISO 8601")
    p.add_argument("--until", help="end of the time range (same forms as --since)")
    p.add_argument("--run-id", help="run id")
    p.add_argument("--session", help="session id")
    p.add_argument("--user", help="user id")


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
    # The table shows neither metrics nor metadata: only --json decodes them.
    rows = queries.runs(conn, run_filter(args), limit=args.limit, decode=args.json)
    if args.json:
        print(json_text(rows))
        return 0
    if not rows:
        print("no runs match (try a wider --since, or run `otel-agents demo`)")
        return 0
    print(render(rows, Output.detect(no_color=args.no_color)))
    return 0


COLUMNS: Final = (
    Column("START"),
    Column("NAME", min_width=10),
    Column("KIND", drop=5),
    Column("STATUS", style=status_style),
    Column("DURATION", right=True),
    Column("TOKENS", right=True, drop=4),
    Column("COST", right=True, drop=3),
    Column("RUN ID", min_width=10),
    # 8 hex digits are plenty to pass to `otel-agents trace`.
    Column("TRACE", trim=8, cut="crop"),
    Column("ERROR", min_width=5, drop=1, style=error_style),
)


def render(rows: list[dict[str, Any]], out: Output | None = None) -> str:
    """Runs as a table fitted to the terminal (or ``COLUMNS``), errors in red on a colour terminal."""
    body = [
        [
            fmt_time(r["start_ns"]),
            str(r["name"] or "?"),
            str(r["kind"]),
            str(r["status"]),
            fmt_duration(r["duration_ns"]),
            _tokens(r),
            fmt_cost(r["cost_usd"]),
            str(r["run_id"] or "-") + (f" ({r['traces']} traces)" if r.get("traces", 1) > 1 else ""),
            str(r["trace_id"])[:16],
            str(r["error_type"] or ""),
        ]
        for r in rows
    ]
    # Narrow terminals: month-day times, the error's class name, then fewer columns.
    compact = {
        "START": [fmt_time(r["start_ns"])[5:] for r in rows],
        "ERROR": [str(r["error_type"] or "").rsplit(".", 1)[-1] for r in rows],
    }
    return _tables.render(COLUMNS, body, out or Output.detect(), compact=compact)


def _tokens(r: dict[str, Any]) -> str:
    tin, tout = r.get("input_tokens"), r.get("output_tokens")
    if tin is None and tout is None:
        return "-"
    return f"{tin or 0:,}/{tout or 0:,}"
