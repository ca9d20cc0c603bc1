"""Regressions for the CLI bugs of issue #16: help text, prune, doctor, limits, errors, runs, stats."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from cli_helpers import Cli
from cli_spans import Spec, record_with_api, tool, write

HOUR = 3600 * 10**9
MINUTE = 60 * 10**9
# 2026-03-02 10:00:00 UTC, a whole hour: the stats tests place spans around it.
H = int(datetime(2026, 3, 2, 10, tzinfo=timezone.utc).timestamp()) * 10**9


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tool_calls(cli: Cli, home: Path, *args: str) -> dict[str, int]:
    result = cli("stats", "--kind", "tool", "--json", *args, home=home)
    assert result.returncode == 0, result.stderr
    return {r["name"]: r["calls"] for r in json.loads(result.stdout)}


def test_stats_help_shows_single_percent_signs(cli: Cli) -> None:
    """`stats --help` prints 5%-wide and 2.5%, not the escaped %% of a format string."""
    out = cli("stats", "--help").stdout
    assert "5%-wide" in out and "2.5%" in out and "%%" not in out


def test_version_prints_the_package_version(cli: Cli) -> None:
    """`otel-agents --version` prints the name and version and exits 0."""
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == "otel-agents 0.1.0"


def test_runs_rejects_a_limit_below_one(demo_home: Path, cli: Cli) -> None:
    """`runs --limit -5` (or 0) is a usage error with one line and exit code 2."""
    for bad in ("-5", "0", "x"):
        result = cli("runs", "--limit", bad, home=demo_home)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "--limit" in result.stderr


def test_prune_older_than_takes_minutes(tmp_path: Path, cli: Cli) -> None:
    """`prune --older-than 30m` deletes spans older than 30 minutes and keeps newer ones."""
    now = time.time_ns()
    write(tmp_path, [tool("old", now - 2 * HOUR), tool("new", now - 5 * MINUTE)])
    result = cli("prune", "--older-than", "30m", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pruned 1 spans" in result.stdout
    assert set(_tool_calls(cli, tmp_path)) == {"new"}


def test_prune_messages_are_readable_and_not_repeated(tmp_path: Path, cli: Cli) -> None:
    """prune's progress names times as dates and sizes in MiB, and says each count once."""
    now = time.time_ns()
    write(tmp_path, [tool(f"t{i}", now - (48 - i) * HOUR) for i in range(40)])
    by_age = cli("prune", "--older-than", "1d", home=tmp_path)
    assert by_age.returncode == 0, by_age.stderr
    by_size = cli("prune", "--max-size", "1KB", home=tmp_path)
    assert by_size.returncode == 0, by_size.stderr
    for result in (by_age, by_size):
        text = result.stdout + result.stderr
        assert not re.search(r"\d{12,}", text), text
        lines = result.stderr.splitlines()
        assert len(lines) == len(set(lines)), result.stderr
    assert re.search(r"before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", by_age.stderr)
    assert re.search(r"store [\d.]+ KiB above 1 KiB: before \d{4}-", by_size.stderr), by_size.stderr
    assert re.search(r"store [\d.]+ KiB -> [\d.]+ KiB", by_size.stdout), by_size.stdout


def test_prune_max_size_zero_means_no_limit(demo_copy: Path, cli: Cli) -> None:
    """`prune --max-size 0` applies no size limit, so it never reports being above it."""
    result = cli("prune", "--max-size", "0", home=demo_copy)
    assert result.returncode == 0, result.stderr
    assert "still above" not in result.stdout and "pruned no rows" in result.stdout


def test_prune_refuses_a_size_without_a_unit(demo_copy: Path, cli: Cli) -> None:
    """`prune --max-size 10` is a usage error naming the units (it pruned the store to 10 bytes), and deletes nothing."""
    before = cli("runs", "--json", home=demo_copy).stdout
    result = cli("prune", "--max-size", "10", home=demo_copy)
    assert result.returncode == 2 and "needs a unit" in result.stderr and "10MB" in result.stderr
    assert cli("runs", "--json", home=demo_copy).stdout == before
    assert cli("prune", "--max-size", "10B", home=demo_copy).returncode == 0


