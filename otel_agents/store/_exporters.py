"""The store as OpenTelemetry SDK exporters for spans, metrics and logs; none ever raises."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_agents.api import _counters as stats
from otel_agents.api._guard import contained, never_raise
from otel_agents.store._writer import DROP_SQLITE, StoreWriter

SITE = "store.export"


class _Flushing:
    """What the span and log exporters share: flush the writer on force_flush and on shutdown.

    The writer counts (and persists) every record it loses, under a reason saying why, so the
    batch processor must not count a failed export again.
    """

    counts_own_drops = True
    _writer: StoreWriter

    def _write(self, write: Any, records: Sequence[Any]) -> bool:
        try:
            return bool(write(records))
        except Exception as exc:
            stats.count_drop(DROP_SQLITE, len(records))
            if not contained(SITE, exc):
                raise
            return False

    @never_raise(SITE)
    def shutdown(self) -> None:
        self._writer.flush()

    @never_raise(SITE, default=False)
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._writer.flush()
        return True


class StoreSpanExporter(_Flushing, SpanExporter):
    """Writes span batches to the local store.

    With ``unsampled_counts_only`` (set by ``configure()`` under its default ``record_unsampled``),
    a span whose sampled flag is off adds only its run row and its stats, not its trace.
    """

    # Spans per export while its queue keeps up (a backlog goes in batches up to the configured
    # size). A write holds the GIL for most of its time: 512 spans about 10 ms, which a request
    # arriving meanwhile waited out (FastAPI's p99 at one connection 6-8.6 ms, against 3.3-3.6 ms
    # with 32); each write also has a fixed cost, so a backlog is cheaper in big ones.
    small_batch_size = 32

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.unsampled_counts_only = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        ok = self._write(
            functools.partial(self._writer.write_spans, unsampled_counts_only=self.unsampled_counts_only),
            spans,
        )
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE


class StoreLogExporter(_Flushing, LogRecordExporter):
    """Writes log record batches to the local store."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        if not batch:
            return LogRecordExportResult.SUCCESS
        ok = self._write(self._writer.write_logs, batch)
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE


class StoreMetricExporter(MetricExporter):
    """Writes each metrics collection to the local store (the SDK's default temporality)."""

    def __init__(self, writer: StoreWriter) -> None:
        super().__init__()
        self._writer = writer

    @never_raise(SITE, default=MetricExportResult.FAILURE)
    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object
    ) -> MetricExportResult:
        ok = self._writer.write_metrics(metrics_data)
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    @never_raise(SITE)
    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        self._writer.flush()

    @never_raise(SITE, default=False)
    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        self._writer.flush()
        return True
