"""Tables fit the terminal and colour only where wanted; the routing graph as tree, Mermaid and DOT."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from cli_helpers import Cli
from cli_spans import Spec, write

from otel_agents.api import _semconv as semconv

RED = "\x1b[1;31m"


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 100, 132])
def test_runs_and_stats_fit_columns(demo_home: Path, cli: Cli, width: int) -> None:
    """`COLUMNS=N otel-agents runs` (and stats) prints no line wider than N characters."""
    for command in ("runs", "stats"):
        result = cli(command, home=demo_home, env={"COLUMNS": str(width)})
        assert result.returncode == 0, result.stderr
        assert _widest(result.stdout) <= width, result.stdout
        assert "support_triage" in result.stdout or "support_tri…" in result.stdout


@pytest.mark.parametrize("width", [60, 80, 100])
def test_trace_fits_columns_and_wraps_its_details(demo_home: Path, cli: Cli, width: int) -> None:
    """`COLUMNS=N otel-agents trace` keeps every line within N, wrapping details instead of losing them."""
    failed = _failed(cli, demo_home)
    full = cli("trace", failed, home=demo_home, env={"COLUMNS": ""}).stdout
    assert _widest(full) > 100 and "TOKENS" in full  # a pipe without COLUMNS: whole lines
    for env in ({"COLUMNS": str(width)}, {"COLUMNS": str(width), "FORCE_COLOR": "1"}):
        out = _visible(cli("trace", failed, home=demo_home, env=env).stdout)
        assert _widest(out) <= width, out
        assert "WATERFALL" in out and "█" in out and f"trace {failed}" in out
        words = " ".join(out.split())
        assert "CRM did not answer within 2s" in words and "reason 'ticket is about billing'" in words
        assert "3 error(s)" in words


def test_runs_without_columns_in_a_pipe_keeps_whole_cells(demo_home: Path, cli: Cli) -> None:
    """Piped without COLUMNS, runs shows every column and whole ids (for grep and scripts)."""
    out = cli("runs", home=demo_home, env={"COLUMNS": ""}).stdout
    assert out.splitlines()[0].split()[:3] == ["START", "NAME", "KIND"]
    assert "TOKENS" in out and "otel_agents.cli._demo.CrmTimeout" in out and "…" not in out


def test_error_is_highlighted_when_colour_is_forced(demo_home: Path, cli: Cli) -> None:
    """With FORCE_COLOR the failed run's status is bold red; --no-color and NO_COLOR turn it off."""
    coloured = cli("runs", home=demo_home, env={"FORCE_COLOR": "1"}).stdout
    assert f"{RED}error" in coloured
    trace = cli("trace", _failed(cli, demo_home), home=demo_home, env={"FORCE_COLOR": "1"}).stdout
    assert f"{RED}ERROR" in trace
    for env, args in (({"FORCE_COLOR": "1"}, ("--no-color",)), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, ())):
        plain = cli("runs", *args, home=demo_home, env=env).stdout
        assert "\x1b" not in plain and "error" in plain
    before_command = cli("--no-color", "runs", home=demo_home, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b" not in before_command


def test_piped_output_has_no_colour_by_default(demo_home: Path, cli: Cli) -> None:
    """Without a terminal or FORCE_COLOR, tables, trees and the graph carry no escape codes."""
    for args in (("runs",), ("stats",), ("graph",), ("trace", _failed(cli, demo_home))):
        out = cli(*args, home=demo_home).stdout
        assert out and "\x1b" not in out, args


def test_json_is_the_same_whatever_the_terminal(demo_home: Path, cli: Cli) -> None:
    """`--json` output does not change with COLUMNS or FORCE_COLOR."""
    plain = cli("runs", "--json", home=demo_home).stdout
    styled = cli("runs", "--json", home=demo_home, env={"COLUMNS": "40", "FORCE_COLOR": "1"}).stdout
    assert json.loads(plain) == json.loads(styled) and "\x1b" not in styled


def _visible(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_every_table_honours_no_color_and_fits_while_coloured(
    demo_copy: Path, cli: Cli, tmp_path: Path
) -> None:
    """metrics, alerts and verify tables: --no-color drops colour, and coloured lines still fit COLUMNS."""
    rules = tmp_path / "rules.yml"
    rules.write_text("rules: [{name: ToolErrors, expr: {type: error_rate, of: tool}, threshold: {above: 0}}]")
    commands = [
        ("metrics",),
        ("metrics", "gen_ai.client.token.usage", "--since", "1d"),
        ("alerts", "check", str(rules)),
        ("alerts", "list"),
        ("verify", "--service", "otel-agents-demo", "--duration", "1d"),
    ]
    for args in commands:
        coloured = cli(*args, home=demo_copy, env={"FORCE_COLOR": "1", "COLUMNS": "40"})
        assert "\x1b[" in coloured.stdout, args
        table = "\n".join(_visible(coloured.stdout).splitlines()[:3])  # header, rule, first row
        assert _widest(table) <= 40, (args, coloured.stdout)
        plain = cli(*args, "--no-color", home=demo_copy, env={"FORCE_COLOR": "1"})
        assert plain.stdout and "\x1b" not in plain.stdout, (args, plain.stdout)


def test_markup_in_a_span_name_is_shown_as_text(tmp_path: Path, cli: Cli) -> None:
    """A run named `[bold red]x[/]` shows those characters, with colour on or off."""
    write(
        tmp_path,
        [
            Spec(
                "invoke_workflow [bold red]x[/]",
                time.time_ns(),
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
                    semconv.GEN_AI_WORKFLOW_NAME: "[bold red]x[/]",
                },
            )
        ],
    )
    for env in ({}, {"FORCE_COLOR": "1"}):
        out = cli("runs", home=tmp_path, env=env).stdout
        assert "[bold red]x[/]" in out


def test_only_coloured_tables_import_rich(demo_home: Path, cli: Cli) -> None:
    """`runs --json` and a plain table start without rich; a coloured table loads rich.style only."""
    env = {"PYTHONPROFILEIMPORTTIME": "1"}
    for args in (("runs", "--json"), ("runs",)):
        result = cli(*args, home=demo_home, env=env)
        assert result.returncode == 0 and "otel_agents.cli" in result.stderr
        assert "| rich" not in result.stderr, args
    coloured = cli("runs", home=demo_home, env={**env, "FORCE_COLOR": "1"})
    assert "| rich.style" in coloured.stderr and "| rich.console" not in coloured.stderr


def _failed(cli: Cli, home: Path) -> str:
    return str(
        json.loads(cli("runs", "--status", "error", "--limit", "1", "--json", home=home).stdout)[0][
            "trace_id"
        ]
    )


def test_graph_tree_shows_the_demo_hand_offs(demo_home: Path, cli: Cli) -> None:
    """`graph` draws router → billing_agent / tech_agent with counts, errors and p95."""
    result = cli("graph", home=demo_home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("router (")
    billing = next(line for line in lines if "→ billing_agent" in line)
    assert "hand-offs" in billing and "ERROR" in billing and "p95 " in billing
    assert any("→ tech_agent" in line and "0 errors" in line for line in lines)
    data = json.loads(cli("graph", "--format", "json", home=demo_home).stdout)
    edges = {(e["source"], e["target"]): e for e in data["edges"]}
    runs = len(json.loads(cli("runs", "--json", "--limit", "100", home=demo_home).stdout))
    assert edges[("router", "billing_agent")]["count"] + edges[("router", "tech_agent")]["count"] == runs
    # Each demo records three runs, one of them failing in billing_agent.
    assert edges[("router", "billing_agent")]["errors"] == runs // 3


def test_graph_of_one_run_and_of_a_time_range(demo_home: Path, cli: Cli) -> None:
    """`graph RUN` counts that run's one hand-off; `--until` before the demo finds none."""
    run = json.loads(cli("runs", "--status", "error", "--limit", "1", "--json", home=demo_home).stdout)[0]
    one = json.loads(cli("graph", run["run_id"], "--format", "json", home=demo_home).stdout)
    assert [(e["source"], e["target"], e["count"], e["errors"]) for e in one["edges"]] == [
        ("router", "billing_agent", 1, 1)
    ]
    assert "no routing decisions" in cli("graph", "--until", "1h", home=demo_home).stdout
    recent = json.loads(cli("graph", "--since", "1h", "--format", "json", home=demo_home).stdout)
    assert recent["edges"]
    both = cli("graph", run["run_id"], "--since", "1h", home=demo_home)
    assert both.returncode == 2


def test_graph_mermaid_and_dot(demo_home: Path, cli: Cli) -> None:
    """`--format mermaid` and `--format dot` give a flowchart and a digraph with labelled edges."""
    mermaid = cli("graph", "--format", "mermaid", home=demo_home).stdout.splitlines()
    assert mermaid[0] == "flowchart LR"
    assert any('-->|"' in line and "hand-off" in line for line in mermaid)
    assert any("linkStyle" in line for line in mermaid)
    dot = cli("graph", "--format", "dot", home=demo_home).stdout
    assert dot.startswith("digraph routing {") and dot.rstrip().endswith("}")
    assert '"router" -> "billing_agent" [label="' in dot and 'color="#d62728"' in dot


def test_graph_escapes_hostile_agent_names(tmp_path: Path, cli: Cli) -> None:
    """Quotes, newlines and escapes in agent names cannot break out of DOT or Mermaid labels."""
    evil = 'a"];\nevil -> x [label="\x1b[31m'
    now = time.time_ns()
    write(
        tmp_path,
        [
            Spec(
                "route r",
                now,
                attributes={semconv.ROUTE_SOURCE: "src", semconv.ROUTE_TARGET: evil},
            )
        ],
    )
    dot = cli("graph", "--format", "dot", home=tmp_path).stdout
    assert "\x1b" not in dot and len(dot.splitlines()) == 7
    assert '\\"];\\\\nevil' in dot  # the quote escaped, the newline shown as the text \\n
    mermaid = cli("graph", "--format", "mermaid", home=tmp_path).stdout
    assert '"' not in mermaid.replace('["', "").replace('"]', "").replace('|"', "").replace('"|', "")
    assert "\x1b" not in mermaid and len(mermaid.splitlines()) == 4
