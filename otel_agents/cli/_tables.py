"""The CLI's tables: fitted to the terminal width, coloured with rich, stored strings as plain text."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Final, Literal, NamedTuple

from otel_agents.cli._common import safe

GAP: Final = 2
# Piped without COLUMNS: no width to fit, the table is as wide as its content.
_UNBOUNDED: Final = 100_000
ERROR_STYLE: Final = "bold red"
_STATUS_STYLES: Final = {"error": ERROR_STYLE, "ok": "green"}

Style = Callable[[str], "str | None"]


def status_style(value: str) -> str | None:
    """ERROR (any case) in bold red, ok in green."""
    return _STATUS_STYLES.get(value.lower())


def error_style(value: str) -> str | None:
    """Any non-empty error cell in red."""
    return "red" if value and value != "-" else None


# NamedTuples, not dataclasses: `dataclasses` imports `inspect`, a tenth of `otel-agents runs`' start-up.
class Column(NamedTuple):
    """One table column: how it aligns, shrinks, and when it is left out of a narrow terminal."""

    header: str
    right: bool = False
    # Cut (with an ellipsis) down to this width at no real loss, before any column is left out.
    trim: int | None = None
    # Cut down to this width only when leaving columns out was not enough.
    min_width: int | None = None
    # How a cut cell ends: "ellipsis" (…) or "crop" (for ids, which stay usable as prefixes).
    cut: Literal["ellipsis", "crop"] = "ellipsis"
    # Left out, highest first, when shrinking is not enough; 0 = always shown.
    drop: int = 0
    style: Style | None = None


class Output(NamedTuple):
    """Where tables go: whether to colour, and the width to fit (None: no limit)."""

    colour: bool
    width: int | None

    @classmethod
    def detect(cls, *, no_color: bool = False) -> Output:
        """Colour on a terminal unless ``--no-color``/``NO_COLOR``/``TERM=dumb``; ``FORCE_COLOR`` forces it.

        Width: ``COLUMNS`` if set, else the terminal's, else none (a pipe gets whole lines).
        """
        tty = sys.stdout.isatty()
        colour = not no_color and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        colour = colour and (tty or bool(os.environ.get("FORCE_COLOR")))
        width: int | None = None
        columns = os.environ.get("COLUMNS", "").strip()
        if columns.isdigit() and int(columns) > 0:
            width = int(columns)
        elif tty:
            try:
                width = os.get_terminal_size(sys.stdout.fileno()).columns
            except OSError:
                width = None
        return cls(colour=colour, width=width)


def _fit(
    columns: list[Column], cells: list[list[str]], compact: dict[int, list[str]], width: int | None
) -> tuple[list[int], list[int], list[list[str]]]:
    """Which columns to show, at which widths, and the cells to show in them.

    Too wide: compact cells first, then trim the columns that lose little (``trim``), then leave
    out columns (highest ``drop`` first), and only then cut the others down to ``min_width``.
    """
    keep = list(range(len(columns)))
    limit = _UNBOUNDED if width is None else width

    def natural(rows: list[list[str]]) -> list[int]:
        return [max([len(columns[i].header), *(len(r[i]) for r in rows)]) for i in range(len(columns))]

    def need() -> int:
        return sum(widths[i] for i in keep) + GAP * (len(keep) - 1)

    def shrink(floor: Callable[[int], int | None]) -> None:
        excess = need() - limit
        while excess > 0:
            room = {i: widths[i] - f for i in keep if (f := floor(i)) is not None and widths[i] > f}
            if not room:
                return
            widest = max(room, key=lambda i: room[i])
            widths[widest] -= 1
            excess -= 1

    widths = natural(cells)
    if need() > limit and compact:
        cells = [[compact[i][n] if i in compact else c for i, c in enumerate(r)] for n, r in enumerate(cells)]
        widths = natural(cells)
    shrink(lambda i: columns[i].trim)
    while need() > limit and any(columns[i].drop for i in keep):
        keep.remove(max((i for i in keep if columns[i].drop), key=lambda i: columns[i].drop))
    shrink(lambda i: _floor(columns[i]))
    return keep, widths, cells


def _floor(column: Column) -> int | None:
    return None if column.min_width is None else max(column.min_width, len(column.header))


def render(
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    out: Output,
    *,
    compact: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The table as text: headers, a rule, one line per row; ``compact`` cells replace a column's
    when the full ones do not fit."""
    cols = list(columns)
    cells = [[safe(c) for c in r] for r in rows]
    index = {c.header: i for i, c in enumerate(cols)}
    alt = {index[h]: [safe(v) for v in values] for h, values in (compact or {}).items()}
    keep, widths, cells = _fit(cols, cells, alt, out.width)
    shown = sum(widths[i] for i in keep) + GAP * (len(keep) - 1)
    paint = _painter(out)

    def line(values: Sequence[str], styles: Sequence[str | None]) -> str:
        parts: list[tuple[str, str, str | None, bool]] = []
        for n, i in enumerate(keep):
            c, w = cols[i], widths[i]
            text = values[n]
            if len(text) > w:
                text = text[:w] if c.cut == "crop" else text[: w - 1] + "…"
            parts.append((text, " " * (w - len(text)), styles[n], c.right))
        return _join(parts, paint, out.width)

    lines = [line([cols[i].header for i in keep], ["bold"] * len(keep))]
    lines.append(paint("─" * (shown if out.width is None else min(shown, out.width)), "dim"))
    for r in cells:
        lines.append(line([r[i] for i in keep], [_style(cols[i], r[i]) for i in keep]))
    return "\n".join(lines)


