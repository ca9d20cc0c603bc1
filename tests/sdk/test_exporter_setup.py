"""Exporter selection: OTLP over gRPC by option, reaching a real gRPC receiver in the test."""

from __future__ import annotations

from typing import Any

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from tests.support.otlp_grpc_receiver import GrpcReceiver


def test_otlp_grpc_round_trip(make_pipeline: Any) -> None:
    """otlp_protocol='grpc' sends redacted spans to a real OTLP/gRPC receiver on 127.0.0.1."""
    receiver = GrpcReceiver()
    try:
        pipeline = make_pipeline(exporter="otlp", otlp_protocol="grpc", otlp_endpoint=receiver.endpoint)
        with oa.agent("a"), oa.tool("t") as t:
            t.set_attribute("note", "key AKIAIOSFODNN7EXAMPLE")
        assert pipeline.telemetry.force_flush(10)
        names = sorted(s.name for s in receiver.spans)
        assert names == ["execute_tool t", "invoke_agent a"]
        tool = next(s for s in receiver.spans if s.name == "execute_tool t")
        attrs = {a.key: a.value.string_value for a in tool.attributes}
        assert attrs["note"] == "key [REDACTED:aws_key]"
        assert attrs[semconv.GEN_AI_AGENT_NAME] == "a"
    finally:
        receiver.close()
