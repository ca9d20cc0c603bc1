"""Bounded batching: counted drops, deadlines that hold with a hanging exporter, fork safety."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from otel_agents.api import _counters as stats
from otel_agents.sdk._batching import BatchWorker, run_bounded


class _Gated:
    """An export that waits for ``gate`` before keeping each batch in ``exported``."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.exported: list[int] = []

    def __call__(self, batch: Sequence[int]) -> bool:
        self.gate.wait(5)
        self.exported.extend(batch)
        return True


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_full_queue_drops_and_counts() -> None:
    """Items beyond the queue bound are dropped and counted, never blocking the caller."""
    stats.reset()
    export = _Gated()
    worker: BatchWorker[int] = BatchWorker(
        "w", export, max_queue_size=10, max_batch_size=5, schedule_delay=0.01
    )
    start = time.monotonic()
    for i in range(100):
        worker.put(i)
    assert time.monotonic() - start < 0.5
    export.gate.set()
    assert worker.shutdown(5)
    assert stats.drops()["w.queue_full"] == 100 - len(export.exported)
    assert 10 <= len(export.exported) <= 15


def test_put_many_keeps_what_fits_and_counts_the_rest() -> None:
    """A whole batch handed on at once fills the queue to its bound; the rest is dropped and counted."""
    stats.reset()
    export = _Gated()
    worker: BatchWorker[int] = BatchWorker(
        "many", export, max_queue_size=10, max_batch_size=100, schedule_delay=5
    )
    worker.put_many(list(range(4)))
    worker.put_many(list(range(4, 20)))
    worker.put_many([])
    export.gate.set()
    deadline = time.monotonic() + 2  # well before the 5 s schedule: put_many woke the worker
    while len(export.exported) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(export.exported) >= 10
    assert worker.flush(5)
    # In order: the first items are the ones kept.
    assert export.exported == list(range(len(export.exported)))
    assert stats.drops()["many.queue_full"] == 20 - len(export.exported)
    # 10 if the first four were still queued, 14 if the worker had already taken them.
    assert len(export.exported) in (10, 14)
    assert worker.shutdown(5)


def test_failing_exporter_is_counted_and_memory_stays_bounded() -> None:
    """An exporter that fails or raises loses batches to counted drops; the queue never grows past its bound."""
    stats.reset()
    calls = 0

    def export(batch: Sequence[int]) -> bool:
        nonlocal calls
        calls += 1
        if calls % 2:
            raise ConnectionError("collector down")
        return False

    os.environ.pop("OTEL_AGENTS_RAISE_INTERNAL_ERRORS", None)
    try:
        worker: BatchWorker[int] = BatchWorker(
            "f", export, max_queue_size=50, max_batch_size=10, schedule_delay=0.01
        )
        for i in range(1000):
            worker.put(i)
            assert len(worker._queue) <= 50
        assert worker.flush(5)
        worker.shutdown(1)
    finally:
        os.environ["OTEL_AGENTS_RAISE_INTERNAL_ERRORS"] = "1"
    drops = stats.drops()
    assert drops.get("f.export_failed", 0) + drops.get("f.queue_full", 0) == 1000
    assert stats.errors()["f.export"] >= 1


def test_shutdown_is_bounded_with_a_hanging_exporter() -> None:
    """Shutdown returns by its deadline even when the exporter never returns, and counts what was left."""
    stats.reset()
    release = threading.Event()

    def export(batch: Sequence[int]) -> bool:
        release.wait(30)
        return True

    worker: BatchWorker[int] = BatchWorker(
        "h", export, max_queue_size=100, max_batch_size=1, schedule_delay=0.01
    )
    for i in range(5):
        worker.put(i)
    time.sleep(0.05)
    start = time.monotonic()
    assert worker.shutdown(0.3) is False
    assert time.monotonic() - start < 1.0
    assert stats.drops()["h.shutdown_timeout"] >= 3
    release.set()


def test_put_after_shutdown_is_counted() -> None:
    """Records arriving after shutdown are counted as dropped, not queued forever."""
    stats.reset()
    worker: BatchWorker[int] = BatchWorker("c", lambda b: True)
    worker.shutdown(1)
    worker.put(1)
    assert stats.drops()["c.after_shutdown"] == 1


def test_flush_exports_everything_queued() -> None:
    """flush() returns once every queued item has been exported."""
    seen: list[int] = []
    worker: BatchWorker[int] = BatchWorker("fl", lambda b: seen.extend(b) or True, schedule_delay=10)
    for i in range(7):
        worker.put(i)
    assert worker.flush(2)
    assert seen == list(range(7))
    worker.shutdown(1)


