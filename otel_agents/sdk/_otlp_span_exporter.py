"""The OTLP/HTTP span exporter: the stock exporter's transport, retries and limits, our encoder's bytes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as _Stock
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_agents.api import _counters as stats
from otel_agents.api._guard import contained
from otel_agents.sdk._otlp_encode import TraceRequestEncoder

# What of the stock exporter (opentelemetry-exporter-otlp-proto-http 1.45) the fast path uses; an
# exporter without them (another version) exports through its own code, unchanged.
_STOCK_PARTS = ("_client", "_metrics", "_max_request_size", "_shutdown")


_log = logging.getLogger("otel_agents")
# Spans a receiver took in but refused (OTLP partial success: rejected_spans in a 2xx answer).
DROP_REJECTED = "spans.otlp.rejected"


class OTLPSpanExporter(_Stock):
    """The stock ``OTLPSpanExporter`` (and its name, which drop reasons carry) sending the bytes
    ``TraceRequestEncoder`` writes, for a third of the stock encoder's CPU; sending, retries,
    headers, compression, TLS and the request size limit stay the stock exporter's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = TraceRequestEncoder()
        self._fast = all(hasattr(self, part) for part in _STOCK_PARTS)
        self._answer: Any = None
        self._warned_rejected = False
        submit = getattr(self._client, "_submit", None) if self._fast else None
        if callable(submit):
            # The stock client keeps no answer it took as a success; a partial success (spans the
            # receiver refused) is in that answer's body, so the last one is kept to be read.
            def keep_answer(data: bytes, timeout: float) -> Any:
                self._answer = answer = submit(data, timeout)
                return answer

            self._client._submit = keep_answer  # type: ignore[method-assign]

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not self._fast or self._shutdown:
            return super().export(spans)
        try:
            data = self._encoder.encode(spans)
        except Exception as exc:
            if not contained("otlp.encode", exc):
                raise
            return super().export(spans)  # the stock encoder skips what it cannot encode
        with self._metrics.export_operation(len(spans)) as result:
            limit = self._max_request_size
            if 0 < limit < len(data):
                # As the stock exporter does: the batch is refused before it is sent.
                result.error = ValueError(f"serialized span request of {len(data)} bytes exceeds {limit}")
                _log.warning(
                    "otel_agents: dropping a span batch of %d bytes: over max_request_size", len(data)
                )
                return SpanExportResult.FAILURE
            self._answer = None
            sent = self._client.export(data)
            if not sent.success:
                result.error = sent.error
                return SpanExportResult.FAILURE
        self._count_rejected()
        return SpanExportResult.SUCCESS

    def _count_rejected(self) -> None:
        """Count (and once, report) the spans the receiver's partial success says it refused."""
        answer, self._answer = self._answer, None
        if answer is None:
            return
        try:
            body = answer.content()
            if not body:
                return
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
                ExportTraceServiceResponse,
            )

            partial = ExportTraceServiceResponse.FromString(body).partial_success
        except Exception:  # noqa: BLE001 - an answer we cannot read refused nothing we can count
            return
        if partial.rejected_spans > 0:
            stats.count_drop(DROP_REJECTED, partial.rejected_spans)
            if not self._warned_rejected:
                self._warned_rejected = True
                _log.warning(
                    "otel_agents: the OTLP receiver refused %d span(s) of a batch it took: %s",
                    partial.rejected_spans,
                    partial.error_message[:200] or "no reason given",
                )
