"""``otel-agents backup DIR``: a consistent copy of the store (SQLite online backup + NDJSON files)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from otel_agents.cli._common import CliError, add_home, home_of
from otel_agents.store import _backup

EXAMPLE = """example:
  otel-agents backup /backups/otel-agents-2026-12-01
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backup",
        help="copy the store consistently into a new directory, while writers keep writing",
        description=(
            "Copy the store's database with SQLite's online backup API and its NDJSON files up to"
            " their last complete line. Point --home (or OTEL_AGENTS_HOME) at the copy to read it."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("target", help="directory to create the copy in (must not hold a store)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = _backup.backup(home_of(args), Path(args.target).expanduser())
    except (FileNotFoundError, FileExistsError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"backed up to {result.target}: database {result.database_bytes:,} bytes, "
        f"{result.ndjson_files} NDJSON files ({result.ndjson_bytes:,} bytes)"
    )
    return 0
