"""The OTLP/HTTP span exporter: our encoder's bytes through the stock transport, the stock path as fallback."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.sdk import _otlp_partial, _otlp_span_exporter
from otel_agents.sdk._otlp_span_exporter import OTLPSpanExporter
from tests.support.otlp_receiver import Receiver


def _spans(n: int = 3) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    for i in range(n):
        with provider.get_tracer("t").start_as_current_span(f"s{i}", attributes={"i": i, "op": "chat"}):
            pass
    return list(exporter.get_finished_spans())


def _received(receiver: Receiver) -> list[ExportTraceServiceRequest]:
    with receiver.lock:
        return list(receiver.traces)


def _sends_the_stock_message_if_encode_raises(
    exporter: OTLPSpanExporter, error: Exception, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make our encoder raise ``error``; the export still succeeds with the stock encoder's message."""

    def raising(spans: Any) -> bytes:
        raise error

    monkeypatch.setattr(exporter._encoder, "encode", raising)
    spans = _spans()
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert _received(receiver) == [encode_spans(spans)]


def test_configure_sends_spans_our_encoder_wrote_to_a_real_receiver(
    make_pipeline: Any, otlp_receiver: Any
) -> None:
    """configure(exporter="otlp") over HTTP uses this exporter, and the receiver parses what it wrote,
    redaction applied."""
    pipeline = make_pipeline(exporter="otlp", otlp_endpoint=otlp_receiver.endpoint)
    with oa.tool("login") as tool:
        tool.set_attribute("password", "hunter2")
    assert pipeline.telemetry.force_flush(10)
    chain = pipeline.telemetry.tracer_provider._active_span_processor
    (ours,) = [q._exporter for q in chain._batches if isinstance(q._exporter, OTLPSpanExporter)]
    assert ours._fast and ours._encoder._pairs  # the fast path ran
    (span,) = [s for s in otlp_receiver.spans() if s.name.endswith("login")]
    assert span.attributes["password"] == "[REDACTED:secret_key]"


def test_the_sent_request_is_the_stock_encoders_message(otlp_receiver: Any) -> None:
    """What reaches the receiver decodes to the message the stock encoder makes of the same spans."""
    spans = _spans()
    exporter = OTLPSpanExporter(endpoint=f"{otlp_receiver.endpoint}/v1/traces", timeout=5)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert _received(otlp_receiver) == [encode_spans(spans)]


def test_an_exporter_without_the_stock_internals_exports_through_the_stock_code(
    monkeypatch: pytest.MonkeyPatch, otlp_receiver: Any
) -> None:
    """With another version of the stock exporter (parts the fast path needs missing), spans still go,
    through the stock exporter's own export."""
    monkeypatch.setattr(_otlp_span_exporter, "_STOCK_PARTS", ("_client", "_not_in_this_version"))
    exporter = OTLPSpanExporter(endpoint=f"{otlp_receiver.endpoint}/v1/traces", timeout=5)
    assert not exporter._fast
    _sends_the_stock_message_if_encode_raises(
        exporter, AssertionError("the encoder ran"), otlp_receiver, monkeypatch
    )


def test_an_encoder_failure_is_counted_and_the_batch_goes_through_the_stock_encoder(
    lenient: None, monkeypatch: pytest.MonkeyPatch, otlp_receiver: Any
) -> None:
    """A bug in our encoder costs its batch nothing: the stock encoder sends it, and the error is counted."""
    stats.reset()
    exporter = OTLPSpanExporter(endpoint=f"{otlp_receiver.endpoint}/v1/traces", timeout=5)
    _sends_the_stock_message_if_encode_raises(
        exporter, RuntimeError("encoder bug"), otlp_receiver, monkeypatch
    )
    assert stats.errors().get("otlp.encode") == 1


def test_a_request_over_max_request_size_is_refused_before_it_is_sent(otlp_receiver: Any) -> None:
    """A batch whose request is over ``max_request_size`` fails (its queue counts it) and nothing is sent."""
    exporter = OTLPSpanExporter(
        endpoint=f"{otlp_receiver.endpoint}/v1/traces", timeout=5, max_request_size=64
    )
    assert exporter.export(_spans(5)) is SpanExportResult.FAILURE
    assert exporter.export(_spans(0)) is SpanExportResult.SUCCESS
    assert len(_received(otlp_receiver)) == 1


def test_gzip_and_headers_stay_the_stock_exporters() -> None:
    """Compression and headers are applied by the stock transport to our bytes."""
    from opentelemetry.exporter.otlp.proto.http import Compression

    receiver = Receiver()
    try:
        exporter = OTLPSpanExporter(
            endpoint=f"{receiver.endpoint}/v1/traces",
            timeout=5,
            compression=Compression.Gzip,
            headers={"x-tenant": "acme"},
        )
        spans = _spans()
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        (_, headers), *_ = receiver.requests
        assert headers["content-encoding"] == "gzip" and headers["x-tenant"] == "acme"
        assert _received(receiver) == [encode_spans(spans)]
    finally:
        receiver.close()


def test_spans_a_receiver_refuses_in_a_partial_success_are_counted_once_reported(
    otlp_receiver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 2xx answer whose OTLP partial success refuses spans is a success for the batch, and the
    refused spans are counted as drops (shown by doctor) and named once in a warning."""
    stats.reset()
    exporter = OTLPSpanExporter(endpoint=f"{otlp_receiver.endpoint}/v1/traces", timeout=5)
    assert exporter.export(_spans(3)) is SpanExportResult.SUCCESS
    assert stats.drops() == {}
    otlp_receiver.reject_spans = 2
    with caplog.at_level("WARNING", logger="otel_agents"):
        assert exporter.export(_spans(3)) is SpanExportResult.SUCCESS
        assert exporter.export(_spans(3)) is SpanExportResult.SUCCESS
    assert stats.drops() == {_otlp_partial.DROP_REASONS["traces"]: 4}
    warnings = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert warnings == [
        "otel_agents: the OTLP receiver refused 2 span(s) of a batch it took: span names too long"
    ]
    assert len(_received(otlp_receiver)) == 3
