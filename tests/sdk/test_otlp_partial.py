"""What an OTLP/HTTP receiver refuses in a partial success is counted as drops, for every signal."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.sdk import _otlp_partial
from otel_agents.sdk._exporter_setup import otlp_exporter
from otel_agents.sdk._options import resolve


def test_log_records_and_points_a_receiver_refuses_are_counted_and_named_once(
    make_pipeline: Any, otlp_receiver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Through configure()'s OTLP/HTTP exporters, refused log records and data points are counted as
    drops per signal (beside spans) and each signal's first refusal is named in a warning."""
    otlp_receiver.reject_spans, otlp_receiver.reject_logs, otlp_receiver.reject_points = 1, 2, 3
    pipeline = make_pipeline(exporter="otlp", otlp_endpoint=otlp_receiver.endpoint)
    stats.reset()
    app = logging.getLogger("app.partial")
    with caplog.at_level("WARNING", logger="otel_agents"):
        for _ in range(2):
            with oa.tool("lookup"):
                app.warning("looked up")
            assert pipeline.telemetry.force_flush(10)
        pipeline.telemetry.shutdown(10)
    assert otlp_receiver.log_records() and otlp_receiver.metric_names()
    sent = {path: len(otlp_receiver.headers(path)) for path in ("/v1/traces", "/v1/logs", "/v1/metrics")}
    assert min(sent.values()) >= 2
    drops = stats.drops()
    # Each answer refuses a fixed number, whatever the request held.
    assert drops[_otlp_partial.DROP_REASONS["traces"]] == 1 * sent["/v1/traces"]
    assert drops[_otlp_partial.DROP_REASONS["logs"]] == 2 * sent["/v1/logs"]
    assert drops[_otlp_partial.DROP_REASONS["metrics"]] == 3 * sent["/v1/metrics"]
    refused = sorted(r.getMessage() for r in caplog.records if "refused" in r.getMessage())
    assert refused == [
        "otel_agents: the OTLP receiver refused 1 span(s) of a batch it took: span names too long",
        "otel_agents: the OTLP receiver refused 2 log record(s) of a batch it took: bodies too long",
        "otel_agents: the OTLP receiver refused 3 metric data point(s) of a batch it took: too many series",
    ]


def test_an_exporter_watched_twice_counts_each_refusal_once(otlp_receiver: Any) -> None:
    """watch() on an exporter already watched changes nothing: a refusal is one drop, not two."""
    exporter = otlp_exporter(resolve(otlp_endpoint=otlp_receiver.endpoint), "traces")
    _otlp_partial.watch(exporter, "traces")
    otlp_receiver.reject_spans = 5
    stats.reset()
    span = TracerProvider(shutdown_on_exit=False).get_tracer("t").start_span("s")
    span.end()
    exporter.export([span])  # type: ignore[list-item]
    assert stats.drops() == {_otlp_partial.DROP_REASONS["traces"]: 5}
    exporter.shutdown()


def test_an_answer_that_is_no_partial_success_counts_nothing(otlp_receiver: Any) -> None:
    """A 2xx answer whose body is not an OTLP response is a success that refused nothing."""
    exporter = otlp_exporter(resolve(otlp_endpoint=otlp_receiver.endpoint), "logs")
    stats.reset()
    reader = _otlp_partial._Refusals("logs")

    class Answer:
        status_code = 200

        def content(self) -> bytes:
            return b"\xff\xfe not protobuf"

    reader.read(Answer())
    reader.read(object())
    assert stats.drops() == {}
    exporter.shutdown()


def test_refusals_in_grpc_answers_are_counted_per_signal(make_pipeline: Any) -> None:
    """Over OTLP/gRPC too, the spans, log records and points a receiver's answers refuse are drops."""
    from tests.support.otlp_grpc_receiver import GrpcReceiver

    receiver = GrpcReceiver()
    try:
        receiver.reject_spans, receiver.reject_logs, receiver.reject_points = 1, 2, 3
        pipeline = make_pipeline(exporter="otlp", otlp_protocol="grpc", otlp_endpoint=receiver.endpoint)
        stats.reset()
        for _ in range(2):
            with oa.tool("lookup"):
                logging.getLogger("app.partial").warning("looked up")
            assert pipeline.telemetry.force_flush(10)
        pipeline.telemetry.shutdown(10)
    finally:
        receiver.close()
    assert min(receiver.trace_requests, receiver.log_requests, receiver.metric_requests) >= 2
    drops = stats.drops()
    assert drops[_otlp_partial.DROP_REASONS["traces"]] == 1 * receiver.trace_requests
    assert drops[_otlp_partial.DROP_REASONS["logs"]] == 2 * receiver.log_requests
    assert drops[_otlp_partial.DROP_REASONS["metrics"]] == 3 * receiver.metric_requests
