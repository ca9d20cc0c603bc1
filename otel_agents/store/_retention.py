"""Retention: delete data past the age limit, then the oldest data until under the size limit."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from otel_agents.store import _db as db
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths

RETENTION_DAYS_ENV: Final = "OTEL_AGENTS_RETENTION_DAYS"
MAX_MB_ENV: Final = "OTEL_AGENTS_STORE_MAX_MB"
DEFAULT_DAYS: Final = 14.0
DEFAULT_MAX_MB: Final = 2048.0
# Small chunks keep each write transaction short, so live writers never wait long for us.
CHUNK: Final = 5000
KEEP_RECENT_NS: Final = 10 * 60 * 10**9
_DAY_NS: Final = 86_400 * 10**9
# (table, time column) pairs pruned by age; runs and span_stats follow their spans.
_TIMED: Final = (
    ("spans", "start_ns"),
    ("runs", "start_ns"),
    ("events", "time_ns"),
    ("logs", "time_ns"),
    ("metric_points", "time_ns"),
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Policy:
    """Limits: drop data older than ``max_age_days``; keep the store under ``max_bytes``."""

    max_age_days: float | None = DEFAULT_DAYS
    max_bytes: int | None = int(DEFAULT_MAX_MB * 1024 * 1024)

    @classmethod
    def from_env(cls) -> Policy:
        """Limits from the environment (``OTEL_AGENTS_RETENTION_DAYS``, ``..._STORE_MAX_MB``)."""
        days = _env_float(RETENTION_DAYS_ENV, DEFAULT_DAYS)
        mb = _env_float(MAX_MB_ENV, DEFAULT_MAX_MB)
        return cls(days or None, int(mb * 1024 * 1024) or None)


def _env_float(name: str, default: float) -> float:
    try:
        return max(float(os.environ.get(name, default)), 0.0)
    except ValueError:
        return default


@dataclass
class PruneReport:
    """What a prune removed."""

    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    # Still above the size limit: what is left is recent (last 10 minutes or live line files).
    over_limit: bool = False


def store_bytes(conn: sqlite3.Connection, home: Path) -> int:
    """Bytes the store holds: live database pages plus line files."""
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    total = int((pages - free) * page_size)
    for f in ndjson.list_files(paths.ndjson_dir(home)):
        try:
            total += f.stat().st_size
        except OSError:
            continue
    return total


def prune(
    conn: sqlite3.Connection,
    home: Path,
    policy: Policy,
    progress: Progress | None = None,
    now_ns: int | None = None,
) -> PruneReport:
    """Apply ``policy`` to the store at ``home`` through ``conn``."""
    say = progress or (lambda _msg: None)
    now_ns = time.time_ns() if now_ns is None else now_ns
    report = PruneReport(bytes_before=store_bytes(conn, home))
    if policy.max_age_days is not None:
        cutoff = now_ns - int(policy.max_age_days * _DAY_NS)
        days = policy.max_age_days
        age = f"{days:g} days" if days >= 1 else f"{days * 24:g} hours"
        deleted = _delete_all_before(conn, cutoff, report)
        say(f"older than {age} (before {_local_time(cutoff)}): deleted {deleted}")
        cutoff_day = time.strftime("%Y%m%d", time.gmtime(cutoff / 1e9))
        for f in ndjson.list_files(paths.ndjson_dir(home)):
            parsed = ndjson.FileName.parse(f.name)
            if parsed is not None and parsed.day < cutoff_day:
                report.files += _unlink(f)
    if policy.max_bytes is not None:
        _prune_to_size(conn, home, policy.max_bytes, report=report, say=say, now_ns=now_ns)
    say("reclaiming free pages")
    db.retry(lambda: conn.execute("PRAGMA incremental_vacuum").fetchall())
    report.bytes_after = store_bytes(conn, home)
    report.over_limit = policy.max_bytes is not None and report.bytes_after > policy.max_bytes
    return report


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError:
        return 0


def _delete_before(conn: sqlite3.Connection, table: str, column: str, cutoff: int) -> int:
    """Delete ``table``'s rows older than ``cutoff`` in short transactions; how many went."""
    total = 0
    while True:
        with db.write_transaction(conn):
            cur = conn.execute(
                f"DELETE FROM {table} WHERE id IN"  # noqa: S608 - table and column are our constants
                f" (SELECT id FROM {table} WHERE {column} < ? LIMIT {CHUNK})",
                (cutoff,),
            )
        if cur.rowcount <= 0:
            return total
        total += cur.rowcount


def _delete_all_before(conn: sqlite3.Connection, cutoff: int, report: PruneReport) -> str:
    """Every timed table and the stats rollup before ``cutoff``; what went, for one progress line."""
    done = {}
    for table, column in _TIMED:
        n = _delete_before(conn, table, column, cutoff)
        if n:
            done[table] = n
            report.rows[table] = report.rows.get(table, 0) + n
    _delete_stats_before(conn, cutoff)
    return ", ".join(f"{n:,} {t}" for t, n in done.items()) or "nothing"


def _local_time(ns: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ns / 1e9))


def size_text(n: int) -> str:
    """Bytes in binary units (``2048 MiB``, ``12.5 GiB``, ``12 KiB``), as the CLI prints sizes."""
    # GiB only from 10 GiB on: the 2048 MiB default then reads as documented.
    for unit, size, start in (("GiB", 1024**3, 10 * 1024**3), ("MiB", 1024**2, 1024**2), ("KiB", 1024, 1024)):
        if n >= start:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


def _delete_stats_before(conn: sqlite3.Connection, cutoff: int) -> None:
    with db.write_transaction(conn):
        conn.execute("DELETE FROM span_stats WHERE hour < ?", (cutoff // (3600 * 10**9),))


def _prune_to_size(
    conn: sqlite3.Connection,
    home: Path,
    max_bytes: int,
    *,
    report: PruneReport,
    say: Progress,
    now_ns: int,
) -> None:
    # Raw line files go first: the database is what the CLI answers from.
    files = ndjson.list_files(paths.ndjson_dir(home))
    recent = now_ns - 120 * 10**9
    while store_bytes(conn, home) > max_bytes and files:
        f = files.pop(0)
        try:
            if f.stat().st_mtime_ns > recent:
                # A live writer may still be appending to it.
                continue
        except OSError:
            continue
        report.files += _unlink(f)
    # The newest data is never pruned for size: it is what someone is most likely looking at,
    # and live line files cannot go anyway.
    keep_from = now_ns - KEEP_RECENT_NS
    rounds = 0
    while store_bytes(conn, home) > max_bytes and rounds < 100:
        rounds += 1
        # One subquery per end: each reads the start_ns index's end, where one SELECT of both scans it.
        oldest = conn.execute(
            "SELECT (SELECT min(start_ns) FROM spans), (SELECT max(start_ns) FROM spans)"
        ).fetchone()
        if oldest[0] is None or oldest[0] >= keep_from:
            break
        # Drop the oldest tenth of the remaining time range, then measure again.
        cutoff = min(oldest[0] + max((oldest[1] - oldest[0]) // 10, 1), keep_from)
        size = size_text(store_bytes(conn, home))
        deleted = _delete_all_before(conn, cutoff, report)
        say(f"store {size} above {size_text(max_bytes)}: before {_local_time(cutoff)} deleted {deleted}")
