"""The rule file: valid files load, every mistake is one error naming the file, the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_agents.alerts import RuleError, load_rules
from tests.cli.cli_helpers import ROOT, run_cli
from tests.support.alert_workload import VALID


def test_a_valid_file_loads_every_field(tmp_path: Path) -> None:
    """Every documented field is read: durations in seconds, threshold kinds, notifiers."""
    path = tmp_path / "rules.yml"
    path.write_text(VALID)
    rules = load_rules(path)
    first = rules.rules[0]
    assert (first.window_s, first.for_s, first.cooldown_s) == (300, 60, 1800)
    assert first.severity == "critical" and first.labels == {"team": "agents"}
    assert first.notify == ("ops", "chat", "inproc") and first.expr.name == "search"
    assert rules.rules[1].threshold.breached(3.0) and not rules.rules[1].threshold.breached(1.0)
    assert rules.rules[3].threshold.breached(0) and not rules.rules[3].threshold.breached(2)
    assert rules.rules[5].expr.by == ("service",) and rules.notifiers["inproc"].target == "json:dumps"


BAD = [
    ("rules: []", None, "rules"),
    ("rules: [{name: 'bad name', expr: {type: calls, of: agent}, threshold: {above: 1}}]", "#1", "name"),
    ("rules: [{name: R, expr: {type: nope}, threshold: {above: 1}}]", "R", "expr.type"),
    ("rules: [{name: R, expr: {type: error_rate}, threshold: {above: 1}}]", "R", "expr.of"),
    ("rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: x}}]", "R", "threshold.above"),
    (
        "rules: [{name: R, expr: {type: calls, of: agent}, threshold: {outside: [3, 1]}}]",
        "R",
        "threshold.outside",
    ),
    ("rules: [{name: R, expr: {type: calls, of: agent}, threshold: {}}]", "R", "threshold"),
    (
        "rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: 1}, window: 5 minutes}]",
        "R",
        "window",
    ),
    ("rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: 1}, for: -1}]", "R", "for"),
    (
        "rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: 1}, severity: meh}]",
        "R",
        "severity",
    ),
    ("rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: 1}, notify: [x]}]", "R", "notify"),
    ("rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: 1}, colour: red}]", "R", "colour"),
    ("rules: [{name: R, expr: {type: metric}, threshold: {above: 1}}]", "R", "expr.metric"),
    (
        "rules: [{name: R, expr: {type: metric, metric: m, aggregation: p99}, threshold: {above: 1}}]",
        "R",
        "expr.aggregation",
    ),
    (
        "rules: [{name: R, expr: {type: latency, of: tool, quantile: 2}, threshold: {above: 1}}]",
        "R",
        "expr.quantile",
    ),
    (
        "notifiers: {n: {type: webhook, url: 'ftp://x'}}\nrules: [{name: R, expr: {type: dropped}, threshold: {above: 0}}]",
        None,
        "notifiers.n.url",
    ),
    (
        "rules: [{name: R, expr: {type: dropped}, threshold: {above: 0}}, {name: R, expr: {type: dropped}, threshold: {above: 0}}]",
        "R",
        "name",
    ),
    (
        "rules: [{name: R, expr: {type: dropped}, threshold: {above: 0}, annotations: {summary: '{{ $labels.x '}}]",
        "R",
        "annotations.summary",
    ),
    (
        "rules: [{name: R, expr: {type: dropped}, threshold: {above: 0},"
        " annotations: {summary: 'ok {{ $value | humanize }}', description: '{{ $value | nosuchfn }}'}}]",
        "R",
        "annotations.description",
    ),
    (
        "rules: [{name: R, expr: {type: calls, of: agent, reason: x}, threshold: {above: 1}}]",
        "R",
        "expr.reason",
    ),
    (
        "rules: [{name: R, expr: {type: dropped, reason: '(?!queue).*'}, threshold: {above: 0}}]",
        "R",
        "expr.reason",
    ),
    ("rules: [{name: R, expr: {type: dropped, reason: '(a'}, threshold: {above: 0}}]", "R", "expr.reason"),
]


@pytest.mark.parametrize(("text", "rule", "field"), BAD)
def test_each_mistake_names_file_rule_and_field(
    tmp_path: Path, text: str, rule: str | None, field: str
) -> None:
    """A bad rule raises one RuleError whose message names the file, the rule and the field."""
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(RuleError) as info:
        load_rules(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert info.value.field == field and f"field {field!r}" in message
    assert info.value.rule == rule
    if rule is not None:
        assert f"rule {rule!r}" in message


def test_cli_reports_an_invalid_file_in_one_line_with_exit_2(tmp_path: Path) -> None:
    """`alerts check` on a bad file prints one line naming file, rule and field, and exits 2."""
    path = tmp_path / "bad.yml"
    path.write_text("rules: [{name: R, expr: {type: calls, of: agent}, threshold: {above: 1}, window: soon}]")
    for args in (("alerts", "check", str(path)), ("alerts", "export", str(path), "--prometheus")):
        result = run_cli(*args, home=tmp_path / "home")
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "'R'" in lines[0] and "'window'" in lines[0]
    broken = tmp_path / "broken.yml"
    broken.write_text("rules: [unclosed")
    result = run_cli("alerts", "check", str(broken), home=tmp_path / "home")
    assert result.returncode == 2 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr
    missing = run_cli("alerts", "check", str(tmp_path / "absent.yml"), home=tmp_path / "home")
    assert missing.returncode == 2 and "cannot read the file" in missing.stderr


def test_a_python_notifier_that_does_not_import_names_its_field(tmp_path: Path) -> None:
    """A callable that is missing, or whose module raises while importing, is exit 2 naming the notifier."""
    (tmp_path / "raises_at_import.py").write_text("raise RuntimeError('boom at import')\n")
    for target, why in (
        ("no_such_module:f", "ModuleNotFoundError"),
        ("raises_at_import:f", "boom at import"),
    ):
        path = tmp_path / "rules.yml"
        path.write_text(
            f"notifiers: {{code: {{type: python, callable: '{target}'}}}}\n"
            "rules: [{name: R, expr: {type: dropped}, threshold: {above: 0}, notify: [code]}]\n"
        )
        result = run_cli(
            "alerts", "check", str(path), home=tmp_path / "home", env={"PYTHONPATH": f"{tmp_path}:{ROOT}"}
        )
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert str(path) in line and "'notifiers.code.callable'" in line and why in line
