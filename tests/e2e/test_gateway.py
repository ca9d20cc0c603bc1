"""The gateway tier for real: agent collector -> load_balancing by trace id -> 2 tail-sampling gateways -> Jaeger."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    HOST,
    ROOT,
    Collector,
    Deps,
    Supervisor,
    collector_env,
    free_port,
    http_get,
    http_post,
    start_collector,
    start_jaeger,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)

CHEAP_TRACES = 10


def start_gateway(sup: Supervisor, deps: Deps, workdir: Path, name: str, backend: str) -> str:
    """Start one gateway.yaml collector; returns its OTLP gRPC endpoint."""
    grpc, health, telemetry = free_port(), free_port(), free_port()
    env = {
        "OTEL_AGENTS_COLLECTOR_BIN": str(deps.collector),
        "OTEL_AGENTS_COLLECTOR_CONFIG": str(ROOT / "collector/gateway.yaml"),
        "OTEL_AGENTS_GATEWAY_HOST": HOST,
        "OTEL_AGENTS_GATEWAY_OTLP_GRPC_PORT": str(grpc),
        "OTEL_AGENTS_GATEWAY_HEALTH_PORT": str(health),
        "OTEL_AGENTS_GATEWAY_TELEMETRY_PORT": str(telemetry),
        "OTEL_AGENTS_COLLECTOR_DATA_DIR": str(workdir / f"{name}-data"),
        "OTEL_AGENTS_TRACES_BACKEND_ENDPOINT": backend,
        "OTEL_AGENTS_SAMPLING_DECISION_WAIT": "2s",
        # No random share, so every kept trace was kept by a rule.
        "OTEL_AGENTS_SAMPLING_PERCENT": "0",
        "OTEL_AGENTS_SAMPLING_COST_USD": "0.05",
        "OTEL_AGENTS_SAMPLING_SLOW_MS": "5000",
    }
    proc = sup.start(name, ["bash", str(ROOT / "collector/run.sh")], env)
    wait_until(
        lambda: http_get(f"http://{HOST}:{health}/", 1)[0] == 200,
        60,
        what=f"{name} health\n{proc.tail()}",
    )
    return f"{HOST}:{grpc}"


def span(trace_id: str, span_id: str, parent: str, name: str, **kw: Any) -> dict[str, Any]:
    now = time.time_ns()
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": name.split(maxsplit=1)[0]}}]
    if "cost" in kw:
        attrs.append({"key": "otel_agents.cost.usd", "value": {"doubleValue": kw["cost"]}})
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(now - int(kw.get("seconds", 0.05) * 1e9)),
        "endTimeUnixNano": str(now),
        "attributes": attrs,
        "status": {"code": 2 if kw.get("error") else 0},
    }


def send(col: Collector, one_span: dict[str, Any]) -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "gw-e2e"}}]},
                "scopeSpans": [{"spans": [one_span]}],
            }
        ]
    }
    status, reply = http_post(f"{col.otlp_http}/v1/traces", json.dumps(body).encode(), "application/json")
    assert status == 200, reply


def send_trace(col: Collector, root: dict[str, Any], child: dict[str, Any]) -> str:
    """A two-span trace, each span in its own request: routing must reunite them."""
    trace_id = secrets.token_hex(16)
    root_id, child_id = secrets.token_hex(8), secrets.token_hex(8)
    send(col, span(trace_id, child_id, root_id, "execute_tool lookup", **child))
    send(col, span(trace_id, root_id, "", "invoke_agent researcher", **root))
    return trace_id


def test_tail_sampling_keeps_errored_expensive_and_slow_runs_whole(
    deps: Deps, tmp_path: Path, supervisor: Supervisor
) -> None:
    """Errored, expensive and slow runs reach Jaeger with all their spans; cheap fast ones do not."""
    jaeger_otlp, jaeger_query = start_jaeger(supervisor, deps)
    gateways = [start_gateway(supervisor, deps, tmp_path, f"gateway{i}", jaeger_otlp) for i in (1, 2)]
    agent = start_collector(
        supervisor,
        Collector(collector_env(deps, tmp_path, OTEL_AGENTS_GATEWAY_ENDPOINTS=f"[{', '.join(gateways)}]")),
    )
    kept = {
        "error": send_trace(agent, {}, {"error": True}),
        "expensive": send_trace(agent, {"cost": 0.12}, {"cost": 0.0001}),
        "slow": send_trace(agent, {"seconds": 6.0}, {}),
    }
    dropped = [send_trace(agent, {"cost": 0.001}, {}) for _ in range(CHEAP_TRACES)]

    def spans_in_jaeger(trace_id: str) -> int:
        status, body = http_get(f"{jaeger_query}/api/traces/{trace_id}", 2)
        if status != 200:
            return 0
        data = json.loads(body).get("data") or []
        return len(data[0]["spans"]) if data else 0

    for why, trace_id in kept.items():
        wait_until(lambda t=trace_id: spans_in_jaeger(t) == 2, 60, what=f"{why} trace, 2 spans")
    # Kept traces arrived, so the decisions for the cheap ones (same wait) are made too.
    time.sleep(3)
    assert [t for t in dropped if spans_in_jaeger(t)] == []
