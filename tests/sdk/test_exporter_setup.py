"""Exporter selection: OTLP over gRPC by option, reaching a real gRPC receiver in the test."""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

import otel_agents as oa
from otel_agents.api import _semconv as semconv


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.lock = threading.Lock()

    def Export(self, request: Any, context: Any) -> Any:
        with self.lock:
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    self.spans.extend(ss.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def Export(self, request: Any, context: Any) -> Any:
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _Logs(logs_service_pb2_grpc.LogsServiceServicer):
    def Export(self, request: Any, context: Any) -> Any:
        return logs_service_pb2.ExportLogsServiceResponse()


def test_otlp_grpc_round_trip(make_pipeline: Any) -> None:
    """otlp_protocol='grpc' sends redacted spans to a real OTLP/gRPC receiver on 127.0.0.1."""
    traces = _Traces()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(traces, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_Logs(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        pipeline = make_pipeline(
            exporter="otlp", otlp_protocol="grpc", otlp_endpoint=f"http://127.0.0.1:{port}"
        )
        with oa.agent("a"), oa.tool("t") as t:
            t.set_attribute("note", "key AKIAIOSFODNN7EXAMPLE")
        assert pipeline.telemetry.force_flush(10)
        names = sorted(s.name for s in traces.spans)
        assert names == ["execute_tool t", "invoke_agent a"]
        tool = next(s for s in traces.spans if s.name == "execute_tool t")
        attrs = {a.key: a.value.string_value for a in tool.attributes}
        assert attrs["note"] == "key [REDACTED:aws_key]"
        assert attrs[semconv.GEN_AI_AGENT_NAME] == "a"
    finally:
        server.stop(0)
