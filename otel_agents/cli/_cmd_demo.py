"""``otel-agents demo``: record the bundled multi-agent workflow into the store and show it."""

from __future__ import annotations

import argparse
from typing import Any

from otel_agents.cli._common import add_home

EXAMPLE = """example:
  otel-agents demo
  otel-agents demo --home /tmp/otel-demo && otel-agents runs --home /tmp/otel-demo
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="record a sample multi-agent workflow (no network, no keys) and show it",
        description=(
            "Run a bundled support-triage workflow (a router, two agents, tools, simulated LLM"
            " calls with token usage, one failing tool) through the public API into the store."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from otel_agents.cli import _demo as demo

    return demo.main(args.home.expanduser() if args.home else None, no_color=args.no_color)
