"""The tracer provider's one span processor: stamping, rewriting, span metrics and batching, fused."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from functools import partial

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, SynchronousMultiSpanProcessor

from otel_agents.api import _pricing as pricing
from otel_agents.api._guard import attempt, contained
from otel_agents.api._threads import Pacer
from otel_agents.sdk._batching import BatchWorker, SpanExportQueue, span_text_bytes
from otel_agents.sdk.processors._fanout import flush_all, shutdown_all
from otel_agents.sdk.processors._limits import count_limit_drops
from otel_agents.sdk.processors._normalise import Normaliser
from otel_agents.sdk.processors._rewrite import Rewriter, Unchanged, rewrite_or_strip
from otel_agents.sdk.processors._settle import settle
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor
from otel_agents.sdk.processors._stamping import is_own

# A span holding more text than this is truncated before it is queued (a slice per long value).
EAGER_BYTES = 16 * 1024
# Spans queued before the chain's thread is woken (it then works until the queue is empty).
WAKE_EVERY = 16


class SpanChain(SynchronousMultiSpanProcessor):
    """Stamps foreign spans on start; after each span ends, rewrites it (redaction, truncation) once
    and hands the result to the span metrics, every exporter's queue and every user processor.

    ``configure()`` installs it as the tracer provider's active span processor, so a processor added
    later with ``tracer_provider.add_span_processor`` lands behind redaction too. With no user
    processor, ending a span only queues it: the rewrite and the rest run in batches on the chain's
    thread, off the request path and cheaper per span. A user processor gets ``on_end`` on the
    ending thread, as in the SDK, so while there is one the whole chain runs there.

    It is the provider's multi-span processor, so it takes that type (and overrides all of it).
    """

    def __init__(
        self,
        rewriters: Sequence[Rewriter],
        *,
        metrics: SpanMetricsProcessor | None = None,
        exporters: Sequence[SpanExportQueue] = (),
        processors: Sequence[SpanProcessor] = (),
        max_queue_size: int = 2048,
        max_queue_bytes: int = 8 * 1024 * 1024,
        max_batch_size: int = 512,
        schedule_delay: float = 1.0,
        shutdown_timeout: float = 5.0,
        normaliser: Normaliser | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated
        self._normaliser = normaliser if normaliser is not None else Normaliser()
        self._rewriters = tuple(rewriters)
        # Cheap rewriters (truncation) that run on the ending thread for a span holding much text,
        # so the chain's queue never holds more than the cut values.
        self._eager = tuple(r for r in self._rewriters if getattr(r, "eager", False))
        self._unchanged = Unchanged()
        self._metrics = metrics
        self._batches = tuple(exporters)
        self._stage = BatchWorker(
            "spans.chain",
            self._process,
            max_queue_size=max_queue_size,
            # Woken every few spans, not every export batch: a run of 512 spans held a core for
            # tens of milliseconds, and the requests that arrived meanwhile were the p99 at one
            # connection. Each exporter's queue exports a whole batch at once and a partial one
            # once ``schedule_delay`` has passed since its last export.
            max_batch_size=min(max_batch_size, WAKE_EVERY),
            schedule_delay=schedule_delay,
            # Spans wait here before truncation: bounded in bytes, not only in spans.
            max_queue_bytes=max_queue_bytes,
            size=span_text_bytes,
            export_sizes=self._process,
            # Everything queued is worked through once the thread wakes; the exporters' queues
            # space their exports.
            hold_partial=False,
        )
        self._shutdown_timeout = shutdown_timeout
        # The chain's thread's GIL hand-overs, paced across its batches.
        self._pacer = Pacer()
        self._stopped = False
        # Set once a reconfigure replaced this chain: what still arrives here is handed on to it.
        self._successor: SpanChain | None = None
        self._lock = threading.Lock()
        # Tuples replaced whole under the lock: hooks iterate them without locking.
        self._processors: tuple[SpanProcessor, ...] = ()
        self._starters: tuple[SpanProcessor, ...] = ()
        for processor in processors:
            self.add_span_processor(processor)

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        """Add a processor after the exporters; it sees every span start, and each end after redaction."""
        with self._lock:
            self._processors += (span_processor,)
            # on_start runs for every span: skip processors that declare theirs does nothing.
            if getattr(span_processor, "NEEDS_ON_START", True):
                self._starters += (span_processor,)

    def forward_to(self, successor: SpanChain) -> None:
        """Hand every span that starts or ends here from now on to ``successor`` instead."""
        self._successor = successor

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        successor = self._successor
        if successor is not None:
            successor.on_start(span, parent_context)
            return
        normaliser = self._normaliser
        try:
            if not is_own(span):
                normaliser.start(span, parent_context)
            elif normaliser.open_spans:
                normaliser.start_own(span, parent_context)
        except Exception as exc:
            if not contained("chain.stamp", exc):
                raise
        for processor in self._starters:
            try:
                processor.on_start(span, parent_context)
            except Exception as exc:
                if not contained("chain.processor.on_start", exc):
                    raise

    def on_end(self, span: ReadableSpan) -> None:
        successor = self._successor
        if successor is not None:
            successor.on_end(span)
            return
        # Foreign spans are read on the ending thread: their roll-ups must land before the
        # enclosing agent ends, and a duplicate must be known before its twin is counted.
        if not is_own(span):  # type: ignore[arg-type]
            try:
                span = self._normaliser.end(span)
            except Exception as exc:
                if not contained("chain.normalise", exc):
                    raise
        if self._processors:
            self._hand_on((span,), wake=False)
            return
        try:
            size = span_text_bytes(span)
            if size > EAGER_BYTES and self._eager:
                # No memory of unchanged values: it would hash the long value that is about to be
                # cut, and a value longer than the memory keeps is never found in it.
                span = rewrite_or_strip(span, self._eager)
                size = span_text_bytes(span)
            self._stage.put(span, size)
        except Exception as exc:
            if not contained("chain.on_end", exc):
                raise

    def _process(self, spans: Sequence[ReadableSpan], sizes: Sequence[int] | None = None) -> bool:
        self._hand_on(spans, wake=True, sizes=sizes)
        if self._metrics is not None:
            try:
                self._metrics.drain_if_many()
            except Exception as exc:
                if not contained("processor.metrics.drain", exc):
                    raise
        return True

    def _hand_on(
        self, spans: Sequence[ReadableSpan], *, wake: bool, sizes: Sequence[int] | None = None
    ) -> None:
        """Rewrite ``spans``, then give them to metrics, exporters and processors, each guarded.
        ``sizes``, each span's as queued here, go with the spans the rewrite left as they were."""
        rewriters, unchanged, metrics = self._rewriters, self._unchanged, self._metrics
        out: list[ReadableSpan] = []
        out_sizes: list[int | None] | None = [] if sizes is not None else None
        pacer = self._pacer if wake else None
        if pacer is not None:
            pacer.begin()
        for i, ended in enumerate(spans):
            if pacer is not None and i:
                pacer.step()
            span = ended
            try:
                count_limit_drops(ended)
            except Exception as exc:
                if not contained("chain.limits", exc):
                    raise
            if pricing.has_deferred():
                try:
                    span = settle(ended)
                except Exception as exc:
                    if not contained("chain.settle", exc):
                        raise
            rewritten = rewrite_or_strip(span, rewriters, unchanged)
            out.append(rewritten)
            if out_sizes is not None and sizes is not None:
                # Measured again by the exporters' queues only when the rewrite changed the span.
                out_sizes.append(sizes[i] if rewritten is ended else None)
            if metrics is not None:
                # Right after the rewrite, so both read the same one-slot attribute snapshot.
                try:
                    metrics.note(rewritten)
                except Exception as exc:
                    if not contained("processor.metrics.on_end", exc):
                        raise
        for batch in self._batches:
            try:
                if wake:
                    batch.accept_many(out, out_sizes)
                else:
                    for span in out:
                        batch.accept(span)
            except Exception as exc:
                if not contained("batch.on_end", exc):
                    raise
        for processor in self._processors:
            for span in out:
                try:
                    processor.on_end(span)
                except Exception as exc:
                    if not contained("chain.processor.on_end", exc):
                        raise

    def shutdown(self) -> None:
        self.shutdown_within(self._shutdown_timeout)

    def shutdown_within(self, timeout: float) -> None:
        """Stop within ``timeout`` seconds: queued spans exported or counted; later calls do nothing."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            return max(deadline - time.monotonic(), 0.0)

        # The chain's queue first: what it still holds goes to the exporters before they stop.
        attempt("chain.shutdown", lambda: self._stage.shutdown(remaining()))
        for batch in self._batches:
            attempt("chain.shutdown", partial(batch.shutdown, remaining()))
        shutdown_all(self._processors)

    def work_through_queue(self, timeout: float) -> None:
        """Have the chain's thread work through the spans queued so far, waiting at most ``timeout``
        seconds (not on that thread itself: it would wait for itself)."""
        if threading.current_thread() is not self._stage.worker_thread:
            self._stage.flush(timeout)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        deadline = time.monotonic() + timeout_millis / 1000
        # The chain's queue first: the exporters' flush then covers what it handed on.
        ok = attempt("chain.force_flush", lambda: self._stage.flush(timeout_millis / 1000))
        left_ms = int(max(deadline - time.monotonic(), 0.0) * 1000)
        return flush_all((*self._batches, *self._processors), left_ms) and ok