def _join(
    parts: Sequence[tuple[str, str, str | None, bool]],
    paint: Callable[[str, str | None], str],
    width: int | None,
) -> str:
    """One table line from (text, padding, style, right-aligned) cells, painted; a line wider than
    ``width`` (narrower than the fewest columns at their minimum widths) is cut, never wrapped,
    counting only the visible text, so colour codes never make it wrap either."""
    plain = (" " * GAP).join(pad + t if right else t + pad for t, pad, _, right in parts).rstrip()
    cut = width is not None and len(plain) > width
    room = (width or 0) - 1
    out: list[str] = []
    used = 0
    for n, (text, pad, style, right) in enumerate(parts):
        pieces = [
            (" " * GAP if n else "", None),
            *([(pad, None), (text, style)] if right else [(text, style), (pad, None)]),
        ]
        for piece, piece_style in pieces:
            if cut and used + len(piece) > room:
                out.append(paint(piece[: room - used], piece_style) + "…")
                return "".join(out)
            out.append(paint(piece, piece_style) if piece_style else piece)
            used += len(piece)
    return "".join(out).rstrip()


def _painter(out: Output) -> Callable[[str, str | None], str]:
    """Text wrapped in the ANSI codes of a rich style (standard colours), or as it is without colour."""
    if not out.colour:
        return lambda text, style: text
    # rich.style alone: the style grammar and its ANSI rendering, without the console machinery.
    from rich.color import ColorSystem
    from rich.style import Style

    cache: dict[str, Style] = {}

    def paint(text: str, style: str | None) -> str:
        if not style or not text:
            return text
        parsed = cache.get(style)
        if parsed is None:
            parsed = cache[style] = Style.parse(style)
        return parsed.render(text, color_system=ColorSystem.STANDARD)

    return paint


def _style(column: Column, cell: str) -> str | None:
    return None if column.style is None else column.style(cell)


def colour_errors(text: str, out: Output) -> str:
    """``text`` with its ERROR words and ``error`` detail lines in red (plain without colour)."""
    if not out.colour:
        return text
    red, bold_red, reset = "\x1b[31m", "\x1b[1;31m", "\x1b[0m"
    return "\n".join(
        f"{red}{line}{reset}" if "↳ error " in line else line.replace(" ERROR ", f" {bold_red}ERROR{reset} ")
        for line in text.split("\n")
    )


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    right: frozenset[int] = frozenset(),
    *,
    no_color: bool = False,
) -> str:
    """A fitted table of plain columns (those in ``right`` right-aligned), for commands without specs."""
    columns = [Column(header, right=i in right) for i, header in enumerate(headers)]
    return render(columns, rows, Output.detect(no_color=no_color))
