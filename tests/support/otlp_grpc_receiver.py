"""A real OTLP/gRPC receiver on 127.0.0.1 for tests: spans kept, metrics and logs counted."""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class GrpcReceiver(
    trace_service_pb2_grpc.TraceServiceServicer,
    metrics_service_pb2_grpc.MetricsServiceServicer,
    logs_service_pb2_grpc.LogsServiceServicer,
):
    """Listens on 127.0.0.1; ``endpoint`` is its ``http://`` URL (plain text, as the exporter takes it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: list[Any] = []
        self.trace_requests = 0
        self.metric_requests = 0
        self.log_requests = 0
        # Answer with an OTLP partial success refusing this many spans, log records or points.
        self.reject_spans = 0
        self.reject_logs = 0
        self.reject_points = 0
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self.server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(self, self.server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(self, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{port}"

    def Export(self, request: Any, context: Any) -> Any:
        with self.lock:
            if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
                self.trace_requests += 1
                for rs in request.resource_spans:
                    for ss in rs.scope_spans:
                        self.spans.extend(ss.spans)
                answer = trace_service_pb2.ExportTraceServiceResponse()
                answer.partial_success.rejected_spans = self.reject_spans
                return answer
            if isinstance(request, metrics_service_pb2.ExportMetricsServiceRequest):
                self.metric_requests += 1
                metrics = metrics_service_pb2.ExportMetricsServiceResponse()
                metrics.partial_success.rejected_data_points = self.reject_points
                return metrics
            self.log_requests += 1
            logs = logs_service_pb2.ExportLogsServiceResponse()
            logs.partial_success.rejected_log_records = self.reject_logs
            return logs

    def close(self) -> None:
        self.server.stop(0)
