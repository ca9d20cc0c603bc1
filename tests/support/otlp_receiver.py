"""A real OTLP/HTTP (protobuf) receiver on 127.0.0.1 for tests, decoding what it is sent."""

from __future__ import annotations

import http.server
import ssl
import threading
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

HOST = "127.0.0.1"


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


@dataclass
class Span:
    """One received span, decoded to plain Python."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    scope: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


class Receiver:
    """A real OTLP/HTTP protobuf receiver on 127.0.0.1."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.lock = threading.Lock()
        # (path, lower-cased headers) of every request, to check headers and compression.
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.logs: list[ExportLogsServiceRequest] = []
        # Answer requests with an OTLP partial success refusing this many spans, log records or
        # data points (0: none).
        self.reject_spans = 0
        self.reject_logs = 0
        self.reject_points = 0
        receiver = self
        kinds: dict[str, tuple[type[Any], list[Any]]] = {
            "/v1/traces": (ExportTraceServiceRequest, self.traces),
            "/v1/metrics": (ExportMetricsServiceRequest, self.metrics),
            "/v1/logs": (ExportLogsServiceRequest, self.logs),
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.headers.get("Content-Encoding") == "gzip":
                    import gzip

                    body = gzip.decompress(body)
                kind, sink = kinds[self.path]
                message = kind()
                message.ParseFromString(body)
                with receiver.lock:
                    sink.append(message)
                answer = b""
                response: Any = None
                if receiver.reject_spans and self.path == "/v1/traces":
                    response = ExportTraceServiceResponse()
                    response.partial_success.rejected_spans = receiver.reject_spans
                    response.partial_success.error_message = "span names too long"
                elif receiver.reject_logs and self.path == "/v1/logs":
                    response = ExportLogsServiceResponse()
                    response.partial_success.rejected_log_records = receiver.reject_logs
                    response.partial_success.error_message = "bodies too long"
                elif receiver.reject_points and self.path == "/v1/metrics":
                    response = ExportMetricsServiceResponse()
                    response.partial_success.rejected_data_points = receiver.reject_points
                    response.partial_success.error_message = "too many series"
                if response is not None:
                    answer = response.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.endpoint = f"{scheme}://{HOST}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[Span]:
        out: list[Span] = []
        with self.lock:
            for request in self.traces:
                for rs in request.resource_spans:
                    resource = {a.key: _value(a.value) for a in rs.resource.attributes}
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            out.append(
                                Span(
                                    name=s.name,
                                    trace_id=s.trace_id.hex(),
                                    span_id=s.span_id.hex(),
                                    parent_id=s.parent_span_id.hex(),
                                    kind=s.kind,
                                    scope=ss.scope.name,
                                    attributes={a.key: _value(a.value) for a in s.attributes},
                                    resource=resource,
                                )
                            )
        return out

    def metric_names(self) -> set[str]:
        with self.lock:
            return {
                m.name
                for r in self.metrics
                for rm in r.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            }

    def metric_instance_ids(self, name: str) -> set[str]:
        """The ``service.instance.id`` of every resource that exported metric ``name``."""
        with self.lock:
            return {
                str(_value(a.value))
                for r in self.metrics
                for rm in r.resource_metrics
                if any(m.name == name for sm in rm.scope_metrics for m in sm.metrics)
                for a in rm.resource.attributes
                if a.key == "service.instance.id"
            }

    def headers(self, path: str) -> list[dict[str, str]]:
        """The headers of every request received on ``path`` (``/v1/traces``, ...)."""
        with self.lock:
            return [headers for got, headers in self.requests if got == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def log_records(self) -> list[Any]:
        """Every log record received so far, as protobuf messages."""
        with self.lock:
            return [
                lr
                for request in self.logs
                for rl in request.resource_logs
                for sl in rl.scope_logs
                for lr in sl.log_records
            ]
