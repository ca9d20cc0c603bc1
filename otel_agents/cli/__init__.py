"""The ``otel-agents`` command line: entry point and sub-command dispatch."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import NoReturn

from otel_agents.api._guard import STRICT_ENV
from otel_agents.api._version import __version__
from otel_agents.cli import _cmd_alerts as cmd_alerts
from otel_agents.cli import _cmd_backup as cmd_backup
from otel_agents.cli import _cmd_demo as cmd_demo
from otel_agents.cli import _cmd_doctor as cmd_doctor
from otel_agents.cli import _cmd_export as cmd_export
from otel_agents.cli import _cmd_graph, _cmd_ui
from otel_agents.cli import _cmd_metrics as cmd_metrics
from otel_agents.cli import _cmd_prune as cmd_prune
from otel_agents.cli import _cmd_replay as cmd_replay
from otel_agents.cli import _cmd_runs as cmd_runs
from otel_agents.cli import _cmd_stats as cmd_stats
from otel_agents.cli import _cmd_tail as cmd_tail
from otel_agents.cli import _cmd_trace as cmd_trace
from otel_agents.cli import _cmd_verify as cmd_verify
from otel_agents.cli._common import CliError, add_home

__all__ = ["main"]

_EXAMPLES = """examples:
  otel-agents demo                      # record a sample multi-agent workflow
  otel-agents runs --status error       # recent failed runs
  otel-agents trace 4bf92f35            # one trace as a tree (id prefix or run id)
  otel-agents stats --since 24h         # per agent, tool and model
  otel-agents graph                     # who routes to whom, with counts, errors, p95
  otel-agents ui                        # the same in a browser: http://127.0.0.1:8765/
"""


class _Parser(argparse.ArgumentParser):
    """Reports usage errors as one line (our error convention) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message} (try --help)", code=2)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, one sub-command per module."""
    parser = _Parser(
        prog="otel-agents",
        description="Inspect the local otel-agents telemetry store.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(parser, top_level=True)
    parser.add_argument("--version", action="version", version=f"otel-agents {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (
        cmd_demo,
        cmd_runs,
        cmd_trace,
        _cmd_graph,
        cmd_stats,
        cmd_tail,
        cmd_export,
        cmd_replay,
        cmd_doctor,
        cmd_prune,
        cmd_alerts,
        cmd_verify,
        cmd_metrics,
        _cmd_ui,
        cmd_backup,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        code: int = args.func(args)
    except CliError as exc:
        print(
            f"otel-agents: error: {exc}" if not str(exc).startswith("otel-agents") else str(exc),
            file=sys.stderr,
        )
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `otel-agents runs | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    except (OSError, sqlite3.Error) as exc:
        print(f"otel-agents: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        # A bug of ours: still one line for the user; tests (strict mode) want the traceback.
        if os.environ.get(STRICT_ENV) == "1":
            raise
        print(f"otel-agents: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return code
