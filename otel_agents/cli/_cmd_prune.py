"""``otel-agents prune``: apply retention by age and by size now."""

from __future__ import annotations

import argparse
import re
from typing import Any

from otel_agents.cli._common import (
    CliError,
    add_home,
    fmt_bytes,
    home_of,
    open_store_db,
    parse_duration_s,
    progress,
)
from otel_agents.store import _retention as retention

EXAMPLE = """example:
  otel-agents prune --older-than 7d
  otel-agents prune --max-size 500MB
"""
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "prune",
        help="delete old data now (by age and/or by size)",
        description=(
            "Delete data older than --older-than, then the oldest data until the store is under"
            " --max-size. Without options: the limits from OTEL_AGENTS_RETENTION_DAYS and"
            " OTEL_AGENTS_STORE_MAX_MB (defaults 14 days, 2048 MiB). Sizes are binary:"
            " 1 MB = 1 MiB = 1024 KiB."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("--older-than", metavar="AGE", help="e.g. 30m, 12h, 7d, 2w")
    p.add_argument("--max-size", metavar="SIZE", help="e.g. 500MB, 2GB; 0 means no size limit")
    p.set_defaults(func=run)


def parse_size(text: str) -> int:
    """Bytes for ``500MB``, ``2G``, ``1024B``; ``0`` alone (no limit) is the one size without a unit."""
    m = _SIZE_RE.match(text)
    if m is None:
        raise CliError(f"cannot read size {text!r}: use e.g. 500MB or 2GB", code=2)
    if m[2] is None and float(m[1]) != 0:
        # `--max-size 10` meant as 10 MB would prune the whole store down to 10 bytes.
        raise CliError(f"size {text!r} needs a unit: e.g. {m[1]}MB, {m[1]}GB or {m[1]}B", code=2)
    unit = (m[2] or "").lower()[:1]
    return int(float(m[1]) * _SIZE_UNITS[unit])


def parse_age_days(text: str) -> float:
    """Days for ``30m``, ``12h``, ``7d``, ``2w`` (the durations ``--since`` takes everywhere)."""
    seconds = parse_duration_s(text)
    if seconds is None:
        raise CliError(f"cannot read age {text!r}: use e.g. 30m, 12h, 7d or 2w", code=2)
    return seconds / 86400


def run(args: argparse.Namespace) -> int:
    home = home_of(args)
    conn = open_store_db(home)
    if args.older_than is None and args.max_size is None:
        policy = retention.Policy.from_env()
    else:
        policy = retention.Policy(
            max_age_days=parse_age_days(args.older_than) if args.older_than else None,
            # 0, like OTEL_AGENTS_STORE_MAX_MB=0, means no size limit.
            max_bytes=(parse_size(args.max_size) or None) if args.max_size else None,
        )
    report = retention.prune(conn, home, policy, progress=progress)
    removed = ", ".join(f"{n} {t}" for t, n in sorted(report.rows.items())) or "no rows"
    print(
        f"pruned {removed}; {report.files} line file(s); store "
        f"{fmt_bytes(report.bytes_before)} -> {fmt_bytes(report.bytes_after)}"
    )
    if report.over_limit:
        print("still above --max-size: data from the last 10 minutes and files being written are kept")
    return 0