def test_doctor_shows_the_default_limit_in_mib(demo_home: Path, cli: Cli) -> None:
    """doctor prints the 2048 MiB default as "2048 MiB", the unit prune and the docs use."""
    result = cli("doctor", home=demo_home)
    assert result.returncode == 0, result.stdout
    assert "14 days, 2048 MiB max" in result.stdout and "2147" not in result.stdout
    assert "quick_check" not in result.stdout and "check skipped (--full)" in result.stdout
    full = cli("doctor", "--full", "--json", home=demo_home)
    assert json.loads(full.stdout)["store"]["quick_check"] == "ok"


def test_demo_labels_its_log_line_on_stderr(tmp_path: Path, cli: Cli) -> None:
    """Every stderr line of `demo` says it is the demo app's log, none is bare."""
    result = cli("demo", home=tmp_path)
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("demo app log: WARNING ") for line in lines), result.stderr


def test_trace_names_an_error_type_once(tmp_path: Path, cli: Cli) -> None:
    """An exception recorded by the API shows in `trace` as `RuntimeError: boom`, not twice."""
    record_with_api(
        tmp_path,
        "try:\n"
        "    with oa.workflow('w'), oa.tool('t'):\n"
        "        raise RuntimeError('boom')\n"
        "except RuntimeError:\n"
        "    pass",
    )
    [run] = json.loads(cli("runs", "--json", home=tmp_path).stdout)
    out = cli("trace", run["trace_id"], home=tmp_path).stdout
    assert "error RuntimeError: boom" in out and "RuntimeError: RuntimeError" not in out


