"""``otel-agents tail``: print spans as they arrive in the store."""

from __future__ import annotations

import argparse
import time
from typing import Any

from otel_agents.cli._common import (
    add_home,
    fmt_time,
    home_of,
    json_text,
    non_negative_int,
    open_store_db,
    positive_int,
    safe,
)
from otel_agents.cli._tables import Output, colour_errors
from otel_agents.store import _queries as queries
from otel_agents.store._figures import fmt_duration

EXAMPLE = """example:
  otel-agents tail                 # the last 10 spans, then new ones as they land (Ctrl-C stops)
  otel-agents tail -n 0 --json     # only new spans, one JSON object per line
  otel-agents tail -n 0 --max-spans 1 --exit-after 60   # wait up to a minute for the next span
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tail",
        help="follow new spans live",
        description="Print the newest spans, then follow new ones.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument(
        "-n", "--lines", type=non_negative_int, default=10, help="spans to show first (default 10)"
    )
    p.add_argument("--interval", type=float, default=0.5, help="poll interval in seconds")
    p.add_argument("--exit-after", type=float, default=None, metavar="SECONDS", help="stop after this long")
    p.add_argument(
        "--max-spans", type=positive_int, default=None, metavar="N", help="stop after printing N spans"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per span")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    last = queries.last_span_id(conn, back=args.lines)
    out = Output.detect(no_color=args.no_color)
    deadline = None if args.exit_after is None else time.monotonic() + args.exit_after
    printed = 0
    while True:
        rows = queries.spans_after(conn, last)
        for r in rows:
            print(_line(r, args.json) if args.json else colour_errors(_line(r, False), out), flush=True)
            last = r["id"]
            printed += 1
            if args.max_spans is not None and printed >= args.max_spans:
                return 0
        if deadline is not None and time.monotonic() >= deadline:
            return 0
        if len(rows) < 500:
            time.sleep(max(args.interval, 0.05))


def _line(r: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json_text(r, indent=False)
    status = {2: "ERROR"}.get(r["status_code"], "ok")
    extra = ""
    if r["input_tokens"] is not None or r["output_tokens"] is not None:
        extra += f"  tokens {r['input_tokens'] or 0}/{r['output_tokens'] or 0}"
    if r["status_code"] == 2:
        extra += "  " + queries.error_text(r["error_type"], r["status_message"])
    # One line per span, whatever its strings hold: escapes instead of newlines and control bytes.
    return safe(
        f"{fmt_time(r['start_ns'])}  {r['service'] or '?'}  {r['trace_id'][:16]}  "
        f"{r['name']}  {fmt_duration(r['duration_ns'])}  {status}{extra}"
    )
