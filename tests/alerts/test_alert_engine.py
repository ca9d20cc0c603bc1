"""The local engine over a store filled through the public API: states, cooldown, logs, notifications."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otel_agents.alerts import (
    CallableNotifier,
    Dispatcher,
    Engine,
    SlackNotifier,
    WebhookNotifier,
    parse_rules,
)
from otel_agents.alerts._notify import DROP_FAILED
from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from tests.cli.cli_helpers import run_cli, start_cli
from tests.support.alert_workload import write_rules
from tests.support.http_servers import QuietHandler, serving
from tests.support.webhook_receiver import WebhookReceiver

HOUR_NS = 3600 * 10**9


def tool_rule(**extra: Any) -> dict[str, Any]:
    rule = {
        "name": "ToolErrors",
        "expr": {"type": "error_rate", "of": "tool"},
        "threshold": {"above": 0.2},
        "window": "10m",
        "severity": "critical",
        "annotations": {"summary": "{{ $labels.gen_ai_tool_name }} fails {{ $value | humanizePercentage }}"},
        "notify": ["hook"],
    }
    rule.update(extra)
    return rule


def engine_for(home: Path, rule: dict[str, Any], notifier: Any, dispatcher: Dispatcher) -> Engine:
    rules = parse_rules(
        {"rules": [rule], "notifiers": {"hook": {"type": "python", "callable": "json:dumps"}}}
    )
    return Engine(rules, home, notifiers={"hook": notifier}, dispatcher=dispatcher)


def test_failing_tool_fires_with_an_alertmanager_payload(
    store_home: Callable[..., Path], receiver: WebhookReceiver
) -> None:
    """3 of 10 tool calls fail: the rule fires once, the webhook gets Alertmanager's v4 payload."""
    home = store_home(runs=10, failures=3)
    dispatcher = Dispatcher()
    engine = engine_for(home, tool_rule(), WebhookNotifier(receiver.url, name="ops"), dispatcher)
    report = engine.evaluate()
    [alert] = report.firing
    assert alert.labels["gen_ai_tool_name"] == "search" and alert.labels["service"] == "svc"
    assert alert.value == pytest.approx(0.3)
    assert dispatcher.flush(10)
    [body] = receiver.wait_for(1)
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "ops"
    assert body["groupKey"] == '{}:{alertname="ToolErrors"}'
    [sent] = body["alerts"]
    assert sent["labels"] == {
        "alertname": "ToolErrors",
        "service": "svc",
        "gen_ai_tool_name": "search",
        "severity": "critical",
    }
    assert sent["annotations"]["summary"] == "search fails 30%"
    assert sent["startsAt"].endswith("Z") and sent["endsAt"] == "0001-01-01T00:00:00Z"
    assert len(sent["fingerprint"]) == 16 and sent["status"] == "firing"
    # Still firing on the next round: no second notification.
    engine.evaluate()
    assert dispatcher.flush(10) and len(receiver.bodies) == 1
    # An hour later the window is empty: resolved, notified with its end time.
    report = engine.evaluate(time.time_ns() + HOUR_NS)
    assert [a.state for r in report.results for a in r.alerts] == ["resolved"]
    assert dispatcher.flush(10)
    resolved = receiver.wait_for(2)[1]
    assert resolved["status"] == "resolved" and resolved["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
    assert resolved["alerts"][0]["fingerprint"] == sent["fingerprint"]


def test_healthy_tools_never_fire(store_home: Callable[..., Path], receiver: WebhookReceiver) -> None:
    """1 failure in 10 stays under a 20% threshold: nothing fires, nothing is sent."""
    home = store_home(runs=10, failures=1)
    dispatcher = Dispatcher()
    engine = engine_for(home, tool_rule(), WebhookNotifier(receiver.url), dispatcher)
    assert engine.evaluate().firing == []
    assert dispatcher.flush(5) and receiver.bodies == []


def test_for_keeps_an_alert_pending_until_it_lasted(store_home: Callable[..., Path]) -> None:
    """With `for: 5m` the breach is pending first and fires only once it lasted five minutes."""
    home = store_home(runs=4, failures=4)
    got: list[dict[str, Any]] = []
    dispatcher = Dispatcher()
    engine = engine_for(
        home, tool_rule(**{"for": "5m", "window": "1h"}), CallableNotifier(got.append), dispatcher
    )
    now = time.time_ns()
    assert [a.state for a in engine.evaluate(now).results[0].alerts] == ["pending"]
    assert [a.state for a in engine.evaluate(now + 60 * 10**9).results[0].alerts] == ["pending"]
    assert [a.state for a in engine.evaluate(now + 301 * 10**9).results[0].alerts] == ["firing"]
    assert dispatcher.flush(5) and [p["status"] for p in got] == ["firing"]


def test_a_pending_alert_that_clears_is_forgotten_silently(store_home: Callable[..., Path]) -> None:
    """A breach shorter than `for` never notifies and leaves no alert behind."""
    home = store_home(runs=4, failures=4)
    got: list[dict[str, Any]] = []
    dispatcher = Dispatcher()
    engine = engine_for(home, tool_rule(**{"for": "5m"}), CallableNotifier(got.append), dispatcher)
    now = time.time_ns()
    assert engine.evaluate(now).results[0].alerts[0].state == "pending"
    result = engine.evaluate(now + HOUR_NS).results[0]
    assert result.alerts == [] and result.changes[0][1:] == ("pending", "inactive")
    assert dispatcher.flush(5) and got == []


def test_cooldown_holds_back_a_second_firing_notice(store_home: Callable[..., Path]) -> None:
    """An alert that fires, resolves and fires again within its cooldown notifies only once."""
    home = store_home(runs=4, failures=4)
    got: list[dict[str, Any]] = []
    dispatcher = Dispatcher()
    engine = engine_for(home, tool_rule(cooldown="1h"), CallableNotifier(got.append), dispatcher)
    now = time.time_ns()
    assert engine.evaluate(now).firing
    assert not engine.evaluate(now + 11 * 60 * 10**9).firing  # window empty: resolved
    again = engine.evaluate(now + 60 * 10**9)
    assert again.firing  # firing again, but inside the cooldown
    assert dispatcher.flush(5)
    assert [p["status"] for p in got] == ["firing", "resolved"]
    # Without a cooldown the same sequence notifies three times.
    got.clear()
    other = engine_for(home, tool_rule(name="NoCooldown"), CallableNotifier(got.append), dispatcher)
    other.evaluate(now), other.evaluate(now + 11 * 60 * 10**9), other.evaluate(now + 60 * 10**9)
    assert dispatcher.flush(5) and [p["status"] for p in got] == ["firing", "resolved", "firing"]


def test_state_changes_are_otel_log_records(store_home: Callable[..., Path], make_pipeline: Any) -> None:
    """Each state change is one log record through the OTel logs API, severity from the alert's."""
    home = store_home(runs=4, failures=4)
    from opentelemetry._logs import get_logger_provider

    dispatcher = Dispatcher()
    engine = engine_for(home, tool_rule(), CallableNotifier(lambda p: None), dispatcher)
    now = time.time_ns()
    engine.evaluate(now)
    engine.evaluate(now + HOUR_NS)
    get_logger_provider().force_flush()  # type: ignore[attr-defined]
    from otel_agents.store import _db as db
    from otel_agents.store import _paths as paths

    conn = db.connect(paths.db_path(home))
    rows = conn.execute(
        "SELECT severity_text, severity_number, body, attributes FROM logs WHERE event_name = ? ORDER BY time_ns",
        (semconv.ALERT_EVENT,),
    ).fetchall()
    import json

    assert [json.loads(r[3])[semconv.ALERT_STATE] for r in rows] == ["firing", "resolved"]
    first = json.loads(rows[0][3])
    assert rows[0][0] == "ERROR" and rows[0][1] == 17  # critical -> ERROR
    assert first[semconv.ALERT_NAME] == "ToolErrors" and first[semconv.ALERT_PREVIOUS_STATE] == "inactive"
    assert first[semconv.ALERT_LABEL_PREFIX + "gen_ai_tool_name"] == "search"
    assert first[semconv.ALERT_VALUE] == 1.0 and first[semconv.ALERT_THRESHOLD] == "> 0.2"
    assert rows[0][2] == "alert ToolErrors firing: search fails 100%"


def test_retries_with_backoff_then_succeeds(store_home: Callable[..., Path]) -> None:
    """A receiver that fails twice gets the notification on the third attempt; nothing is counted."""
    home = store_home(runs=4, failures=4)
    with WebhookReceiver(fail_first=2) as flaky:
        dispatcher = Dispatcher(backoff_s=0.05)
        engine = engine_for(home, tool_rule(), WebhookNotifier(flaky.url, retries=3), dispatcher)
        engine.evaluate()
        assert dispatcher.flush(10)
        assert flaky.attempts == 3 and len(flaky.bodies) == 1
    assert stats.drops().get(DROP_FAILED) is None


def test_unreachable_webhook_is_retried_counted_and_never_raises(
    store_home: Callable[..., Path], lenient: None
) -> None:
    """A receiver that always fails is tried 1 + retries times, then counted as a dropped notice."""
    home = store_home(runs=4, failures=4)
    with WebhookReceiver(fail_first=100) as broken:
        dispatcher = Dispatcher(backoff_s=0.01)
        engine = engine_for(home, tool_rule(), WebhookNotifier(broken.url, retries=2), dispatcher)
        engine.evaluate()
        assert dispatcher.flush(10)
        assert broken.attempts == 3
    assert stats.drops()[DROP_FAILED] == 1 and dispatcher.failed == 1


def test_a_slow_receiver_never_blocks_the_caller(store_home: Callable[..., Path]) -> None:
    """Evaluation returns while the receiver is still sleeping on the request."""
    home = store_home(runs=4, failures=4)
    with WebhookReceiver(delay=1.5) as slow:
        dispatcher = Dispatcher()
        engine = engine_for(home, tool_rule(), WebhookNotifier(slow.url, timeout=5), dispatcher)
        assert engine.evaluate().firing
        assert slow.bodies == []  # the caller did not wait for the delivery
        assert dispatcher.flush(10) and len(slow.bodies) == 1


def test_slack_and_callable_receive_the_alert(
    store_home: Callable[..., Path], receiver: WebhookReceiver
) -> None:
    """A Slack incoming webhook gets one text line per alert; a callable gets the payload dict."""
    home = store_home(runs=4, failures=4)
    got: list[dict[str, Any]] = []
    rules = parse_rules(
        {
            "notifiers": {
                "chat": {"type": "slack", "url": receiver.url},
                "code": {"type": "python", "callable": "json:dumps"},
            },
            "rules": [tool_rule(notify=["chat", "code"])],
        }
    )
    dispatcher = Dispatcher()
    engine = Engine(
        rules,
        home,
        notifiers={"chat": SlackNotifier(receiver.url), "code": CallableNotifier(got.append)},
        dispatcher=dispatcher,
    )
    engine.evaluate()
    assert dispatcher.flush(5)
    [slack] = receiver.wait_for(1)
    assert slack == {"text": "[FIRING] ToolErrors (critical): search fails 100%"}
    assert got[0]["alerts"][0]["labels"]["gen_ai_tool_name"] == "search"


def test_every_expression_kind_reads_the_store(store_home: Callable[..., Path]) -> None:
    """error rate, p95 latency by agent/tool/model, cost per hour, calls and a metric selector all evaluate."""
    home = store_home(runs=10, failures=2, tool_sleep=0.01, cost_usd=0.5)
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": "AgentErr",
                    "expr": {"type": "error_rate", "of": "agent"},
                    "threshold": {"above": 0.1},
                },
                {"name": "ToolP95", "expr": {"type": "latency", "of": "tool"}, "threshold": {"above": 0.005}},
                {
                    "name": "ModelP95",
                    "expr": {"type": "latency", "of": "model", "name": "gpt-4o"},
                    "threshold": {"above": 10},
                },
                {
                    "name": "Burn",
                    "expr": {"type": "cost_per_hour"},
                    "threshold": {"above": 50},
                    "window": "1h",
                },
                {"name": "Calls", "expr": {"type": "calls", "of": "workflow"}, "threshold": {"below": 20}},
                {
                    "name": "CallsMetric",
                    "expr": {
                        "type": "metric",
                        "metric": semconv.METRIC_CALLS,
                        "aggregation": "increase",
                        "labels": {semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL},
                    },
                    "threshold": {"above": 9},
                },
            ]
        }
    )
    report = Engine(rules, home, notifiers={}, dispatcher=Dispatcher()).evaluate()
    values = {r.rule.name: [round(s.value, 4) for s in r.evaluation.samples] for r in report.results}
    assert values["AgentErr"] == [0.2]
    assert values["ToolP95"][0] >= 0.01
    assert 0 <= values["ModelP95"][0] < 10
    assert values["Burn"] == [5.0]  # $5 spent in the last hour
    assert values["Calls"] == [10.0]
    assert values["CallsMetric"] == [10.0]
    assert {a.name for a in report.firing} == {"AgentErr", "ToolP95", "Calls", "CallsMetric"}


