"""Stored strings never reach the terminal raw: control, C1 and bidi characters show as escapes."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, Cli
from cli_spans import Spec, tool, write

from otel_agents.api import _semconv as semconv

# A title change, a cursor move to forge a line, CR overwrite, NUL, an 8-bit CSI, a bidi override,
# a line separator, a newline and rich markup: each must arrive as inert, visible text.
HOSTILE = "x\x1b]0;pwned\x07\x1b[2J\x1b[1A\rFAKE\x00\x9b31m\u202egnp.exe\u2028\nLINE2[bold red]hi[/]"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one failed workflow run whose every string is hostile."""
    home = tmp_path_factory.mktemp("hostile")
    now = time.time_ns() - 10**9
    write(
        home,
        [
            Spec(
                f"invoke_workflow {HOSTILE}",
                now,
                duration_ns=5_000_000,
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
                    semconv.GEN_AI_WORKFLOW_NAME: HOSTILE,
                    semconv.RUN_ID: "r-hostile",
                    semconv.SESSION_ID: HOSTILE,
                    semconv.RUN_METADATA_PREFIX + "note": HOSTILE,
                },
                error=HOSTILE,
                events=[HOSTILE],
                children=[tool(HOSTILE, now + 1000, error=HOSTILE), tool("plain", now + 2000)],
            )
        ],
    )
    return home


def _assert_inert(text: str) -> None:
    found = RAW.findall(text)
    assert not found, f"raw characters {found!r} in {text!r}"
    assert "\x1b" not in text and "\r" not in text


@pytest.mark.parametrize(
    "args",
    [
        ("runs",),
        ("trace", "r-hostile"),
        ("stats",),
        ("tail", "-n", "10", "--exit-after", "0"),
        ("runs", "--json"),
        ("trace", "r-hostile", "--json"),
        ("stats", "--json"),
        ("tail", "-n", "10", "--exit-after", "0", "--json"),
        ("export", "spans", "--format", "ndjson"),
    ],
)
def test_output_holds_no_raw_control_characters(hostile_home: Path, cli: Cli, args: tuple[str, ...]) -> None:
    """Tables, trees, tail lines and JSON show every hostile string escaped, never raw."""
    result = cli(*args, home=hostile_home)
    assert result.returncode == 0, result.stderr
    _assert_inert(result.stdout)
    if "--json" not in args and "ndjson" not in args:
        assert "\\x1b]0;pwned\\x07" in result.stdout
        assert "[bold red]hi[/]" in result.stdout


def test_json_keeps_the_stored_strings_exactly(hostile_home: Path, cli: Cli) -> None:
    """The JSON escapes decode back to the stored string, character for character."""
    [run] = json.loads(cli("runs", "--json", home=hostile_home).stdout)
    assert run["name"] == HOSTILE and run["session_id"] == HOSTILE


def test_tail_prints_one_line_per_span(hostile_home: Path, cli: Cli) -> None:
    """`tail` prints exactly one line for each span, though names and messages hold newlines."""
    table = cli("tail", "-n", "10", "--exit-after", "0", home=hostile_home).stdout
    assert len(table.splitlines()) == 3
    as_json = cli("tail", "-n", "10", "--exit-after", "0", "--json", home=hostile_home).stdout
    assert len(as_json.splitlines()) == 3


def test_trace_tree_has_one_line_per_span_and_detail(hostile_home: Path, cli: Cli) -> None:
    """A newline in a span name does not add a line to the trace tree."""
    out = cli("trace", "r-hostile", home=hostile_home).stdout
    span_lines = [line for line in out.splitlines() if "execute_tool" in line and "↳" not in line]
    assert len(span_lines) == 2
    # Wherever the hostile text shows, its newline is the visible escape just before LINE2.
    assert all(line.count("LINE2") == line.count("\\nLINE2") for line in out.splitlines())
    assert not any(line.lstrip().startswith(("LINE2", "FAKE")) for line in out.splitlines())


def test_export_csv_is_exact_when_piped_and_escaped_on_a_terminal(hostile_home: Path, cli: Cli) -> None:
    """`export` CSV keeps the stored bytes in a pipe and shows escapes on a terminal."""
    piped = cli("export", "spans", home=hostile_home)
    assert "\x1b]0;pwned" in piped.stdout
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "otel_agents.cli", "export", "spans", "--home", str(hostile_home)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=30)
    os.close(leader)
    # csv ends rows with CRLF, which the terminal's output translation turns into CR CR LF.
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\r\n", "\n").replace("\r\n", "\n")
    assert "\\x1b]0;pwned" in text
    _assert_inert(text)
