"""The ``otel-agents`` command line: entry point and sub-command dispatch."""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import NoReturn

from otel_agents.api._version import __version__
from otel_agents.cli._common import CliError, add_home

__all__ = ["main"]

# In --help order; each is otel_agents.cli._cmd_<name>, imported only when its command is built.
COMMANDS = (
    "demo",
    "runs",
    "trace",
    "graph",
    "stats",
    "tail",
    "export",
    "replay",
    "doctor",
    "prune",
    "alerts",
    "verify",
    "metrics",
    "ui",
    "backup",
)

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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser, one sub-command per module: only the named command's module when ``argv``
    names one (a command starts without importing the other fourteen), else all of them."""
    parser = _Parser(
        prog="otel-agents",
        description="Inspect the local otel-agents telemetry store.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(parser, top_level=True)
    parser.add_argument("--version", action="version", version=f"otel-agents {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = _command_in(argv)
    # `--version` before any command or help prints and exits before a command is parsed.
    wanted = () if named is None and _version_first(argv) else COMMANDS
    for name in (named,) if named is not None else wanted:
        importlib.import_module(f"otel_agents.cli._cmd_{name}").register(sub)
    return parser


def _version_first(argv: Sequence[str] | None) -> bool:
    """True when ``--version`` comes before any help option or positional argument in ``argv``."""
    skip = False
    for arg in argv or ():
        if skip:
            skip = False
        elif arg == "--home":
            skip = True
        elif arg == "--version":
            return True
        elif arg in ("-h", "--help") or not arg.startswith("-"):
            return False
    return False


def _command_in(argv: Sequence[str] | None) -> str | None:
    """The command ``argv`` names, skipping the top-level options; None when there is none."""
    if argv is None:
        return None
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--home":
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser(sys.argv[1:] if argv is None else argv)
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
        # Imported here: the guard brings `logging`, which no command needs to start.
        from otel_agents.api._guard import STRICT_ENV

        if os.environ.get(STRICT_ENV) == "1":
            raise
        print(f"otel-agents: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return code