def test_a_rule_over_something_absent_is_reported(store_home: Callable[..., Path]) -> None:
    """A metric or agent the store never saw is reported as missing, never silently quiet."""
    home = store_home(runs=2, failures=0)
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": "Typo",
                    "expr": {"type": "metric", "metric": "otel_agents.cals"},
                    "threshold": {"above": 1},
                },
                {
                    "name": "Ghost",
                    "expr": {"type": "error_rate", "of": "agent", "name": "ghost"},
                    "threshold": {"above": 0},
                },
            ]
        }
    )
    report = Engine(rules, home, notifiers={}, dispatcher=Dispatcher()).evaluate()
    assert report.missing == [
        ("Typo", "metric 'otel_agents.cals' does not exist in the store"),
        ("Ghost", "no agent named 'ghost' in the store"),
    ]


def test_a_rule_over_an_absent_service_or_series_is_reported(store_home: Callable[..., Path]) -> None:
    """A service or metric labels the store never saw are reported as missing, whatever the expression."""
    home = store_home(runs=2, failures=1)
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": "Burn",
                    "expr": {"type": "cost_per_hour", "service": "svx"},
                    "threshold": {"above": 0},
                },
                {
                    "name": "Errs",
                    "expr": {"type": "error_rate", "of": "tool", "service": "svx"},
                    "threshold": {"above": 0},
                },
                {"name": "Drops", "expr": {"type": "dropped", "service": "svx"}, "threshold": {"above": 0}},
                {
                    "name": "Label",
                    "expr": {
                        "type": "metric",
                        "metric": "otel_agents.calls",
                        "labels": {"gen_ai.tool.nam": "x"},
                    },
                    "threshold": {"above": 0},
                },
                {
                    "name": "Fine",
                    "expr": {"type": "error_rate", "of": "tool", "service": "svc"},
                    "threshold": {"above": 2},
                },
                {
                    "name": "FineLabel",
                    "expr": {
                        "type": "metric",
                        "metric": "otel_agents.calls",
                        "labels": {"gen_ai.operation.name": "execute_tool"},
                    },
                    "threshold": {"above": 10**9},
                },
            ]
        }
    )
    report = Engine(rules, home, notifiers={}, dispatcher=Dispatcher()).evaluate()
    assert report.missing == [
        ("Burn", "no service named 'svx' in the store"),
        ("Errs", "no service named 'svx' in the store"),
        ("Drops", "no service named 'svx' in the store"),
        ("Label", "no series of metric 'otel_agents.calls' has gen_ai.tool.nam=x in the store"),
    ]


