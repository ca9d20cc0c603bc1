"""A command imports only its own module: `otel-agents runs` starts without the other fourteen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import contextlib, io, json, sys
from otel_agents.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith("otel_agents.cli._cmd_"))
print(json.dumps([code, loaded]))
"""


def _loaded(tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv],
        env={**os.environ, "OTEL_AGENTS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return code, loaded


def test_a_named_command_imports_only_its_module(tmp_path: Path) -> None:
    """`--home X runs` and `stats --home X` load the one command module they run."""
    # No store there: the command runs and says so (exit 1), which is not a usage error (2).
    assert _loaded(tmp_path, "--home", str(tmp_path / "h"), "runs") == (1, ["otel_agents.cli._cmd_runs"])
    assert _loaded(tmp_path, "stats", "--home", str(tmp_path / "h")) == (1, ["otel_agents.cli._cmd_stats"])


def test_no_or_an_unknown_command_builds_every_command(tmp_path: Path) -> None:
    """Without a known command (a typo, or none), the full parser lists every command."""
    code, loaded = _loaded(tmp_path, "rnus")
    assert code == 2 and len(loaded) == 15
    code, loaded = _loaded(tmp_path)
    assert code == 2 and len(loaded) == 15


def test_version_imports_no_command(tmp_path: Path) -> None:
    """`--version` prints the version without importing any command module; `-h --version` lists them all."""
    script = (
        "import contextlib, io, json, sys\n"
        "from otel_agents.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(sys.argv[1:])\n"
        "loaded = [m for m in sys.modules if m.startswith('otel_agents.cli._cmd_')]\n"
        "print(json.dumps([out.getvalue(), len(loaded)]))\n"
    )

    def run(*argv: str) -> tuple[str, int]:
        done = subprocess.run(
            [sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60, check=True
        )
        text, loaded = json.loads(done.stdout.strip().splitlines()[-1])
        return text, loaded

    text, loaded = run("--home", str(tmp_path), "--version")
    assert text.startswith("otel-agents ") and loaded == 0
    text, loaded = run("-h", "--version")
    assert "usage: otel-agents" in text and loaded == 15
