"""``otel-agents export``: runs or spans of a time range as CSV or NDJSON."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import orjson

from otel_agents.cli._cmd_runs import RunFilterHelp, add_run_filters, run_filter
from otel_agents.cli._common import (
    CliError,
    add_home,
    home_of,
    iso_time,
    json_text,
    open_store_db,
    parse_time,
    progress,
    safe,
)
from otel_agents.store import _queries as queries
from otel_agents.store._paths import FILE_MODE

EXAMPLE = """example:
  otel-agents export runs --since 7d -o runs.csv
  otel-agents export spans --format ndjson --since 2h --until 1h > spans.ndjson
"""
_PROGRESS_EVERY = 50_000


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write runs or spans of a time range as CSV or NDJSON",
        description="Export runs or spans (CSV by default) to a file or stdout.",
        epilog=EXAMPLE,
        formatter_class=RunFilterHelp,
    )
    add_home(p)
    p.add_argument("what", choices=["runs", "spans"], help="what to export")
    p.add_argument("--format", choices=["csv", "ndjson"], default="csv", help="default csv")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    add_run_filters(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    conn = open_store_db(home_of(args))
    if args.what == "runs":
        rows: Iterator[dict[str, Any]] = queries.iter_runs(conn, run_filter(args))
        total = None
    else:
        if any((args.name, args.status, args.run_id, args.session, args.user)):
            raise CliError("export spans takes only --since/--until", code=2)
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
        total = queries.count_spans(conn, since, until)
        rows = queries.iter_spans(conn, since, until)
    if args.output:
        try:
            # As private as the store it comes from (a new file: readable by its owner only).
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with open(fd, "w", newline="", encoding="utf-8") as out:
                n = _write(rows, out, args.format, total)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror}") from None
        progress(f"wrote {n} {args.what} to {args.output}")
    else:
        _write(rows, sys.stdout, args.format, total)
    return 0


def _cell(value: object) -> object:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def _write(rows: Iterator[dict[str, Any]], out: IO[str], fmt: str, total: int | None) -> int:
    writer: Any = None
    n = 0
    # CSV keeps the stored bytes, except on a terminal, where control characters are shown escaped.
    clean: Any = (lambda v: safe(v) if isinstance(v, str) else v) if out.isatty() else (lambda v: v)
    for row in rows:
        for key in ("start_ns", "end_ns"):
            if key in row:
                row[key.replace("_ns", "_time")] = iso_time(row[key])
        if fmt == "ndjson":
            out.write(json_text(row, indent=False) + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({k: clean(_cell(v)) for k, v in row.items()})
        n += 1
        if n % _PROGRESS_EVERY == 0:
            progress(f"  {n}" + (f"/{total}" if total else "") + " rows")
    return n