def test_a_run_continued_in_another_process_is_one_run(tmp_path: Path, cli: Cli) -> None:
    """Two processes recording one run id give one `runs` row, and `trace RUN` shows both traces."""
    for step in ("first", "second"):
        record_with_api(
            tmp_path,
            f"with oa.run_context(run_id='r-cont'), oa.workflow('pipeline'), oa.tool('{step}'):\n    pass",
        )
    runs = json.loads(cli("runs", "--json", home=tmp_path).stdout)
    assert len(runs) == 1, runs
    [run] = runs
    assert run["run_id"] == "r-cont" and run["traces"] == 2 and len(set(run["trace_ids"])) == 2
    table = cli("runs", home=tmp_path).stdout
    assert table.count("r-cont") == 1
    out = cli("trace", "r-cont", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "run r-cont: 2 traces" in out.stdout
    for trace_id in run["trace_ids"]:
        assert f"trace {trace_id}" in out.stdout
    assert "execute_tool first" in out.stdout and "execute_tool second" in out.stdout
    one = cli("trace", run["trace_ids"][0], home=tmp_path).stdout
    assert f"continues in 1 other trace(s): {run['trace_ids'][1]}" in one
    spans = json.loads(cli("trace", "r-cont", "--json", home=tmp_path).stdout)
    assert {s["trace_id"] for s in spans} == set(run["trace_ids"])


def test_runs_status_filter_sees_a_failure_in_any_part(tmp_path: Path, cli: Cli) -> None:
    """A run whose second part failed is listed under `--status error` and not under ok."""
    record_with_api(tmp_path, "with oa.run_context(run_id='r-2'), oa.workflow('p'):\n    pass")
    record_with_api(
        tmp_path,
        "try:\n"
        "    with oa.run_context(run_id='r-2'), oa.workflow('p'):\n"
        "        raise ValueError('late')\n"
        "except ValueError:\n"
        "    pass",
    )
    failed = json.loads(cli("runs", "--status", "error", "--json", home=tmp_path).stdout)
    assert [r["run_id"] for r in failed] == ["r-2"] and failed[0]["error_message"]
    assert json.loads(cli("runs", "--status", "ok", "--json", home=tmp_path).stdout) == []


def test_stats_windows_inside_an_hour_are_exact(tmp_path: Path, cli: Cli) -> None:
    """stats counts only spans that started in [since, until), also for windows inside one hour."""
    write(
        tmp_path,
        [
            tool("early", H + 10 * MINUTE),
            tool("late", H + 40 * MINUTE),
            tool("next_hour", H + HOUR + 5 * MINUTE),
            tool("later", H + 3 * HOUR + 30 * MINUTE),
        ],
    )
    assert _tool_calls(cli, tmp_path, "--since", _iso(H + 30 * MINUTE), "--until", _iso(H + 50 * MINUTE)) == {
        "late": 1
    }
    assert _tool_calls(cli, tmp_path, "--since", _iso(H + 5 * MINUTE), "--until", _iso(H + 20 * MINUTE)) == {
        "early": 1
    }
    across = _tool_calls(
        cli, tmp_path, "--since", _iso(H + 30 * MINUTE), "--until", _iso(H + HOUR + 10 * MINUTE)
    )
    assert across == {"late": 1, "next_hour": 1}
    whole = _tool_calls(cli, tmp_path, "--since", _iso(H), "--until", _iso(H + 2 * HOUR))
    assert whole == {"early": 1, "late": 1, "next_hour": 1}
    wide = _tool_calls(
        cli, tmp_path, "--since", _iso(H + 20 * MINUTE), "--until", _iso(H + 3 * HOUR + 40 * MINUTE)
    )
    assert wide == {"late": 1, "next_hour": 1, "later": 1}
    assert _tool_calls(cli, tmp_path, "--since", _iso(H + 3 * HOUR + 31 * MINUTE)) == {}


def test_stats_since_one_minute_matches_runs(tmp_path: Path, cli: Cli) -> None:
    """A call 5 minutes ago is outside `stats --since 1m` and inside `stats --since 10m`."""
    write(tmp_path, [tool("recent", time.time_ns() - 5 * MINUTE)])
    assert _tool_calls(cli, tmp_path, "--since", "1m") == {}
    assert _tool_calls(cli, tmp_path, "--since", "10m") == {"recent": 1}


def test_written_specs_keep_children_in_their_parents_trace(tmp_path: Path, cli: Cli) -> None:
    """The test writer stores a root span and its children in one trace (guards the helper)."""
    write(tmp_path, [Spec("root", H, children=[tool("child", H + 1)]), tool("alone", H + 2)])
    out = cli("export", "spans", "--format", "ndjson", home=tmp_path).stdout
    spans = {s["name"]: s for s in map(json.loads, out.splitlines())}
    assert spans["execute_tool child"]["trace_id"] == spans["root"]["trace_id"]
    assert spans["execute_tool child"]["parent_span_id"] == spans["root"]["span_id"]
    assert spans["execute_tool alone"]["trace_id"] != spans["root"]["trace_id"]


def test_replay_of_a_run_id_sends_every_trace_of_the_run(tmp_path: Path, cli: Cli) -> None:
    """`replay --trace RUN` sends the spans of all the traces one run id was recorded in."""
    import threading
    from http.server import HTTPServer

    from test_cli_commands import _Receiver

    for step in ("first", "second"):
        record_with_api(
            tmp_path, f"with oa.run_context(run_id='r-re'), oa.workflow('p'), oa.tool('{step}'):\n    pass"
        )
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Receiver.received.clear()
        result = cli(
            "replay", "--endpoint", f"http://127.0.0.1:{server.server_port}", "--trace", "r-re", home=tmp_path
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    spans = [
        s for r in _Receiver.received for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans
    ]
    assert len(spans) == 4 and len({s.trace_id for s in spans}) == 2
