"""``otel-agents doctor``: effective configuration, where data goes, store health, drops, endpoint."""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

from otel_agents.api._counters import OVER_LIMIT
from otel_agents.api._urls import masked
from otel_agents.api._version import __version__
from otel_agents.cli._common import add_home, fmt_bytes, fmt_time, home_of, json_text, progress, safe
from otel_agents.cli._endpoint import configured_traces_endpoint, reachable, traces_url
from otel_agents.store import _db as db
from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries
from otel_agents.store import _retention as retention
from otel_agents.store import _schema as schema

EXAMPLE = """example:
  otel-agents doctor
  otel-agents doctor --endpoint http://localhost:4318 --full --json
"""
_SECRET_HINTS = ("HEADERS", "KEY", "TOKEN", "SECRET", "PASSWORD")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="check configuration, store health, dropped records and endpoint reachability",
        description="Report the effective configuration and check the store; exit 1 on problems.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("--endpoint", help="OTLP endpoint to check (default: from the environment)")
    p.add_argument(
        "--full",
        action="store_true",
        help="also check every database page and read every line file for torn lines (slow on big stores)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def _sdk_version() -> str:
    # The SDK's own version module: importlib.metadata alone costs ~20 ms of doctor's start-up.
    try:
        from opentelemetry.sdk.version import __version__ as sdk_version
    except ImportError:
        return "not installed"
    return str(sdk_version)


def _env() -> dict[str, str]:
    out = {}
    for key in sorted(os.environ):
        if key.startswith("OTEL_"):
            value = os.environ[key]
            out[key] = "<set, hidden>" if any(h in key for h in _SECRET_HINTS) else masked(value)
    return out


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """The doctor report as data; ``problems`` lists what needs attention."""
    home = home_of(args)
    problems: list[str] = []
    endpoint = traces_url(args.endpoint) if args.endpoint else configured_traces_endpoint()
    report: dict[str, Any] = {
        "versions": {
            "otel-agents": __version__,
            "opentelemetry-sdk": _sdk_version(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
        },
        "home": str(home),
        "home_from": "--home"
        if args.home
        else (paths.HOME_ENV if os.environ.get(paths.HOME_ENV) else "default"),
        "environment": _env(),
        "destination": (
            "disabled (OTEL_SDK_DISABLED)"
            if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true"
            else (
                f"OTLP endpoint {masked(endpoint)}"
                if endpoint and configured_traces_endpoint()
                else f"local store {home}"
            )
        ),
        "retention": retention.Policy.from_env().__dict__,
    }
    report["store"] = _store_health(home, args.full, problems)
    if endpoint:
        ok, why = reachable(endpoint)
        report["endpoint"] = {"url": masked(endpoint), "reachable": ok, "detail": why}
        if not ok:
            problems.append(f"endpoint {masked(endpoint)} unreachable ({why})")
    report["problems"] = problems
    return report


def _store_health(home: Path, full: bool, problems: list[str]) -> dict[str, Any]:
    path = paths.db_path(home)
    if not path.exists():
        return {"exists": False}
    health: dict[str, Any] = {"exists": True, "database": str(path)}
    wal = Path(str(path) + "-wal")
    health["database_bytes"] = path.stat().st_size
    health["wal_bytes"] = wal.stat().st_size if wal.exists() else 0
    try:
        conn = db.connect(path)
        version = schema.version(conn)
        health["schema"] = {"version": version, "latest": schema.LATEST}
        if version < schema.LATEST:
            schema.migrate(conn)
        health["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if full:
            # Reads every page (~170 ms per 100k spans): only on request, so plain doctor stays fast.
            check = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            health["quick_check"] = "ok" if check == ["ok"] else check[:5]
            if check != ["ok"]:
                problems.append(f"database check failed: {check[:3]}")
        else:
            health["quick_check"] = "skipped (--full)"
        health["rows"] = queries.table_counts(conn)
        # Both ends from the start_ns index, one subquery each: SQLite reads a lone min() or max()
        # off the index's end, but `SELECT min(x), max(x)` scans all of it (~170 ms per 1M spans).
        first, last = conn.execute(
            "SELECT (SELECT min(start_ns) FROM spans), (SELECT max(start_ns) FROM spans)"
        ).fetchone()
        health["spans_from"], health["spans_to"] = fmt_time(first), fmt_time(last)
        health["counters"] = queries.counters(conn)
        dropped = [c for c in health["counters"] if c["kind"] == "drop"]
        parts = sum(c["count"] for c in dropped if str(c["reason"]).endswith(OVER_LIMIT))
        drops = sum(c["count"] for c in dropped) - parts
        if drops:
            problems.append(f"{drops} record(s) dropped (see counters)")
        if parts:
            problems.append(f"{parts} attribute(s), event(s) or link(s) over the span limits (see counters)")
        health["bytes"] = retention.store_bytes(conn, home)
    except (sqlite3.Error, schema.SchemaTooNew) as exc:
        problems.append(f"cannot read the store database: {exc}")
        return health
    files = ndjson.list_files(paths.ndjson_dir(home))
    health["line_files"] = len(files)
    health["line_bytes"] = sum(f.stat().st_size for f in files if f.exists())
    torn = [f.name for f in files if ndjson.tail_is_torn(f)]
    if full:
        rep = ndjson.ReadReport()
        for i, f in enumerate(files, 1):
            progress(f"  reading {f.name} ({i}/{len(files)})")
            for _ in ndjson.read_file(f, rep):
                pass
        health["line_records"] = rep.records
        health["torn_lines"] = rep.torn
        health["torn_at"] = rep.torn_at[:20]
    else:
        health["torn_lines"] = len(torn)
        health["torn_at"] = torn[:20]
    if health["torn_lines"]:
        # Expected after a crash: readers skip these lines; only worth knowing about.
        health["torn_note"] = "torn lines come from writers killed mid-write; readers skip them"
    return health


def run(args: argparse.Namespace) -> int:
    report = collect(args)
    if args.json:
        print(json_text(report))
        return 1 if report["problems"] else 0
    v = report["versions"]
    print(
        f"otel-agents {v['otel-agents']} · OTel SDK {v['opentelemetry-sdk']} · "
        f"Python {v['python']} · SQLite {v['sqlite']}"
    )
    print(f"home:        {report['home']} (from {report['home_from']})")
    print(f"data goes to: {report['destination']}")
    r = report["retention"]
    days = f"{r['max_age_days']:g} days" if r["max_age_days"] else "no age limit"
    print(f"retention:   {days}, {fmt_bytes(r['max_bytes'])} max")
    env = report["environment"]
    print(
        "environment: "
        + (", ".join(safe(f"{k}={val}") for k, val in env.items()) if env else "no OTEL_* variables set")
    )
    st = report["store"]
    if not st["exists"]:
        print(f"store:       none yet at {report['home']} (created on first write)")
    elif "rows" in st:
        rows = st["rows"]
        print(
            f"store:       schema v{st['schema']['version']}/{st['schema']['latest']}, {st['journal_mode']}, "
            f"check {st['quick_check']}, {fmt_bytes(st['bytes'])} used"
        )
        print(
            f"             {rows['spans']:,} spans, {rows['runs']:,} runs, {rows['logs']:,} logs, "
            f"{rows['metric_points']:,} metric points ({st['spans_from']} .. {st['spans_to']})"
        )
        print(
            f"             {st['line_files']} OTLP/JSON line file(s), {fmt_bytes(st['line_bytes'])}, "
            f"torn lines: {st['torn_lines']}"
        )
        counters = st["counters"]
        if counters:
            for c in counters:
                print(f"  {c['kind']:5} {c['reason']}: {c['count']:,} (last {fmt_time(c['updated_ns'])})")
        else:
            print("dropped:     none recorded")
    if "endpoint" in report:
        e = report["endpoint"]
        print(f"endpoint:    {e['url']}: {'reachable' if e['reachable'] else 'UNREACHABLE'} ({e['detail']})")
    if report["problems"]:
        print(f"problems ({len(report['problems'])}):")
        for p in report["problems"]:
            print(f"  - {p}")
        return 1
    print("no problems found")
    return 0
