"""The CI workflow in docs/verify.md runs as written: every `run:` step, in order, in a shell."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

ROOT = Path(__file__).resolve().parents[2]


def workflow() -> dict[str, Any]:
    text = (ROOT / "docs/verify.md").read_text()
    [block] = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return yaml.safe_load(block)  # type: ignore[no-any-return]


def run_steps(
    tmp_path: Path, sha: str, replace: dict[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    job = workflow()["jobs"]["verify"]
    # GitHub's ${{ runner.temp }} is the only expression; everything else is plain shell.
    env = {k: str(v).replace("${{ runner.temp }}", str(tmp_path)) for k, v in job["env"].items()}
    full_env = {
        **os.environ,
        **env,
        "GITHUB_SHA": sha,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    full_env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    results = []
    for step in job["steps"]:
        command = step.get("run")
        if command is None:
            continue  # actions/* steps
        if command.startswith("pip install"):
            # The package is not on PyPI: the job installs the checkout, as the test environment has.
            assert command == "pip install .", command
            continue
        for old, new in (replace or {}).items():
            command = command.replace(old, new)
        results.append(
            subprocess.run(
                ["bash", "-e", "-c", command],
                cwd=tmp_path,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        )
    return results


def test_the_documented_workflow_passes_for_a_good_candidate(tmp_path: Path) -> None:
    """Each documented step exits 0 and leaves a JUnit report without failures."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    results = run_steps(tmp_path, "3f2c1e9")
    assert len(results) == 3
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
    suite = ET.parse(tmp_path / "verify.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests", "0")) == 5
    assert "all 5 check(s) passed" in results[-1].stdout


def test_the_documented_workflow_fails_a_slow_candidate(tmp_path: Path) -> None:
    """The same steps with a candidate 6x slower make the verify step exit 1."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    slow = 'OTEL_AGENTS_SERVICE_VERSION="$GITHUB_SHA" python examples/eval_suite.py'
    results = run_steps(tmp_path, "badc0de", {slow: slow + " --slow-ms 250"})
    assert [r.returncode for r in results] == [0, 0, 1], results[-1].stdout
    assert "p95 latency" in results[-1].stdout and "FAIL" in results[-1].stdout
