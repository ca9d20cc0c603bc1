"""After force_flush(), /metrics still lists each metric family once, and promtool accepts the page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integrations.conftest import ROOT

SCRIPT = """
import otel_agents as oa
from otel_agents.integrations import prometheus
t = oa.configure(exporter="none", metric_readers=[prometheus.reader()], logs=False)
for i in range(5):
    with oa.workflow("w"), oa.agent("a"), oa.tool("t"):
        pass
t.force_flush(5)
t.force_flush(5)
body, _ = prometheus.render()
print(body.decode())
"""


def _promtool() -> str | None:
    found = os.environ.get("PROMTOOL_BIN") or shutil.which("promtool")
    if found:
        return found
    deps = subprocess.run(
        ["bash", str(ROOT / "scripts" / "e2e-deps.sh"), "--prometheus-only"],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^PROMTOOL_BIN=(\S+)$", deps.stdout, re.M)
    return match.group(1) if match else None


def test_force_flush_does_not_repeat_metric_families(tmp_path: Path) -> None:
    """Two force_flush() calls before a scrape leave one TYPE line per family; promtool check metrics passes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({"PYTHONPATH": str(ROOT), "OTEL_AGENTS_HOME": str(tmp_path / "home")})
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    page = result.stdout
    types = re.findall(r"^# TYPE (\S+) ", page, re.M)
    assert types, page[:2000]
    assert len(types) == len(set(types)), sorted(t for t in types if types.count(t) > 1)
    promtool = _promtool()
    if promtool is None:
        pytest.fail("promtool not available: bash scripts/e2e-deps.sh --prometheus-only")
    check = subprocess.run(
        [promtool, "check", "metrics"], input=page, capture_output=True, text=True, timeout=60
    )
    # promtool exits 1 for lint warnings too; only errors ("error while linting") mean a rejected page.
    assert "error while linting" not in check.stderr + check.stdout, check.stderr + check.stdout


DISABLED_APP = """
import logging, threading
from fastapi import FastAPI
from starlette.testclient import TestClient
from otel_agents.integrations.fastapi import setup_monitoring
logging.basicConfig(level=logging.WARNING)
app = FastAPI()
setup_monitoring(app, service_name="svc")
with TestClient(app) as client:
    codes = [client.get("/metrics").status_code for _ in range(3)]
print(codes, sorted(t.name for t in threading.enumerate()))
"""


def test_metrics_page_with_the_sdk_disabled_is_quiet(tmp_path: Path) -> None:
    """With OTEL_SDK_DISABLED=true, setup_monitoring's /metrics answers without a warning on each scrape."""
    env = {**os.environ, "OTEL_SDK_DISABLED": "true", "OTEL_AGENTS_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", DISABLED_APP], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith("[200, 200, 200]")
    assert "WARNING" not in result.stderr, result.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []


AGAIN = """
import json, logging
import otel_agents as oa
from otel_agents.integrations import prometheus
warned = []
logging.getLogger("otel_agents").addHandler(type("H", (logging.Handler,), {"emit": lambda s, r: warned.append(r.getMessage())})())
held = prometheus.reader()
seen = []
for i in range(2):
    reader = held if i == 0 or HELD else prometheus.reader()
    t = oa.configure(exporter="none", metric_readers=[reader], logs=False)
    with oa.agent("a"), oa.tool("t"):
        pass
    t.tracer_provider.force_flush(5000)
    prometheus.warn_if_detached(t)
    page = prometheus.render()[0].decode()
    seen.append([page.count("otel_agents_calls_total{"), page.count("gen_ai_execute_tool_duration_seconds_count")])
    t.shutdown(5)
print(json.dumps({"seen": seen, "detached": [w for w in warned if "/metrics" in w]}))
"""


@pytest.mark.parametrize("held", [True, False])
def test_a_pipeline_configured_again_after_shutdown_serves_metrics_again(tmp_path: Path, held: bool) -> None:
    """configure() after a shutdown, with the Prometheus reader held from before or asked for again,
    builds its pipeline and serves /metrics (the SDK lets a reader join one meter provider only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({"PYTHONPATH": str(ROOT), "OTEL_AGENTS_HOME": str(tmp_path / "home")})
    script = f"HELD = {held}\n{AGAIN}"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"seen": [[2, 1]] * 2, "detached": []}
