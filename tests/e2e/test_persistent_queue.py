"""The collector's disk-backed sending queue: spans accepted while Jaeger is down survive a collector restart."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from .conftest import (
    HOST,
    Collector,
    Deps,
    Supervisor,
    collector_env,
    free_port,
    http_get,
    http_post,
    port_open,
    start_collector,
    start_jaeger,
    wait_until,
)

TRACES = 20


def one_span_trace(trace_id: str) -> bytes:
    now = time.time_ns()
    span = {
        "traceId": trace_id,
        "spanId": secrets.token_hex(8),
        "name": "invoke_agent queued",
        "kind": 1,
        "startTimeUnixNano": str(now - 1_000_000),
        "endTimeUnixNano": str(now),
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "queue-e2e"}}]}
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}
    return json.dumps(body).encode()


def test_spans_queued_on_disk_survive_a_collector_restart(
    deps: Deps, tmp_path: Path, supervisor: Supervisor
) -> None:
    """Spans accepted while Jaeger is down and kept through a collector restart reach Jaeger later."""
    jaeger_port = free_port()
    env = collector_env(deps, tmp_path, OTEL_AGENTS_JAEGER_ENDPOINT=f"{HOST}:{jaeger_port}")
    col = start_collector(supervisor, Collector(env))
    trace_ids = [secrets.token_hex(16) for _ in range(TRACES)]
    for trace_id in trace_ids:
        status, reply = http_post(f"{col.otlp_http}/v1/traces", one_span_trace(trace_id), "application/json")
        assert status == 200, reply
    # Let the exporter take the batch off the queue and fail on it at least once.
    time.sleep(3)
    assert col.proc is not None
    col.proc.stop()
    assert not port_open(int(env["OTEL_AGENTS_COLLECTOR_OTLP_HTTP_PORT"]))

    _, query = start_jaeger(supervisor, deps, otlp_grpc_port=jaeger_port)
    # Nothing can have reached this fresh, in-memory Jaeger yet.
    assert http_get(f"{query}/api/traces/{trace_ids[0]}", 2)[0] == 404
    col.proc.start()
    wait_until(col.healthy, 60, what="collector restart")

    def delivered() -> bool:
        return all(http_get(f"{query}/api/traces/{t}", 2)[0] == 200 for t in trace_ids)

    # Retries back off up to 30 s, so allow for one full back-off after the restart.
    wait_until(delivered, 60, what=f"{TRACES} queued traces in Jaeger")