def test_forked_child_exports_its_own_items() -> None:
    """After fork the child gets a fresh queue and thread: it exports its items, not the parent's."""
    read_fd, write_fd = os.pipe()

    def export(batch: Sequence[int]) -> bool:
        os.write(write_fd, (",".join(map(str, batch)) + "\n").encode())
        return True

    worker: BatchWorker[int] = BatchWorker("fork", export, schedule_delay=0.01)
    worker.put(1)
    assert worker.flush(2)
    worker.put(2)  # queued in the parent at fork time: must not be exported by the child
    pid = os.fork()
    if pid == 0:
        worker.put(3)
        ok = worker.flush(2)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    worker.flush(2)
    os.close(write_fd)
    lines = os.read(read_fd, 1000).decode().split()
    assert sorted(lines) == ["1", "2", "3"]
    worker.shutdown(1)


def test_run_bounded_returns_by_deadline() -> None:
    """A call that hangs is abandoned at the deadline (the caller gets False)."""
    start = time.monotonic()
    assert run_bounded(lambda: time.sleep(5), 0.1, "sleep") is False
    assert time.monotonic() - start < 0.5


def test_run_bounded_reports_failure_as_false(lenient: None) -> None:
    """A call that raises or returns False within the deadline still counts as not done."""

    def boom() -> None:
        raise RuntimeError("flush failed")

    assert run_bounded(boom, 1, "boom") is False
    assert run_bounded(lambda: False, 1, "false") is False
    assert run_bounded(lambda: None, 1, "none") is True


def test_batches_stop_at_an_eighth_of_the_byte_budget() -> None:
    """With large items a batch holds about an eighth of the queue's byte budget, however many fit by count."""
    stats.reset()
    batches: list[list[str]] = []

    def export(batch: Sequence[str]) -> bool:
        batches.append(list(batch))
        return True

    worker: BatchWorker[str] = BatchWorker(
        "w", export, max_batch_size=512, schedule_delay=30, max_queue_bytes=8000, size=len
    )
    for _ in range(40):
        worker.put("x" * 150)
    assert worker.flush(5)
    assert sum(map(len, batches)) == 40 and stats.drops() == {}
    assert max(sum(map(len, b)) for b in batches) <= 1000 + 150
    assert len(batches) >= 6
    assert worker.shutdown(2)


def test_each_item_is_measured_once_and_its_size_reaches_the_export() -> None:
    """An item's size is measured when it is queued, never again, and the export gets it with the item."""
    measured: list[str] = []

    def size(item: str) -> int:
        measured.append(item)
        return len(item)

    got: list[tuple[list[str], list[int]]] = []

    def export_sizes(batch: Sequence[str], sizes: Sequence[int]) -> bool:
        got.append((list(batch), list(sizes)))
        return True

    worker: BatchWorker[str] = BatchWorker(
        "sized",
        lambda batch: False,
        max_queue_bytes=1_000,
        max_batch_size=100,
        size=size,
        export_sizes=export_sizes,
        schedule_delay=5,
    )
    worker.put("aaa")
    worker.put("bb", 7)  # measured by the caller already
    worker.put_many(["c", "dddd"], [None, 11])
    assert worker.flush(5)
    assert sorted(measured) == ["aaa", "c"]
    assert [pair for batch in got for pair in zip(*batch, strict=True)] == [
        ("aaa", 3),
        ("bb", 7),
        ("c", 1),
        ("dddd", 11),
    ]
    assert worker._bytes == 0
    assert worker.shutdown(5)


