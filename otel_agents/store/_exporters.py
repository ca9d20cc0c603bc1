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
from otel_agents.api._threads import let_others_run
from otel_agents.store._writer import DROP_SQLITE, StoreWriter

SITE = "store.export"
# Spans written (rows built, one transaction) between two hand-overs of the GIL: a whole export
# batch of 512 held it for about 10 ms, which a request arriving meanwhile waited out. It is also
# the store's export batch (``max_export_batch_size``): 64-span slices back to back still made a
# 10 ms window in which a request waited behind a slice each time it gave up the GIL (FastAPI's
# p99 at one connection 1.2x what it was with 16-span exports; 1.1x with 32). 32 take about 0.85 ms,
# 26 us a span against 33 for 16, 23 for 64 and 20 for 512.
SLICE_SPANS = 32


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

    # Its queue exports at most this many spans at a time (see SLICE_SPANS).
    max_export_batch_size = SLICE_SPANS

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self.unsampled_counts_only = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        write = functools.partial(self._writer.write_spans, unsampled_counts_only=self.unsampled_counts_only)
        ok = True
        for start in range(0, len(spans), SLICE_SPANS):
            if start:
                let_others_run()
            # Each slice's losses are counted by the writer: a failed one does not stop the rest.
            ok = self._write(write, spans[start : start + SLICE_SPANS]) and ok
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
