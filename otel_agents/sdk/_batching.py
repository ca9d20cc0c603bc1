"""Bounded, fork-safe batching off the request path, with counted drops and deadlines that hold."""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_agents.api import _counters as stats
from otel_agents.api._guard import contained, never_raise, report, strict
from otel_agents.api._threads import start_daemon
from otel_agents.sdk._failed_exports import releasing

T = TypeVar("T")


def run_bounded(fn: Callable[[], Any], timeout: float, name: str) -> bool:
    """Run ``fn`` in a daemon thread for at most ``timeout`` s; True only if it finished in time,
    did not raise, and did not return False."""
    done = threading.Event()
    outcome = [False]

    def target() -> None:
        try:
            outcome[0] = fn() is not False
        except Exception as exc:  # noqa: BLE001 - reported; the caller gets False
            report(name, exc)
        finally:
            done.set()

    start_daemon(target, f"otel-agents-{name}")
    return done.wait(max(timeout, 0.0)) and outcome[0]


# Items one size measure reads in a nested value, at most; the rest count 16 bytes each.
_MEASURED_ITEMS = 10_000


def value_text_bytes(value: object) -> int:
    """What a value other than a plain string holds in text: the lengths of the strings and bytes
    in it, through tuples, lists and dicts, plus 16 for each item; reads ``_MEASURED_ITEMS`` at
    most (a cyclic value stops there)."""
    n = 0
    left = _MEASURED_ITEMS
    stack = [value]
    while stack and left > 0:
        item = stack.pop()
        cls = item.__class__
        left -= 1
        if cls is str or cls is bytes:
            n += len(item)  # type: ignore[arg-type]
        elif cls is tuple or cls is list:
            # Counted whole now, read only as far as the budget goes.
            n += 16 * len(item)  # type: ignore[arg-type]
            stack.extend(itertools.islice(item, left))  # type: ignore[call-overload]
        elif cls is dict:
            n += 16 * len(item)  # type: ignore[arg-type]
            for key, sub in itertools.islice(item.items(), left):  # type: ignore[attr-defined]
                n += len(key) if key.__class__ is str else 16
                stack.append(sub)
    return n


def span_text_bytes(span: ReadableSpan) -> int:
    """What a queued span holds in text: its name and the text in its attributes, events and links."""
    n = len(span.name)
    attributes: Any = span._attributes
    if attributes.__class__ is BoundedAttributes:
        # Its dict, read in place: the SDK refuses writes once the span has ended, and iterating
        # BoundedAttributes itself costs a locked Python call per item.
        attributes = attributes._dict
    elif attributes and attributes.__class__ is not dict:
        attributes = dict(attributes)
    if attributes:
        for value in attributes.values():
            if value.__class__ is str:
                n += len(value)
            elif value.__class__ is tuple:
                n += value_text_bytes(value)  # a tuple of long strings holds them all
    if span._events:  # the property builds a new tuple: skip it for the common span without events
        for event in span.events:
            n += len(event.name)
            for value in (event.attributes or {}).values():
                n += len(value) if type(value) is str else value_text_bytes(value)
    if span._links:
        for link in span.links:
            for value in (link.attributes or {}).values():
                n += len(value) if type(value) is str else value_text_bytes(value)
    return n


def log_text_bytes(record: ReadableLogRecord) -> int:
    """What a queued log record holds in text: the text in its body and attributes."""
    body = record.log_record.body
    # A structured body (a dict or list, as the OTel logs API allows) holds all its strings.
    n = len(body) if type(body) is str else 48 + value_text_bytes(body)
    for value in (record.log_record.attributes or {}).values():
        n += len(value) if type(value) is str else value_text_bytes(value)
    return n


# A worker whose loop failed waits this long before it goes on (never a hot loop).
_RETRY_S: Final = 0.1


