"""``otel-agents alerts``: check, watch, list and export alert rules over the local store."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from otel_agents.cli._common import CliError, add_home, fmt_time, home_of, positive_int
from otel_agents.cli._tables import table

EXAMPLE = """example:
  otel-agents alerts check rules.yml            # once: exit 0 quiet, 1 firing, 2 bad file, 3 unknown metric
  otel-agents alerts watch rules.yml --interval 30s
  otel-agents alerts list --history
  otel-agents alerts export rules.yml --prometheus -o alerts.yml
"""
EXIT_FIRING = 1
EXIT_BAD_RULES = 2
EXIT_UNKNOWN = 3


def register(sub: Any) -> None:
    p = sub.add_parser(
        "alerts",
        help="evaluate alert rules over the store, list alert state, export Prometheus rules",
        description="Alert rules (docs/alerts.md): a local engine over the store and a Prometheus export.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    asub = p.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)

    check = asub.add_parser("check", help="evaluate once; exit 1 when an alert fires")
    _rule_args(check)
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=run_check)

    watch = asub.add_parser("watch", help="evaluate every --interval until stopped (SIGINT/SIGTERM)")
    _rule_args(watch)
    watch.add_argument("--interval", default="30s", help="time between evaluations (default 30s)")
    watch.add_argument("--count", type=positive_int, help="stop after this many evaluations")
    watch.add_argument("--duration", help="stop after this long (e.g. 1h)")
    watch.set_defaults(func=run_watch)

    lst = asub.add_parser("list", help="current alert states, and with --history the changes")
    add_home(lst)
    lst.add_argument("--history", action="store_true", help="also show the latest state changes")
    lst.add_argument("--limit", type=int, default=50, help="history entries to show (default 50)")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)

    export = asub.add_parser("export", help="write the rules as Prometheus alerting rules")
    add_home(export)
    export.add_argument("rules", type=Path, help="the rule file (YAML)")
    export.add_argument("--prometheus", action="store_true", required=True, help="Prometheus rule format")
    export.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    export.add_argument("--group", default="otel-agents", help="rule group name (default otel-agents)")
    export.set_defaults(func=run_export)


def _rule_args(p: argparse.ArgumentParser) -> None:
    add_home(p)
    p.add_argument("rules", type=Path, help="the rule file (YAML)")
    p.add_argument(
        "--notify-timeout",
        default="30s",
        help="how long to wait for queued notifications before exiting (default 30s)",
    )


def _load(path: Path) -> Any:
    from otel_agents.alerts import RuleError, load_rules

    try:
        return load_rules(path)
    except RuleError as exc:
        raise CliError(str(exc), EXIT_BAD_RULES) from None


def _seconds(text: str, option: str) -> float:
    from otel_agents.alerts._rules import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}", 2) from None


@contextlib.contextmanager
def _engine(args: argparse.Namespace) -> Iterator[Any]:
    """The engine, with a telemetry pipeline so state changes are logged like any other log."""
    import otel_agents as oa
    from otel_agents.alerts import Engine
    from otel_agents.sdk._configure import current

    rules = _load(args.rules)
    home = home_of(args)
    wait = _seconds(args.notify_timeout, "--notify-timeout")
    telemetry = None
    if current() is None:
        telemetry = oa.configure(
            service_name="otel-agents-alerts", home=home, logs=False, metric_export_interval=3600
        )
    try:
        engine = Engine(rules, home)
    except ValueError as exc:  # a python notifier that does not import
        raise CliError(f"{args.rules}: {exc}", EXIT_BAD_RULES) from None
    try:
        yield engine
    finally:
        # Waits up to --notify-timeout; what is still undelivered then is counted before the store closes.
        engine.dispatcher.close(wait)
        engine.close()
        if telemetry is not None:
            telemetry.shutdown()


def _rows(report: Any) -> list[list[str]]:
    rows = []
    for result in report.results:
        rule = result.rule
        if not result.alerts:
            state = "no data" if result.evaluation.missing else "ok"
            rows.append([rule.name, state, rule.severity, "-", "-", rule.threshold.describe()])
        for alert in result.alerts:
            labels = ",".join(
                f"{k}={v}" for k, v in alert.labels.items() if k not in ("alertname", "severity")
            )
            value = "-" if alert.value is None else f"{alert.value:.4g}"
            rows.append(
                [rule.name, alert.state, rule.severity, labels or "-", value, rule.threshold.describe()]
            )
    return rows


def _series(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items() if k not in ("alertname", "severity")) or "-"


def _report_json(report: Any) -> list[dict[str, Any]]:
    return [
        {
            "rule": r.rule.name,
            "severity": r.rule.severity,
            "threshold": r.rule.threshold.describe(),
            "missing": r.evaluation.missing,
            "samples": [{"labels": dict(s.labels), "value": s.value} for s in r.evaluation.samples],
            "alerts": [
                {"state": a.state, "labels": a.labels, "value": a.value, "fingerprint": a.fingerprint}
                for a in r.alerts
            ],
            "changes": [{"fingerprint": fp, "from": a, "to": b} for fp, a, b in r.changes],
        }
        for r in report.results
    ]


def _exit_code(report: Any) -> int:
    for rule, why in report.missing:
        print(f"otel-agents: warning: rule {rule!r}: {why}", file=sys.stderr)
    if report.firing:
        return EXIT_FIRING
    return EXIT_UNKNOWN if report.missing else 0


def run_check(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        report = engine.evaluate()
        if args.json:
            print(orjson.dumps(_report_json(report), option=orjson.OPT_INDENT_2).decode())
        else:
            headers = ["RULE", "STATE", "SEVERITY", "SERIES", "VALUE", "THRESHOLD"]
            print(table(headers, _rows(report), no_color=args.no_color))
        return _exit_code(report)


def run_watch(args: argparse.Namespace) -> int:
    interval = _seconds(args.interval, "--interval")
    if interval <= 0:
        raise CliError("--interval: must be longer than zero", 2)
    limit = _seconds(args.duration, "--duration") if args.duration else None
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    rounds = 0
    try:
        with _engine(args) as engine:
            while not stop.is_set():
                report = engine.evaluate()
                rounds += 1
                for result in report.results:
                    for fp, old, new in result.changes:
                        print(f"{fmt_time(time.time_ns())}  {result.rule.name}  {old} -> {new}  [{fp}]")
                for rule, why in report.missing:
                    if rounds == 1:
                        print(f"otel-agents: warning: rule {rule!r}: {why}", file=sys.stderr)
                sys.stdout.flush()
                if args.count is not None and rounds >= args.count:
                    break
                if limit is not None and time.monotonic() - started >= limit:
                    break
                stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from otel_agents.alerts import _state as st

    home = home_of(args)
    alerts: list[Any] = []
    history: list[dict[str, Any]] = []
    if st.path_of(home).exists():
        store = st.StateStore(home)
        try:
            alerts = store.all()
            history = store.history(args.limit) if args.history else []
        finally:
            store.close()
    if args.json:
        data: dict[str, Any] = {"alerts": [a.__dict__ for a in alerts]}
        if args.history:
            data["history"] = history
        print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return 0
    if not alerts:
        print("no alerts recorded")
    else:
        print(
            table(
                ["STATE", "NAME", "SEVERITY", "SOURCE", "LABELS", "VALUE", "SINCE"],
                [
                    [
                        a.state,
                        a.name,
                        a.severity,
                        a.source,
                        ",".join(
                            f"{k}={v}" for k, v in a.labels.items() if k not in ("alertname", "severity")
                        )
                        or "-",
                        "-" if a.value is None else f"{a.value:.4g}",
                        fmt_time(a.ended_ns if a.state == "resolved" else a.started_ns or a.pending_ns),
                    ]
                    for a in alerts
                ],
                no_color=args.no_color,
            )
        )
    if args.history:
        print()
        print(
            table(
                ["TIME", "NAME", "FROM", "TO", "SEVERITY", "VALUE", "NOTIFIED"],
                [
                    [
                        fmt_time(h["time_ns"]),
                        h["name"],
                        h["previous"],
                        h["state"],
                        h["severity"],
                        "-" if h["value"] is None else f"{h['value']:.4g}",
                        "yes" if h["notified"] else "no",
                    ]
                    for h in history
                ],
                no_color=args.no_color,
            )
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from otel_agents.alerts._prometheus import to_prometheus

    text = to_prometheus(_load(args.rules), group=args.group)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
