"""``otel-agents prune``: apply retention by age and by size now."""

from __future__ import annotations

import argparse
import re
from typing import Any

from otel_agents.cli._common import CliError, add_home, home_of, open_store_db, progress
from otel_agents.store import _retention as retention

EXAMPLE = """example:
  otel-agents prune --older-than 7d
  otel-agents prune --max-size 500MB
"""
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_AGE_DAYS = {"h": 1 / 24, "d": 1.0, "w": 7.0}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "prune",
        help="delete old data now (by age and/or by size)",
        description=(
            "Delete data older than --older-than, then the oldest data until the store is under"
            " --max-size. Without options: the limits from OTEL_AGENTS_RETENTION_DAYS and"
            " OTEL_AGENTS_STORE_MAX_MB (defaults 14 days, 2048 MB)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("--older-than", metavar="AGE", help="e.g. 12h, 7d, 2w")
    p.add_argument("--max-size", metavar="SIZE", help="e.g. 500MB, 2GB")
    p.set_defaults(func=run)


def parse_size(text: str) -> int:
    """Bytes for ``500MB``, ``2G``, ``1024``."""
    m = _SIZE_RE.match(text)
    if m is None:
        raise CliError(f"cannot read size {text!r}: use e.g. 500MB or 2GB", code=2)
    unit = (m[2] or "").lower()[:1]
    return int(float(m[1]) * _SIZE_UNITS[unit])


def parse_age_days(text: str) -> float:
    """Days for ``12h``, ``7d``, ``2w``."""
    m = _AGE_RE.match(text)
    if m is None:
        raise CliError(f"cannot read age {text!r}: use e.g. 12h, 7d or 2w", code=2)
    return float(m[1]) * _AGE_DAYS[m[2]]


def run(args: argparse.Namespace) -> int:
    home = home_of(args)
    conn = open_store_db(home)
    if args.older_than is None and args.max_size is None:
        policy = retention.Policy.from_env()
    else:
        policy = retention.Policy(
            max_age_days=parse_age_days(args.older_than) if args.older_than else None,
            max_bytes=parse_size(args.max_size) if args.max_size else None,
        )
    report = retention.prune(conn, home, policy, progress=progress)
    removed = ", ".join(f"{n} {t}" for t, n in sorted(report.rows.items())) or "no rows"
    print(
        f"pruned {removed}; {report.files} line file(s); store "
        f"{report.bytes_before / 1e6:.1f} MB -> {report.bytes_after / 1e6:.1f} MB"
    )
    if report.over_limit:
        print("still above --max-size: data from the last 10 minutes and files being written are kept")
    return 0
