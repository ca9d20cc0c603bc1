"""Our OTLP/JSON lines decode to exactly the protobuf requests the SDK's own OTLP encoders build."""

from __future__ import annotations

import base64
import math
from typing import Any

import orjson
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from store_spans import finished, provider, workflow_trace

from otel_agents.store import _otlp_json as otlp_json

_ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def _hex_ids_to_base64(node: Any) -> Any:
    """protobuf's JSON parser wants base64 bytes; OTLP/JSON carries ids as hex."""
    if isinstance(node, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in _ID_KEYS and isinstance(v, str)
            else _hex_ids_to_base64(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def _parse(obj: dict[str, Any], message: Any) -> Any:
    text = orjson.dumps(obj)
    return json_format.Parse(orjson.dumps(_hex_ids_to_base64(orjson.loads(text))), message)


def test_traces_match_the_sdk_protobuf_encoder() -> None:
    """Spans of every kind, with events, links, errors and all value types encode identically."""
    tp, mem = provider()
    workflow_trace(tp, fail_tool=True)
    tracer = tp.get_tracer("other-scope")
    first = finished(mem)
    with tracer.start_as_current_span(
        "producer",
        kind=SpanKind.PRODUCER,
        links=[Link(first[0].get_span_context(), {"why": "follows"})],
        attributes={
            "b": True,
            "f": 1.5,
            "i": -3,
            "s": "x",
            "arr": (1, 2),
            "sarr": ("a", "b"),
            "nan": math.nan,
        },
    ) as span:
        span.set_status(Status(StatusCode.OK))
    spans = first + finished(mem)
    ours = _parse(otlp_json.traces_request(spans), ExportTraceServiceRequest())
    assert ours == encode_spans(spans)


def test_logs_match_the_sdk_protobuf_encoder() -> None:
    """Log records with bodies, severities, attributes and trace context encode identically."""
    from opentelemetry._logs import LogRecord, SeverityNumber

    exporter = InMemoryLogRecordExporter()
    lp = LoggerProvider()
    lp.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = lp.get_logger("otlp-json-test", "3.0")
    tp, _ = provider()
    with tp.get_tracer("t").start_as_current_span("s"):
        logger.emit(
            LogRecord(
                body="disk /var almost full",
                severity_text="WARN",
                severity_number=SeverityNumber.WARN,
                attributes={"disk.pct": 93.5, "host": "a"},
            )
        )
    logger.emit(LogRecord(body={"structured": [1, "two"]}, event_name="agent.done"))
    records = list(exporter.get_finished_logs())
    assert len(records) == 2
    ours = _parse(otlp_json.logs_request(records), ExportLogsServiceRequest())
    assert ours == encode_logs(records)


def test_metrics_match_the_sdk_protobuf_encoder() -> None:
    """Sums, gauges, up-down counters and histograms encode identically."""
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader])
    meter = mp.get_meter("m", "2.0")
    meter.create_counter("calls", unit="1", description="calls").add(3, {"tool": "search"})
    meter.create_up_down_counter("inflight").add(-2)
    meter.create_histogram("latency", unit="s").record(0.25, {"tool": "search"})
    meter.create_gauge("temp").set(21.5)
    data = reader.get_metrics_data()
    assert data is not None
    ours = _parse(otlp_json.metrics_request(data), ExportMetricsServiceRequest())
    assert ours == encode_metrics(data)


def test_non_finite_doubles_use_the_proto3_json_spelling() -> None:
    """NaN and infinities become "NaN"/"Infinity"/"-Infinity", which JSON parsers accept."""
    values = [otlp_json.any_value(v) for v in (math.nan, math.inf, -math.inf)]
    assert values == [{"doubleValue": "NaN"}, {"doubleValue": "Infinity"}, {"doubleValue": "-Infinity"}]