RULES = """
notifiers:
  hook: {type: webhook, url: "URL", retries: 0}
rules:
  - name: ToolErrors
    expr: {type: error_rate, of: tool}
    threshold: {above: 0.2}
    window: 1h
    severity: warning
    notify: [hook]
"""


def test_cli_check_list_and_exit_codes(
    store_home: Callable[..., Path], receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """`alerts check` exits 1 and notifies when a rule fires, 0 when none does; `list` shows state and history."""
    home = store_home(runs=5, failures=5)
    rules = write_rules(tmp_path / "rules.yml", RULES.replace("URL", receiver.url))
    fired = run_cli("alerts", "check", str(rules), home=home)
    assert fired.returncode == 1, fired.stderr
    assert "ToolErrors  firing" in fired.stdout
    assert receiver.wait_for(1)[0]["status"] == "firing"
    listed = run_cli("alerts", "list", "--history", home=home)
    assert listed.returncode == 0 and "firing  ToolErrors" in listed.stdout
    assert "inactive  firing" in listed.stdout
    quiet = write_rules(tmp_path / "quiet.yml", RULES.replace("URL", receiver.url).replace("0.2", "1.5"))
    ok = run_cli("alerts", "check", str(quiet), home=home)
    assert ok.returncode == 0 and "ToolErrors  resolved" in ok.stdout
    unknown = write_rules(
        tmp_path / "unknown.yml",
        "rules: [{name: Typo, expr: {type: metric, metric: no.such.metric}, threshold: {above: 1}}]",
    )
    absent = run_cli("alerts", "check", str(unknown), home=home)
    assert absent.returncode == 3 and "metric 'no.such.metric' does not exist in the store" in absent.stderr


def test_cli_failed_notifications_show_in_doctor(store_home: Callable[..., Path], tmp_path: Path) -> None:
    """A webhook nobody listens on is retried and counted; `doctor` shows the count; the check still exits 1."""
    home = store_home(runs=5, failures=5)
    with WebhookReceiver() as gone:
        url = gone.url
    rules = write_rules(tmp_path / "rules.yml", RULES.replace("URL", url))
    result = run_cli("alerts", "check", str(rules), "--notify-timeout", "10s", home=home)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    doctor = run_cli("doctor", home=home)
    assert "alerts.notification_failed: 1" in doctor.stdout


def test_cli_watch_is_bounded_and_stops_on_sigterm(store_home: Callable[..., Path], tmp_path: Path) -> None:
    """`alerts watch --count 2` stops by itself; without a bound it stops cleanly on SIGTERM and SIGINT."""
    home = store_home(runs=5, failures=5)
    rules = write_rules(
        tmp_path / "rules.yml",
        RULES.replace("notify: [hook]", "")
        .replace('  hook: {type: webhook, url: "URL", retries: 0}\n', "")
        .replace("notifiers:\n", ""),
    )
    bounded = run_cli("alerts", "watch", str(rules), "--interval", "0.1s", "--count", "2", home=home)
    assert bounded.returncode == 0, bounded.stderr
    assert "ToolErrors  inactive -> firing" in bounded.stdout
    for bad in ("0", "-1"):
        refused = run_cli("alerts", "watch", str(rules), "--count", bad, home=home)
        assert refused.returncode == 2 and "--count" in refused.stderr, refused.stderr
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = start_cli("alerts", "watch", str(rules), "--interval", "0.2s", home=home)
        time.sleep(2)
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        stderr = proc.stderr.read() if proc.stderr else ""
        assert proc.returncode == 0, (sig, stderr)
        assert "Traceback" not in stderr


def test_a_receivers_headers_go_to_its_url_only_never_along_a_redirect() -> None:
    """A webhook's Authorization header reaches the receiver's URL, and a redirect to another
    address does not carry it along."""
    from otel_agents.alerts._notify import post_json

    seen: dict[str, str | None] = {}

    class Elsewhere(QuietHandler):
        def do_GET(self) -> None:
            seen["elsewhere"] = self.headers.get("Authorization")
            self.send_response(200)
            self.end_headers()

    class Receiver(QuietHandler):
        def do_POST(self) -> None:
            seen["receiver"] = self.headers.get("Authorization")
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{other.server_address[1]}/moved")
            self.end_headers()

    with serving(Elsewhere, Receiver) as (other, receiver):
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        post_json(url, b"{}", 5.0, {"Authorization": "Bearer hook-token"})
    assert seen == {"receiver": "Bearer hook-token", "elsewhere": None}
