"""``otel-agents verify``: check a deployment's health, metrics and performance against a baseline."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import orjson

from otel_agents.api._urls import masked
from otel_agents.cli._common import CliError, add_home, home_of
from otel_agents.cli._tables import table

EXAMPLE = """example:
  otel-agents verify --url http://127.0.0.1:8000 --expect-metric otel_agents.calls
  otel-agents verify --service support-bot --version 2.0 --baseline-version 1.9 --duration 1h
  otel-agents verify --prometheus http://127.0.0.1:9090 --version 2.0 --baseline prod.json
"""
EXIT_FAILED = 1
EXIT_UNREACHABLE = 3


def register(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="verify a deployment: /health, expected metrics, performance against a baseline",
        description=(
            "Checks a deployment for CI (docs/verify.md). Targets: --url (a service's /health and"
            " /metrics), --prometheus, or the local store (--store, the default for performance)."
            " Exit 0 when every check passes, 1 on a failed check or a regression, 3 when a target"
            " is unreachable."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument("--url", help="the service's base URL: checks GET /health and GET /metrics")
    p.add_argument("--prometheus", help="a Prometheus base URL: metrics and performance from it")
    p.add_argument("--store", action="store_true", help="metrics and performance from the local store")
    p.add_argument("--service", help="service.name to judge")
    p.add_argument("--version", help="service.version to judge (e.g. the canary's)")
    p.add_argument(
        "--expect-metric",
        action="append",
        default=[],
        metavar="NAME",
        help="an OTel metric name that must have series",
    )
    p.add_argument("--baseline-version", help="compare with this service.version (e.g. production's)")
    p.add_argument("--baseline", type=Path, help="compare with figures recorded in this JSON file")
    p.add_argument("--threshold", type=float, default=1.2, help="allowed ratio to the baseline (default 1.2)")
    p.add_argument("--duration", default="5m", help="the monitoring window (default 5m)")
    p.add_argument(
        "--monitor",
        action="store_true",
        help="first watch for --duration (health every --interval), then judge that window",
    )
    p.add_argument("--interval", default="10s", help="health re-check interval with --monitor (default 10s)")
    p.add_argument("--record", type=Path, help="write the measured figures here (a future --baseline)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per HTTP request (default 5)")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.add_argument("--junit", type=Path, help="also write a JUnit XML report here")
    p.set_defaults(func=run)


def _seconds(text: str, option: str) -> float:
    from otel_agents.alerts._rules import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}", 2) from None
    if value <= 0:
        raise CliError(f"{option}: must be longer than zero", 2)
    return value


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _validate(args: argparse.Namespace) -> None:
    if not math.isfinite(args.threshold) or args.threshold < 1:
        raise CliError("--threshold: expected a ratio of at least 1 (1.2 allows 20% worse)", 2)
    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise CliError(f"--timeout: expected a number of seconds above zero, got {args.timeout:g}", 2)
    for option, url in (("--url", args.url), ("--prometheus", args.prometheus)):
        if url is not None and (not url.startswith(("http://", "https://")) or not _host(url)):
            raise CliError(
                f"{option}: expected an http:// or https:// URL with a host, got {masked(url)!r}", 2
            )
    if args.baseline_version and args.baseline:
        raise CliError("give --baseline-version or --baseline, not both", 2)
    if args.url is None and args.prometheus is None:
        args.store = True
    if (
        args.url is not None
        and args.prometheus is None
        and not args.store
        and (args.baseline_version or args.baseline or args.record)
    ):
        raise CliError("performance needs --prometheus or --store (a service URL has no history)", 2)


def run(args: argparse.Namespace) -> int:
    from otel_agents.verify import TargetUnreachable, write_junit
    from otel_agents.verify._checks import table_rows

    _validate(args)
    try:
        checks = _gather(args)
    except TargetUnreachable as exc:
        raise CliError(str(exc), EXIT_UNREACHABLE) from None
    if args.junit is not None:
        write_junit(checks, args.junit)
    failed = [c for c in checks if c.failed]
    if args.json:
        print(orjson.dumps([c.as_dict() for c in checks], option=orjson.OPT_INDENT_2).decode())
    else:
        headers = ["CHECK", "TARGET", "RESULT", "VALUE", "BASELINE", "LIMIT", "DETAIL"]
        print(table(headers, table_rows(checks), no_color=args.no_color))
        print(
            f"{len(failed)} of {len(checks)} check(s) failed"
            if failed
            else f"all {len(checks)} check(s) passed"
        )
    return EXIT_FAILED if failed else 0


def _gather(args: argparse.Namespace) -> list[Any]:
    from otel_agents.verify import Check, PrometheusSource, ServiceSource, StoreSource, load_baseline
    from otel_agents.verify._checks import FAIL, PASS

    window = _seconds(args.duration, "--duration")
    interval = _seconds(args.interval, "--interval")
    baseline_file = None
    if args.baseline is not None:
        try:
            baseline_file = load_baseline(args.baseline)
        except ValueError as exc:
            raise CliError(str(exc), 2) from None
    checks: list[Any] = []
    service = ServiceSource(args.url, args.timeout) if args.url else None
    metric_sources: list[Any] = [service] if service is not None else []
    perf: Any = None
    if args.prometheus:
        perf = PrometheusSource(args.prometheus, args.timeout)
        metric_sources.append(perf)
    if args.store:
        store = StoreSource(home_of(args))
        metric_sources.append(store)
        perf = perf or store
    if service is not None:
        checks.append(_health(service))
        if args.monitor:
            deadline = time.monotonic() + window
            while not checks[-1].failed and time.monotonic() < deadline:
                time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
                checks[-1] = _health(service)
    elif args.monitor:
        time.sleep(window)
    for name in args.expect_metric:
        for source in metric_sources:
            found = source.has_metric(name, args.service)
            detail = "series present" if found else "no series"
            checks.append(Check(f"metric {name}", source.kind, PASS if found else FAIL, detail=detail))
    if perf is not None:
        checks.extend(_performance(args, perf, window, baseline_file))
    return checks


def _performance(args: argparse.Namespace, perf: Any, window: float, baseline_file: Any) -> list[Any]:
    from otel_agents.verify import compare

    now = time.time_ns()

    def figures(version: str | None) -> Any:
        if perf.kind == "store":
            return perf.figures(args.service, version, window, now)
        return perf.figures(args.service, version, window)

    current = figures(args.version)
    against = perf.kind
    baseline = baseline_file
    if args.baseline_version:
        baseline = figures(args.baseline_version)
        against = f"{perf.kind} v{args.baseline_version}"
    elif baseline_file is not None:
        against = str(args.baseline)
    label = perf.kind + (f" v{args.version}" if args.version else "")
    if args.record is not None:
        args.record.write_bytes(orjson.dumps(current.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    return list(compare(current, baseline, args.threshold, label, against))


def _health(service: Any) -> Any:
    from otel_agents.verify import Check
    from otel_agents.verify._checks import FAIL, PASS

    healthy, detail = service.health()
    return Check("health", "service", PASS if healthy else FAIL, detail=detail)
