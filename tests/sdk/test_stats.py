"""``oa.get_stats()`` reads the same figures from the store as ``otel-agents stats --json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import otel_agents as oa
from tests.conftest import reset_otel_globals


def test_get_stats_equals_the_cli(tmp_path: Path) -> None:
    """get_stats() flushes this process's store and returns exactly the rows the stats command prints."""
    reset_otel_globals()
    telemetry = oa.configure(home=tmp_path, exporter="store", schedule_delay=0.05)
    try:
        for i in range(3):
            with oa.workflow("sync"), oa.tool("fetch"):
                if i == 2:
                    with oa.tool("parse"):
                        pass
        rows = oa.get_stats()
    finally:
        telemetry.shutdown(5)
        reset_otel_globals()
    cli = subprocess.run(
        [sys.executable, "-m", "otel_agents.cli", "stats", "--json", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert rows == json.loads(cli.stdout)
    by_name = {r["name"]: r["calls"] for r in rows}
    assert by_name == {"sync": 3, "fetch": 3, "parse": 1}
    assert oa.get_stats(home=tmp_path, kind="tool") == [r for r in rows if r["kind"] == "tool"]
    assert oa.get_stats(home=tmp_path / "absent") == []
