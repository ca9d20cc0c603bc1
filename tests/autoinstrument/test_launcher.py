"""``opentelemetry-instrument`` with the otel-agents distro: one pipeline, one server span, OTLP out."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.integrations.conftest import (
    APPS,
    SESSION,
    Receiver,
    assert_run_trace,
    free_port,
    launcher,
    post_run,
    request,
    server_env,
    server_spans,
    uvicorn,
    wait_for,
)


def test_launcher_with_setup_monitoring_makes_one_server_span_per_request(
    tmp_path: Path, receiver: Receiver, servers: Any
) -> None:
    """Launcher plus setup_monitoring yields exactly one server span per request and the full agent trace over OTLP."""
    port = free_port()
    env = server_env(tmp_path / "home", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    server = servers(launcher(*uvicorn("agent_service:app", port)), env, port).start()
    ids = [f"req-launch-{i}" for i in range(3)]
    for request_id in ids:
        post_run(server.url, request_id)
        request(server.url + "/health")
        request(server.url + "/metrics")
    server.stop()
    spans = receiver.spans()
    per_request = Counter(s.attributes.get("otel_agents.request.id") for s in server_spans(spans))
    assert per_request == Counter(ids), per_request
    assert len(server_spans(spans)) == len(ids), [s.name for s in server_spans(spans)]
    for request_id in ids:
        trace = assert_run_trace(spans, request_id)
        assert all(s.resource.get("telemetry.distro.name") == "otel-agents" for s in trace)
    assert not [s for s in spans if s.name.endswith((" send", " receive"))]


def test_launcher_exports_each_log_record_once(tmp_path: Path, receiver: Receiver, servers: Any) -> None:
    """Under the launcher an application log line reaches OTLP exactly once (no second logging handler), carrying the request id and run context."""
    port = free_port()
    env = server_env(tmp_path / "home", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    server = servers(launcher(*uvicorn("agent_service:app", port)), env, port).start()
    run_id = post_run(server.url, "req-log").json()["run_id"]
    server.stop()
    with receiver.lock:
        records = [
            lr
            for r in receiver.logs
            for rl in r.resource_logs
            for sl in rl.scope_logs
            for lr in sl.log_records
        ]
    ours = [lr for lr in records if f"run {run_id} routed to researcher" in lr.body.string_value]
    assert len(ours) == 1, [lr.body.string_value for lr in records]
    attributes = {a.key: a.value.string_value for a in ours[0].attributes}
    assert attributes.get("otel_agents.request.id") == "req-log", attributes
    assert attributes.get("session.id") == SESSION and attributes.get("otel_agents.run.id") == run_id


def test_launcher_and_configure_in_script_share_one_pipeline(tmp_path: Path, receiver: Receiver) -> None:
    """A script calling configure() under the launcher reuses the launcher's pipeline and exports each span once, with OTEL_SERVICE_NAME winning."""
    env = server_env(
        tmp_path / "home", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_SERVICE_NAME="script-svc"
    )
    result = subprocess.run(
        launcher(sys.executable, str(APPS / "script.py")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "configured-once script-svc" in result.stdout
    assert "did not configure otel-agents" not in result.stderr
    spans = wait_for(lambda: receiver.spans())
    names = Counter(s.name for s in spans)
    assert names == Counter({"invoke_agent solo": 1, "execute_tool echo": 1}), names
    assert all(s.resource["service.name"] == "script-svc" for s in spans)
    assert all(s.attributes.get("otel_agents.run.id") == "script-run" for s in spans)


def test_another_configurator_chosen_is_reported(tmp_path: Path) -> None:
    """When the user picks the upstream distro and configurator, otel-agents says clearly at start-up that it is not active."""
    env = server_env(tmp_path / "home", OTEL_PYTHON_DISTRO="distro", OTEL_PYTHON_CONFIGURATOR="configurator")
    result = subprocess.run(
        launcher(sys.executable, "-c", "pass"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "did not configure otel-agents" in result.stderr
    assert "OTEL_PYTHON_DISTRO=otel_agents" in result.stderr