class _Timed:
    """An export that keeps each batch's size and the time it arrived."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, int]] = []

    def __call__(self, batch: Sequence[int]) -> bool:
        self.batches.append((time.monotonic(), len(batch)))
        return True


def test_partial_batches_handed_on_a_few_at_a_time_are_exported_once_per_schedule_delay() -> None:
    """Items arriving a few at a time (as the chain hands them on) leave in one export per
    ``schedule_delay``, not one per handful: each export has a fixed cost."""
    export = _Timed()
    worker: BatchWorker[int] = BatchWorker("spaced", export, max_batch_size=10_000, schedule_delay=0.3)
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < 1.0:
        worker.put_many([sent, sent + 1])
        sent += 2
        time.sleep(0.01)
    assert worker.flush(5)
    assert sum(n for _, n in export.batches) == sent
    # One right away (nothing had gone for longer than the delay), then one per 0.3 s, and the flush.
    assert len(export.batches) <= 6, export.batches
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(export.batches[:-1])]  # the flush's is shorter
    assert all(gap >= 0.25 for gap in gaps), gaps
    assert worker.shutdown(2)


def test_a_full_batch_goes_at_once_and_a_partial_one_waits_for_its_time() -> None:
    """A whole batch is exported without waiting for ``schedule_delay``; the partial rest waits for it."""
    export = _Timed()
    worker: BatchWorker[int] = BatchWorker("full", export, max_batch_size=8, schedule_delay=30)
    worker.put(0)  # the first item after a quiet spell goes at once
    deadline = time.monotonic() + 5
    while not export.batches and time.monotonic() < deadline:
        time.sleep(0.005)
    worker.put_many(list(range(1, 12)))
    deadline = time.monotonic() + 5
    while len(export.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.1)
    assert [n for _, n in export.batches] == [1, 8]
    assert worker.flush(5)
    assert [n for _, n in export.batches] == [1, 8, 3]
    assert worker.shutdown(2)


def test_the_first_item_after_a_quiet_spell_is_exported_without_waiting() -> None:
    """An item queued when nothing has been exported for ``schedule_delay`` goes at once; the next one
    waits until the delay since that export has passed."""
    export = _Timed()
    worker: BatchWorker[int] = BatchWorker("quiet", export, max_batch_size=512, schedule_delay=0.5)
    put_at = time.monotonic()
    worker.put(1)
    deadline = put_at + 5
    while not export.batches and time.monotonic() < deadline:
        time.sleep(0.002)
    assert export.batches and export.batches[0][0] - put_at < 0.2
    worker.put(2)
    while len(export.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.002)
    assert len(export.batches) == 2
    assert 0.45 <= export.batches[1][0] - export.batches[0][0] < 1.5
    assert worker.shutdown(2)


def test_small_batches_while_the_worker_keeps_up_and_big_ones_from_a_backlog() -> None:
    """With ``small_batch_size`` a batch goes as soon as that many are queued, that many at a time;
    a backlog of four small batches or more goes in batches up to ``max_batch_size``."""
    sizes: list[int] = []
    gate = threading.Event()
    gate.set()

    def export(batch: Sequence[int]) -> bool:
        gate.wait(5)
        sizes.append(len(batch))
        return True

    worker: BatchWorker[int] = BatchWorker(
        "small", export, max_batch_size=512, small_batch_size=8, schedule_delay=30
    )
    worker.put(-1)  # the first item after a quiet spell goes at once
    wait_until(lambda: sizes == [1])
    for done in (2, 3, 4):
        worker.put_many(list(range(8)))
        wait_until(lambda done=done: len(sizes) == done)
    assert sizes == [1, 8, 8, 8]
    gate.clear()  # the exporter stalls: a backlog builds up behind its next batch
    worker.put_many(list(range(8)))
    wait_until(lambda: worker._inflight == 8)
    worker.put_many(list(range(100)))
    gate.set()
    assert worker.flush(5)
    assert sizes == [1, 8, 8, 8, 8, 100]
    assert worker.shutdown(2)


def test_an_exporter_asks_its_queue_for_small_batches() -> None:
    """An exporter's ``small_batch_size`` (the store's: 32) reaches its queue's worker."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from otel_agents.sdk._batching import SpanExportQueue
    from otel_agents.store._exporters import StoreSpanExporter

    class Small(SpanExporter):
        small_batch_size = 8

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    queue = SpanExportQueue(Small(), max_batch_size=512)
    assert (queue._worker._small_batch, queue._worker._max_batch) == (8, 512)
    assert StoreSpanExporter.small_batch_size == 32
    queue.shutdown(1)


class _FailsOnce(BatchWorker[int]):
    """A worker whose own loop (not its exporter) fails the first time it takes a batch."""

    failed = False

    def _take(self) -> Any:
        if not self.failed:
            self.failed = True
            raise RuntimeError("a bug in the worker's loop")
        return super()._take()


def test_a_failure_in_the_workers_own_loop_is_counted_and_the_worker_goes_on(lenient: None) -> None:
    """The worker's thread survives a failure outside the export: it is counted, and what was
    queued, and what comes after, is still exported (a dead worker would lose it all in silence)."""
    stats.reset()
    export = _Gated()
    export.gate.set()
    worker = _FailsOnce("loop", export, max_queue_size=100, max_batch_size=10, schedule_delay=0.01)
    worker.put_many([1, 2, 3])
    wait_until(lambda: export.exported == [1, 2, 3])
    worker.put(4)
    assert worker.flush(5)
    assert export.exported == [1, 2, 3, 4]
    assert stats.errors()["loop.worker"] == 1
    assert worker.shutdown(5)