class BatchWorker(Generic[T]):
    """A bounded queue drained by one daemon thread that hands batches to ``export``."""

    def __init__(
        self,
        name: str,
        export: Callable[[Sequence[T]], bool],
        *,
        max_queue_size: int = 2048,
        max_batch_size: int = 512,
        schedule_delay: float = 1.0,
        max_queue_bytes: int | None = None,
        size: Callable[[T], int] | None = None,
        export_sizes: Callable[[Sequence[T], Sequence[int]], bool] | None = None,
        hold_partial: bool = True,
        small_batch_size: int | None = None,
    ) -> None:
        self.name = name
        # A partial batch waits until ``schedule_delay`` has passed since the last export, as the
        # SDK's batch processors space theirs: each export has a fixed cost (an OTLP request, a
        # store commit) that a few items at a time would pay many times over. False: everything
        # queued is worked through as soon as the worker wakes (the chain's own stage).
        self._hold_partial = hold_partial
        self._export = export
        # Given, it exports instead, with each item's size as measured when it was queued.
        self._export_sizes = export_sizes
        self._max_queue = max_queue_size
        # Bytes are bounded only with a size function; ``size`` runs on the putting thread.
        self._max_bytes = max_queue_bytes if size is not None else None
        self._size = size
        self._max_batch = max_batch_size
        # Given, batches of this many while the worker keeps up; a backlog of four of them goes in
        # batches up to ``max_batch_size`` (each export's fixed cost then paid less often).
        self._small_batch = min(small_batch_size, max_batch_size) if small_batch_size else max_batch_size
        # A batch stops at an eighth of the byte budget too: with huge values, what one export
        # builds from a batch (the store's rows and line, an OTLP request) is several times its text.
        self._max_batch_bytes = max(self._max_bytes // 8, 1) if self._max_bytes is not None else None
        self._delay = schedule_delay
        self._init_state()
        # A forked child inherits the queue (the parent's records) but not the thread.
        ref = weakref.ref(self)

        def reinit_in_child() -> None:
            worker = ref()
            if worker is not None:
                worker._init_state()

        os.register_at_fork(after_in_child=reinit_in_child)

    def _init_state(self) -> None:
        self._pid = os.getpid()
        # Each item with its size in bytes (0 when not measured): measured once, when it is queued.
        self._queue: deque[tuple[T, int]] = deque()
        self._cond = threading.Condition(threading.Lock())
        # The worker waits on this, and a put wakes it by releasing it (a C call, no lock taken):
        # SIGTERM's handler runs shutdown on top of whatever Python code the app's thread is in,
        # and a put that held ``_cond`` there (Condition.notify is Python) made that shutdown wait
        # out its whole budget for the lock, and store nothing. Released: rung, not yet heard.
        self._bell = threading.Lock()
        self._bell.acquire()
        self._starting = threading.Lock()
        self._inflight = 0
        self._abandoned = 0
        # Approximate under contention (an unlocked +=), re-zeroed whenever the queue is empty.
        self._bytes = 0
        self._flush_requests = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        # When the last batch was taken (monotonic); none yet: the first partial batch is due.
        self._last_export = -float("inf")

    def put(self, item: T, size: int | None = None) -> None:
        """Queue ``item`` (of ``size`` bytes, if the caller measured it already); when the queue is
        full or closed it is dropped and counted."""
        if self._closed:
            stats.count_drop(f"{self.name}.after_shutdown")
            return
        queue = self._queue
        if len(queue) >= self._max_queue:
            stats.count_drop(f"{self.name}.queue_full")
            return
        wake = False
        n = 0
        if self._max_bytes is not None:
            assert self._size is not None
            n = self._size(item) if size is None else size
            before = self._bytes
            if before + n > self._max_bytes:
                stats.count_drop(f"{self.name}.queue_bytes_full")
                return
            self._bytes = before + n
            # Half the byte budget is as good a reason to start exporting as a full batch.
            wake = before <= self._max_bytes // 2 < before + n
        was_empty = not queue
        queue.append((item, n))
        # A worker this put starts finds the item itself: a ring as well would be heard after it had
        # taken the item, and start another run at once.
        if self._thread is None and self._start():
            return
        # Wake the worker once, when a batch fills (it drains until empty, so later puts need not),
        # or when the first item after an export is due already (a quiet spell since the last one).
        if wake or len(queue) == self._small_batch or (was_empty and self._due_by_time()):
            self._ring()

    def put_many(self, items: Sequence[T], sizes: Sequence[int | None] | None = None) -> None:
        """Queue ``items`` (with ``sizes``, where the caller measured them: None where it did not)
        and wake the worker; what does not fit is dropped and counted."""
        if not items:
            return
        if self._closed:
            stats.count_drop(f"{self.name}.after_shutdown", len(items))
            return
        queue = self._queue
        was_empty = not queue
        room = max(self._max_queue - len(queue), 0)
        if room < len(items):
            stats.count_drop(f"{self.name}.queue_full", len(items) - room)
            items = items[:room]
        if self._max_bytes is not None:
            queue.extend(self._fit_bytes(items, sizes))
        else:
            queue.extend((item, 0) for item in items)
        if self._thread is None and self._start():
            return  # as in put()
        if not self._hold_partial or self._full() or (was_empty and self._due_by_time()):
            self._ring()

    def _fit_bytes(self, items: Sequence[T], sizes: Sequence[int | None] | None) -> list[tuple[T, int]]:
        """The leading ``items`` that fit the byte budget (counted in) with their sizes; the rest
        dropped and counted."""
        assert self._size is not None and self._max_bytes is not None
        measure = self._size
        total = self._bytes
        fitted: list[tuple[T, int]] = []
        for i, item in enumerate(items):
            known = sizes[i] if sizes is not None else None
            n = measure(item) if known is None else known
            if total + n > self._max_bytes:
                stats.count_drop(f"{self.name}.queue_bytes_full", len(items) - i)
                break
            total += n
            fitted.append((item, n))
        self._bytes = total
        return fitted

    def _start(self) -> bool:
        """Start the worker unless another put just did; True if this call started it."""
        # Not under ``_cond``: the first put may be where SIGTERM's handler interrupts (see _bell).
        with self._starting:
            if self._thread is not None:
                return False
            self._thread = start_daemon(self._run, f"otel-agents-{self.name}")
            return True

    def _ring(self) -> None:
        """Wake the worker (see ``_bell``)."""
        with contextlib.suppress(RuntimeError):  # rung already, not yet heard
            self._bell.release()

    def _full(self) -> bool:
        """A whole (small) batch is queued, or the queue is at its bound (it drops what comes next),
        or half the byte budget: worth an export now."""
        return len(self._queue) >= min(self._small_batch, self._max_queue) or (
            self._max_bytes is not None and self._bytes > self._max_bytes // 2
        )

    def _due_by_time(self) -> bool:
        return time.monotonic() - self._last_export >= self._delay

    def _due(self) -> bool:
        """Whether what is queued goes now; called under the lock."""
        if self._closed or self._flush_requests or not self._hold_partial:
            return True
        return bool(self._queue) and (self._full() or self._due_by_time())

    def _run(self) -> None:
        # Whatever goes wrong here, the worker goes on: a dead one would lose every later record
        # without a word (a wait that overflowed once did).
        while True:
            try:
                if self._run_once():
                    return
            except Exception as exc:
                if not contained(f"{self.name}.worker", exc):
                    raise
                time.sleep(_RETRY_S)

    def _run_once(self) -> bool:
        """Wait until a batch is due and export what is; True once closed and empty."""
        if not self._hold_partial:
            # A ring left from before what is checked next (a put rings after it queues): heard
            # now, or it would start a run as soon as this one ended.
            self._bell.acquire(blocking=False)
            with self._cond:
                idle = not self._queue and not self._closed and not self._flush_requests
            if idle:
                self._bell.acquire(timeout=self._delay)
        else:
            while True:
                self._bell.acquire(blocking=False)  # as above
                with self._cond:
                    if self._due():
                        break
                    left = self._last_export + self._delay - time.monotonic()
                    # Nothing queued: a put that finds the batch due rings (or this timeout).
                    timeout = max(left, 0.001) if self._queue else self._delay
                self._bell.acquire(timeout=timeout)
        with self._cond:
            closing = self._closed
        self._drain()
        return closing and not self._queue

    def _drain(self) -> None:
        while True:
            with self._cond:
                if self._queue and not self._due():
                    return  # a partial batch after a full one: it waits for its time
                batch, sizes = self._take()
                if batch:
                    self._last_export = time.monotonic()
                self._inflight = len(batch)
                if not batch:
                    self._bytes = 0
                    self._flush_requests = 0
                    self._cond.notify_all()
                    return
            taken = sum(sizes)
            if taken:
                self._bytes = max(self._bytes - taken, 0)
            ok = False
            error: Exception | None = None
            # Exporting must not trace itself (an instrumented HTTP client would loop forever).
            token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
            try:
                with releasing():
                    if self._export_sizes is not None:
                        ok = bool(self._export_sizes(batch, sizes))
                    else:
                        ok = bool(self._export(batch))
            except Exception as exc:  # noqa: BLE001 - an exporter must not kill the worker
                report(f"{self.name}.export", exc)
                error = exc
            finally:
                otel_context.detach(token)
            with self._cond:
                # A batch shutdown gave up on was counted as lost then: never count it twice.
                if not ok and not self._abandoned:
                    stats.count_drop(f"{self.name}.export_failed", len(batch))
                self._inflight = 0
                self._abandoned = 0
                self._cond.notify_all()
            if error is not None and strict():
                raise error  # under the test suite a bug here must fail the test, worker or not

    def _batch_size(self) -> int:
        small = self._small_batch
        return small if len(self._queue) < 4 * small else self._max_batch

    def _take(self) -> tuple[list[T], list[int]]:
        """The next batch (up to ``max_batch_size`` items and about an eighth of the byte budget)
        and the items' sizes; called under the lock."""
        queue = self._queue
        limit = self._max_batch_bytes
        if limit is None or self._bytes <= limit:
            # All that is queued fits the byte cap: no need to add the sizes up while taking.
            pairs = [queue.popleft() for _ in range(min(self._batch_size(), len(queue)))]
        else:
            pairs = []
            total = 0
            size = self._batch_size()
            while queue and len(pairs) < size and total < limit:
                pair = queue.popleft()
                total += pair[1]
                pairs.append(pair)
        return [item for item, _ in pairs], [n for _, n in pairs]

    @property
    def worker_thread(self) -> threading.Thread | None:
        """The thread that exports, once the first item started it."""
        return self._thread

    def flush(self, timeout: float) -> bool:
        """Export everything queued now; False if that did not finish within ``timeout`` s."""
        deadline = time.monotonic() + max(timeout, 0.0)
        if self._thread is None or self._pid != os.getpid():
            return not self._queue
        with self._cond:
            self._flush_requests += 1
            self._ring()
            while self._queue or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def shutdown(self, timeout: float) -> bool:
        """Stop accepting, export what is queued within ``timeout`` s, count what is left."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._ring()
        thread = self._thread
        drained = True
        if thread is not None and self._pid == os.getpid():
            thread.join(max(deadline - time.monotonic(), 0.0))
        elif self._queue and self._pid == os.getpid():
            # No worker yet (SIGTERM's handler may interrupt the first put as it starts one): what
            # is queued is exported from here, within the budget.
            drained = run_bounded(self._drain, max(deadline - time.monotonic(), 0.0), f"{self.name}.drain")
        with self._cond:
            left = len(self._queue)
            self._queue.clear()
            # The batch the worker is still exporting dies with the process: count it as well.
            stuck = self._inflight if (thread is not None and thread.is_alive()) or not drained else 0
            self._abandoned = stuck
        if left + stuck:
            stats.count_drop(f"{self.name}.shutdown_timeout", left + stuck)
        return left + stuck == 0 and drained and (thread is None or not thread.is_alive())


class _Exporter(Protocol):
    def shutdown(self) -> Any: ...


class _Batching(Generic[T]):
    """What the span and log batch processors share: a worker, an exporter, bounded flush and stop."""

    _worker: BatchWorker[T]
    _exporter: _Exporter

    @never_raise("batch.force_flush", default=False)
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._worker.flush(timeout_millis / 1000)

    @never_raise("batch.shutdown")
    def shutdown(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        self._worker.shutdown(timeout)
        run_bounded(self._exporter.shutdown, deadline - time.monotonic(), "exporter.shutdown")


class SpanExportQueue(_Batching[ReadableSpan], SpanProcessor):
    """One exporter's bounded queue of ended spans; not the SDK's BatchSpanProcessor (accept(), seconds)."""

    NEEDS_ON_START = False

    def __init__(
        self, exporter: SpanExporter, name: str = "spans", *, unsampled: bool = False, **options: Any
    ) -> None:
        self._exporter: SpanExporter = exporter
        # The local store takes recorded-but-unsampled spans too, for its run rows and stats only.
        self._unsampled = unsampled
        options.setdefault("size", span_text_bytes)
        # An exporter may ask for small batches while it keeps up (the store: a write holds the GIL).
        small = getattr(exporter, "small_batch_size", None)
        if isinstance(small, int) and small > 0:
            options.setdefault("small_batch_size", small)
        self._worker = BatchWorker(name, self._export, **options)

    def _export(self, batch: Sequence[ReadableSpan]) -> bool:
        # An exporter that counts its own losses (the store) has counted this one: not twice.
        ok = self._exporter.export(batch) is SpanExportResult.SUCCESS
        return ok or getattr(self._exporter, "counts_own_drops", False) is True

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        return None

    @never_raise("batch.on_end")
    def on_end(self, span: ReadableSpan) -> None:
        self.accept(span)

    def accept(self, span: ReadableSpan) -> None:
        """Queue ``span`` if it is sampled (or this queue takes unsampled ones); unguarded."""
        context = span.context
        if self._unsampled or (context is not None and context.trace_flags.sampled):
            self._worker.put(span)

    def accept_many(self, spans: Sequence[ReadableSpan], sizes: Sequence[int | None] | None = None) -> None:
        """Queue the sampled ones of ``spans`` (of ``sizes``, where known) and start exporting them;
        unguarded: callers guard it."""
        if self._unsampled:
            self._worker.put_many(spans, sizes)
            return
        kept = [i for i, s in enumerate(spans) if s.context is not None and s.context.trace_flags.sampled]
        if len(kept) == len(spans):
            self._worker.put_many(spans, sizes)
        else:
            known = [sizes[i] for i in kept] if sizes is not None else None
            self._worker.put_many([spans[i] for i in kept], known)


class LogExportQueue(_Batching[ReadableLogRecord], LogRecordProcessor):
    """One exporter's bounded queue of log records (not the SDK's BatchLogRecordProcessor: seconds)."""

    def __init__(self, exporter: LogRecordExporter, name: str = "logs", **options: Any) -> None:
        self._exporter: LogRecordExporter = exporter
        options.setdefault("size", log_text_bytes)
        self._worker = BatchWorker(name, self._export, **options)

    def _export(self, batch: Sequence[ReadableLogRecord]) -> bool:
        ok = self._exporter.export(batch) is LogRecordExportResult.SUCCESS
        return ok or getattr(self._exporter, "counts_own_drops", False) is True

    @never_raise("batch.on_emit")
    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        # A frozen copy without the context: the queue must not keep request contexts alive.
        record = copy.copy(log_record.log_record)
        record.context = otel_context.Context()
        self._worker.put(
            ReadableLogRecord(
                log_record=record,
                resource=log_record.resource or Resource.get_empty(),
                instrumentation_scope=log_record.instrumentation_scope,
                limits=log_record.limits,
            )
        )
