"""``otel-agents metrics``: list every stored metric, or summarise one over a window by its labels."""

from __future__ import annotations

import argparse
import time
from typing import Any

import orjson

from otel_agents.cli._common import CliError, add_home, fmt_time, home_of, open_store_db, parse_time
from otel_agents.cli._tables import table
from otel_agents.store import _metric_summary as summary
from otel_agents.store._figures import fmt_int

EXAMPLE = """example:
  otel-agents metrics                                   # every metric: type, unit, series, points
  otel-agents metrics business.answer_quality --since 1h --by service
  otel-agents metrics otel_agents.rate_limit.remaining --label otel_agents.rate_limit.platform=openai
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "metrics",
        help="list stored metrics, or summarise one: count, sum, min, max, mean, p50, p95, stddev",
        description=(
            "Without NAME: every metric in the store. With NAME: its statistics over --since/--until,"
            " filtered by --label KEY=VALUE and grouped by --by KEY (docs/metrics.md)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("name", nargs="?", help="an OTel metric name (e.g. process.memory.usage)")
    p.add_argument("--since", default="1h", help="from: 30m, 2h, 7d ago, or ISO 8601 (default 1h)")
    p.add_argument("--until", help="to (default now)")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="only these series")
    p.add_argument("--by", action="append", default=[], metavar="KEY", help="one summary per value of KEY")
    p.add_argument("--service", help="only points from this service.name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--label {pair!r}: expected KEY=VALUE", 2)
        out[key] = value
    return out


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}"


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    since = parse_time(args.since)
    until = parse_time(args.until) if args.until else time.time_ns()
    if args.name is None:
        rows = summary.list_metrics(conn)
        if args.json:
            print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
            return 0
        if not rows:
            print("no metrics recorded")
            return 0
        body = [
            [
                r["name"],
                r["type"],
                r["unit"] or "-",
                ",".join(s for s in r["services"] if s) or "-",
                fmt_int(r["series"]),
                fmt_int(r["points"]),
                fmt_time(r["last_ns"]),
            ]
            for r in rows
        ]
        print(
            table(
                ["NAME", "TYPE", "UNIT", "SERVICES", "SERIES", "POINTS", "LAST"],
                body,
                right=frozenset({4, 5}),
                no_color=args.no_color,
            )
        )
        return 0
    known = {r["name"] for r in summary.list_metrics(conn)}
    if args.name not in known:
        raise CliError(f"no metric named {args.name!r} in the store (run `otel-agents metrics` to list them)")
    results = summary.summarize(
        conn,
        args.name,
        since_ns=since,
        until_ns=until,
        labels=_labels(args.label),
        service=args.service,
        by=args.by,
    )
    if args.json:
        print(orjson.dumps([r.as_dict() for r in results], option=orjson.OPT_INDENT_2).decode())
        return 0
    if not results:
        print(f"no points of {args.name} match in that range")
        return 0
    headers = ["SERIES", "TYPE", "COUNT", "SUM", "MIN", "MAX", "MEAN", "P50", "P95", "STDDEV"]
    body = [
        [
            ",".join(f"{k}={v}" for k, v in r.labels.items()) or "all",
            r.type,
            _num(r.count),
            _num(r.sum),
            _num(r.min),
            _num(r.max),
            _num(r.mean),
            _num(r.p50),
            _num(r.p95),
            _num(r.stddev),
        ]
        for r in results
    ]
    print(table(headers, body, right=frozenset(range(2, 10)), no_color=args.no_color))
    print(f"({results[0].basis}; {fmt_time(since)} .. {fmt_time(until)})")
    return 0
