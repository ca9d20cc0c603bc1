"""What every CLI command shares: the error type, opening the store, parsing times, formatting."""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

from otel_agents.store import _db as db
from otel_agents.store import _paths as paths
from otel_agents.store import _schema as schema

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Patterns, compiled (and cached by `re`) at first use: compiling both costs a command ~1 ms to start.
_DURATION: Final = r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$"


# Stored strings come from applications and their users: printed raw, an ESC, CR or C1 byte in a span
# name could retitle the terminal, move the cursor or forge lines. Every one is shown as an escape;
# so are the bidi overrides and line separators that reorder or break what a reader sees.
_INVISIBLE: Final = (
    *range(0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0xFEFF,
)
_ESCAPES: Final = str.maketrans(
    {
        **{c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _INVISIBLE},
        0x09: "\\t",
        0x0A: "\\n",
        0x0D: "\\r",
    }
)
_JSON_UNSAFE: Final = "[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"


def safe(value: object) -> str:
    """``value`` as one line of plain text: control and bidi characters become visible escapes."""
    return str(value).translate(_ESCAPES)


def json_text(data: object, *, indent: bool = True) -> str:
    """JSON for stdout; C1, bidi and separator characters escaped as ``\\uXXXX`` (the same data).

    orjson already escapes C0 controls; the rest would reach a terminal raw.
    """
    import orjson  # here: `runs` as a table starts without it

    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 if indent else 0).decode()
    return re.sub(_JSON_UNSAFE, lambda m: f"\\u{ord(m[0]):04x}", text)


class CliError(Exception):
    """A problem to report as one line on stderr with a non-zero exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def home_of(args: argparse.Namespace) -> Path:
    """The store home: ``--home``, else ``$OTEL_AGENTS_HOME``, else ``~/.otel-agents``."""
    home: Path | None = getattr(args, "home", None)
    return home.expanduser() if home is not None else paths.default_home()


def open_store_db(home: Path) -> sqlite3.Connection:
    """A connection to an existing store, migrated to the current schema; CliError if absent."""
    path = paths.db_path(home)
    if not path.exists():
        raise CliError(
            f"no store at {home} (run `otel-agents demo`, or point --home / OTEL_AGENTS_HOME at one)"
        )
    try:
        conn = db.connect(path)
        schema.migrate(conn)
    except schema.SchemaTooNew as exc:
        raise CliError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise CliError(f"cannot open the store database {path}: {exc}") from None
    return conn


def parse_duration_s(text: str) -> float | None:
    """Seconds for ``90s``, ``30m``, ``2h``, ``7d``, ``2w``; None if ``text`` is not such a duration."""
    m = re.match(_DURATION, text)
    return None if m is None else float(m[1]) * _UNITS[m[2]]


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def parse_time(text: str, *, now: float | None = None) -> int:
    """Nanoseconds since the epoch for ``30m``/``2h``/``7d`` (ago), ``now``, or an ISO 8601 time."""
    now = time.time() if now is None else now
    text = text.strip()
    if text == "now":
        return int(now * 1e9)
    ago = parse_duration_s(text)
    if ago is not None:
        return int((now - ago) * 1e9)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"cannot read time {text!r}: use e.g. 30m, 2h, 7d, now or 2026-01-31T12:00:00Z", code=2
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return int(parsed.timestamp() * 1e9)


def fmt_time(ns: int | None) -> str:
    """Local wall time of ``ns`` as ``YYYY-mm-dd HH:MM:SS``."""
    if not ns:
        return "-"
    return datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def iso_time(ns: int | None) -> str:
    """UTC ISO 8601 time of ``ns`` with milliseconds."""
    if not ns:
        return ""
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="milliseconds")


def fmt_bytes(n: int | None) -> str:
    """Bytes in binary units, as every size the CLI reads or prints (``2048 MiB``, ``1.5 GiB``)."""
    # Imported here: retention (and the line-file module under it) is a tenth of `runs`' start-up.
    from otel_agents.store._retention import size_text

    return "unlimited" if n is None else size_text(n)


def progress(message: str) -> None:
    """Progress for long operations goes to stderr, so stdout stays clean for pipes."""
    print(message, file=sys.stderr, flush=True)


def add_home(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """The ``--home`` and ``--no-color`` options, accepted before or after the command name."""
    parser.add_argument(
        "--home",
        type=Path,
        # A sub-command's default would overwrite a --home given before the command name.
        default=None if top_level else argparse.SUPPRESS,
        help="store directory (default: $OTEL_AGENTS_HOME, else ~/.otel-agents)",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="no colour in tables (also: NO_COLOR=1; colour is only used on a terminal)",
    )
