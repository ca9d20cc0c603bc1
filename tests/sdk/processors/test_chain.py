"""The span chain: one processor that stamps, redacts, feeds metrics and exporters, each part isolated."""

from __future__ import annotations

import linecache
import sys
import threading
import time
import types
from typing import Any, cast

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, TraceFlags

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api import _threads
from otel_agents.api._threads import YIELD_EVERY
from otel_agents.sdk._batching import SpanExportQueue
from otel_agents.sdk.processors import _chain, _span_metrics
from otel_agents.sdk.processors._chain import WAKE_EVERY, SpanChain
from otel_agents.sdk.processors._redaction import Redactor
from otel_agents.sdk.processors._truncation import Truncator
from tests.support.waiting import wait_for

REDACTED = "[REDACTED:secret_key]"


def _provider(chain: SpanChain) -> TracerProvider:
    return TracerProvider(
        active_span_processor=cast(SynchronousMultiSpanProcessor, chain), shutdown_on_exit=False
    )


class Raising(SpanProcessor):
    """A user processor with a bug in every hook."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise RuntimeError("start")

    def on_end(self, span: Any) -> None:
        raise RuntimeError("end")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        raise RuntimeError("flush")

    def shutdown(self) -> None:
        raise RuntimeError("shutdown")


class RaisingExporter(SpanExporter):
    """An exporter that fails every export by raising."""

    def export(self, spans: Any) -> SpanExportResult:
        raise RuntimeError("export")


class ThreadRecorder(SpanProcessor):
    """Remembers the thread each on_end ran on and the attributes it saw."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.attributes: list[dict[str, Any]] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.threads.append(threading.get_ident())
        self.attributes.append(dict(span.attributes or {}))


def test_processor_added_through_the_provider_sees_redacted_spans(pipeline: Any) -> None:
    """A processor another library adds with tracer_provider.add_span_processor() gets spans after redaction."""
    late = InMemorySpanExporter()
    pipeline.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(late))
    with oa.tool("login") as t:
        t.set_attribute("password", "hunter2")
    pipeline.spans()
    (span,) = late.get_finished_spans()
    assert span.attributes["password"] == REDACTED


def test_without_user_processors_redaction_runs_off_the_ending_thread(make_pipeline: Any) -> None:
    """With no user processor, ending a span only queues it: redaction runs on the chain's own thread."""
    seen: list[str] = []

    def allow(key: str, value: str) -> bool:
        seen.append(threading.current_thread().name)
        return False

    pipeline = make_pipeline(redact_allow=allow)
    with oa.tool("login") as t:
        t.set_attribute("password", "hunter2")
    # The chain's thread may already have run (its first batch is due at once): never this one.
    assert threading.current_thread().name not in seen
    (span,) = [s for s in pipeline.spans() if s.name == "execute_tool login"]
    assert span.attributes["password"] == REDACTED
    assert seen == ["otel-agents-spans.chain"]


def test_user_processor_gets_on_end_on_the_ending_thread_after_redaction(make_pipeline: Any) -> None:
    """A user processor's on_end runs on the thread that ended the span, as in the SDK, and sees it redacted."""
    user = ThreadRecorder()
    pipeline = make_pipeline(span_processors=[user])
    with oa.tool("login") as t:
        t.set_attribute("password", "hunter2")
    assert user.threads == [threading.get_ident()]
    assert user.attributes[0]["password"] == REDACTED
    assert [s.name for s in pipeline.spans()] == ["execute_tool login"]


def test_full_chain_queue_drops_are_counted(lenient: None) -> None:
    """When the chain's queue is full, further spans are dropped and counted, never blocking the caller."""
    stats.reset()
    entered, release = threading.Event(), threading.Event()

    def slow(key: str, value: str) -> str:
        entered.set()
        release.wait(5)
        return value

    exporter = InMemorySpanExporter()
    chain = SpanChain(
        [slow],
        exporters=[SpanExportQueue(exporter, schedule_delay=0.01)],
        max_queue_size=2,
        max_batch_size=1,
        schedule_delay=0.01,
    )
    tracer = _provider(chain).get_tracer("t")
    tracer.start_span("first").end()
    assert entered.wait(5)  # the chain's thread is busy with the first span
    for i in range(5):
        tracer.start_span(f"s{i}").end()
    release.set()
    assert chain.force_flush(5000)
    assert stats.drops()["spans.chain.queue_full"] == 3
    assert [s.name for s in exporter.get_finished_spans()] == ["first", "s0", "s1"]
    chain.shutdown()


def test_span_chain_hostile_input_never_raises(lenient: None) -> None:
    """Hand-built spans with odd shapes, a raising processor and a raising exporter never raise out of the
    chain, the other parts still get every span, and the errors are counted."""
    stats.reset()
    good = InMemorySpanExporter()
    chain = SpanChain(
        [Redactor(), Truncator(64)],
        exporters=[
            SpanExportQueue(RaisingExporter(), name="bad", schedule_delay=0.01),
            SpanExportQueue(good, schedule_delay=0.01),
        ],
        processors=[Raising()],
    )
    provider = _provider(chain)
    with provider.get_tracer("t").start_as_current_span("s", attributes={"token": "abc", "n": 1}):
        pass
    context = SpanContext(1, 2, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    odd = [
        ReadableSpan(name="lists", context=context, attributes=cast(Any, {"l": ["sk-" + "a" * 40], "d": {}})),
        ReadableSpan(name="", context=None),
        ReadableSpan(name="x" * 10_000, context=context, attributes={"nan": float("nan"), "b": b"\xff"}),
    ]
    for span in odd:
        chain.on_end(span)
    assert chain.force_flush(5000) is False  # the raising processor's flush fails, and says so
    names = [s.name for s in good.get_finished_spans()]
    assert names[:2] == ["s", "lists"]
    assert len(names) == 3  # the span without a context is not sampled, so not exported
    assert good.get_finished_spans()[0].attributes["token"] == REDACTED
    assert "sk-" not in str(good.get_finished_spans()[1].attributes)
    provider.shutdown()
    errors = stats.errors()
    assert errors["chain.processor.on_start"] == 1
    assert errors["chain.processor.on_end"] == 4
    assert errors["bad.export"] >= 1
    assert errors["fanout.shutdown"] == 1
    assert errors["fanout.force_flush"] == 1


class Counting(SpanProcessor):
    """A user processor that needs both hooks."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started.append(span.name)

    def on_end(self, span: Any) -> None:
        self.ended.append(span.name)
        self.last_attributes = dict(span.attributes)


def test_user_processors_get_on_start_and_redacted_on_end(make_pipeline: Any) -> None:
    """A processor passed to configure() sees every span start, and its end only after redaction."""
    user = Counting()
    pipeline = make_pipeline(span_processors=[user])
    with oa.tool("t") as t:
        t.set_attribute("password", "hunter2")
    pipeline.spans()
    assert user.started == ["execute_tool t"]
    assert user.ended == ["execute_tool t"]
    assert user.last_attributes["password"] == "[REDACTED:secret_key]"


def test_a_span_nothing_rewrites_is_measured_once_on_its_way_out(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A span the rewrite leaves as it is is measured for the byte bounds once, on the ending thread."""
    captured = make_pipeline()
    chain = captured.telemetry.tracer_provider._active_span_processor
    calls: list[object] = []

    def counting(real: Any) -> Any:
        def size(item: Any) -> int:
            calls.append(item)
            return int(real(item))

        return size

    monkeypatch.setattr(_chain, "span_text_bytes", counting(_chain.span_text_bytes))
    for worker in [chain._stage, *(queue._worker for queue in chain._batches)]:
        worker._size = counting(worker._size)
    for i in range(10):
        with oa.tool("lookup", call_id=f"call-{i}"):
            pass
    assert captured.telemetry.force_flush(10)
    assert len([s for s in captured.spans() if s.name == "execute_tool lookup"]) == 10
    assert len(calls) == 10


def test_the_chain_hands_the_gil_over_while_it_works_through_a_batch(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain's thread lets waiting threads run every YIELD_EVERY spans of a batch, and the
    span metrics' drain every few dozen records or SDK histogram values, so a request never waits
    out a whole batch."""
    captured = make_pipeline(schedule_delay=30)
    chain = captured.telemetry.tracer_provider._active_span_processor
    metrics = chain._metrics
    yields: list[str] = []
    monkeypatch.setattr(_threads, "let_others_run", lambda: yields.append("yield"))
    # A clock that moves two slices of work at every read, no hand-over kept for a switch
    # interval: a loaded machine cannot slow the pace.
    clock = iter(range(10**9))
    monkeypatch.setattr(
        _threads, "time", types.SimpleNamespace(perf_counter=lambda: next(clock) * 2 * _threads.SLICE_S)
    )
    held: list[ReadableSpan] = []
    monkeypatch.setattr(chain._stage, "put", lambda span, size=None: held.append(span))
    for i in range(10 * YIELD_EVERY):
        with oa.tool("lookup", call_id=f"call-{i}"):
            pass
    metrics.drain()
    chain._process(held)  # as the chain's thread does with one batch
    assert len(yields) == 9
    yields.clear()
    metrics.drain()
    # A step per record after the first, and one per value the SDK's histogram records (this
    # pipeline's reader is the application's: the durations go through the SDK instrument).
    steps = (10 * YIELD_EVERY - 1) + 10 * YIELD_EVERY
    assert len(yields) == steps // _span_metrics._DRAIN_YIELD_EVERY


def test_the_gil_is_handed_over_less_often_to_a_thread_that_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """After each hand-over that another thread kept for a whole switch interval, the next comes
    after twice as many items; each quick one halves the gap again, down to the first pace."""
    item = [0]
    hold = [0.0]
    calls: list[int] = []
    # A clock only the hand-overs move: on a loaded machine a real sleep(0) can itself take 5 ms.
    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(_threads, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))

    def hand_over() -> None:
        calls.append(item[0])
        clock.now += hold[0]

    def step(pacer: _threads.Pacer) -> None:
        clock.now += _threads.SLICE_S / 15  # items long enough that every 16th ends a slice
        pacer.step()

    monkeypatch.setattr(_threads, "let_others_run", hand_over)
    quick = _threads.Pacer(16)
    for i in range(1, 121):
        item[0] = i
        step(quick)
    assert calls == [16, 32, 48, 64, 80, 96, 112]
    calls.clear()
    hold[0] = 0.006
    paced = _threads.Pacer(16)
    for i in range(1, 121):
        item[0] = i
        step(paced)
    assert calls == [16, 48, 112]
    calls.clear()
    hold[0] = 0.0  # the thread that kept it now gives it back at once: the first pace returns
    for i in range(121, 401):
        item[0] = i
        step(paced)
    assert calls == [240, 304, 336, 352, 368, 384, 400]


def test_the_gil_is_handed_over_only_after_a_slice_of_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Items quicker than a slice in all are worked through without a hand-over (each one sleeps
    the kernel's timer slack); the first comes once a slice has passed since the run began."""
    item = [0]
    calls: list[int] = []
    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(_threads, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    monkeypatch.setattr(_threads, "let_others_run", lambda: calls.append(item[0]))
    pacer = _threads.Pacer(16)
    clock.now = 100.0  # a thread that waited long before its first run: the wait is no work
    pacer.begin()
    for i in range(1, 2001):
        item[0] = i
        clock.now += 1e-6  # 1 us an item: a slice is 500 items, checked every 16
        pacer.step()
    assert calls == [512, 1024, 1536]
    calls.clear()
    clock.now += 10.0  # idle between two batches
    pacer.begin()
    for i in range(1, 257):
        item[0] = i
        clock.now += 1e-6
        pacer.step()
    assert calls == []


def _waiting(worker: Any) -> bool:
    """Whether ``worker``'s thread is blocked waiting to be woken (its frame on the bell's acquire)."""
    frame = sys._current_frames().get(worker._thread.ident) if worker._thread is not None else None
    return frame is not None and "_bell.acquire(timeout" in linecache.getline(
        frame.f_code.co_filename, frame.f_lineno
    )


def test_the_chain_starts_work_after_a_few_spans_not_a_whole_export_batch(make_pipeline: Any) -> None:
    """WAKE_EVERY ended spans wake the chain's thread, though an export batch holds 512 and the
    schedule delay is 30 s: it works in short runs that a request seldom waits behind."""
    captured = make_pipeline(schedule_delay=30)
    stage = captured.telemetry.tracer_provider._active_span_processor._stage
    with oa.tool("first"):
        pass
    # The thread starts on the first span and takes what is queued then; until it waits again, a
    # span queued meanwhile joins its run.
    wait_for(lambda: not stage._queue and _waiting(stage), timeout=5.0, interval=0.005)
    for i in range(WAKE_EVERY - 1):
        with oa.tool("lookup", call_id=f"call-{i}"):
            pass
    time.sleep(0.3)
    assert len(stage._queue) == WAKE_EVERY - 1
    with oa.tool("lookup", call_id="the-last"):
        pass
    wait_for(lambda: not stage._queue, timeout=2.0, interval=0.005)


def test_a_metric_collection_counts_every_span_that_ended_before_it(make_pipeline: Any) -> None:
    """Spans the chain's thread was not yet woken for (fewer than WAKE_EVERY, a 30 s schedule) are
    counted by a collection right after they end: a scrape just after a request sees its calls."""
    captured = make_pipeline(schedule_delay=30)
    stage = captured.telemetry.tracer_provider._active_span_processor._stage
    with oa.tool("first"):
        pass
    wait_for(lambda: not stage._queue and _waiting(stage), timeout=5.0, interval=0.005)
    for _ in range(3):
        with oa.tool("lookup"):
            pass
    assert len(stage._queue) == 3
    calls = [
        p.value
        for p in captured.metric_points(semconv.METRIC_CALLS)
        if p.attributes.get(semconv.GEN_AI_TOOL_NAME) == "lookup"
    ]
    assert calls == [3]


def test_the_chains_short_runs_reach_each_exporter_once_per_schedule_delay(make_pipeline: Any) -> None:
    """The chain hands spans on every few, but an exporter gets them in one call per
    ``schedule_delay`` (an OTLP request or a store commit each), not one per run of the chain."""
    captured = make_pipeline(schedule_delay=0.4)
    calls: list[int] = []
    keep = captured.spans_exporter.export

    def export(spans: Any) -> Any:
        calls.append(len(spans))
        return keep(spans)

    captured.spans_exporter.export = export
    start = time.monotonic()
    ended = 0
    while time.monotonic() - start < 1.0:
        for _ in range(WAKE_EVERY):
            with oa.tool("lookup"):
                pass
        ended += WAKE_EVERY
        time.sleep(0.02)
    assert captured.telemetry.force_flush(5)
    assert sum(calls) == ended == len(captured.spans_exporter.get_finished_spans())
    # About 40 runs of the chain: one export at once, one per 0.4 s, and the flush's.
    assert len(calls) <= 6, calls


def _limited_pipeline(make_pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A pipeline whose spans keep six attributes, two events and one link."""
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "6")
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "2")
    monkeypatch.setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "1")
    return make_pipeline()


def _over_the_limits(tracer: Any, name: str, *, events: int, links: Any = ()) -> None:
    """A span with nine attributes (a password among them), ``events`` events and ``links``."""
    with tracer.start_as_current_span(name, links=list(links)) as span:
        span.set_attributes({f"k{i}": i for i in range(8)})
        span.set_attribute("password", "hunter2")
        for i in range(events):
            span.add_event(f"e{i}")


def test_rewritten_and_mapped_spans_keep_the_sdks_drop_counts(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A span over the SDK's limits that redaction or the normaliser rebuilds still says what was dropped."""
    pipeline = _limited_pipeline(make_pipeline, monkeypatch)
    tracer = pipeline.telemetry.tracer_provider.get_tracer("opentelemetry.instrumentation.openai")
    _over_the_limits(tracer, "redacted", events=4)
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attributes({f"k{i}": i for i in range(8)})
        span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"})
        span.set_attributes({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5})
    by_name = {s.name: s for s in pipeline.spans()}
    redacted, mapped = by_name["redacted"], by_name["chat gpt-4o-mini"]
    assert redacted.attributes["password"] == REDACTED
    assert (redacted.dropped_attributes, redacted.dropped_events) == (3, 2)
    assert "otel_agents.cost.usd" in mapped.attributes  # the normaliser rebuilt it
    assert mapped.dropped_attributes == 6


def test_what_the_sdk_drops_at_span_limits_is_counted_once(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attributes, events and links the SDK drops at its limits are counted by reason, once per span."""
    pipeline = _limited_pipeline(make_pipeline, monkeypatch)
    tracer = pipeline.telemetry.tracer_provider.get_tracer("some.library")
    with tracer.start_as_current_span("within") as parent:
        parent.set_attributes({f"k{i}": i for i in range(6)})
        link = trace.Link(parent.get_span_context())
    # Rebuilt by redaction (its password), counted once all the same.
    _over_the_limits(tracer, "over", events=5, links=[link, link, link])
    with oa.tool("search") as tool:
        for i in range(9):
            tool.set_attribute(f"k{i}", i)
    assert len(pipeline.spans()) == 3
    drops = stats.drops()
    # Three on the foreign span (nine keys, six kept), and the tool span's keys beyond six.
    tool_span = next(s for s in pipeline.spans() if s.name == "execute_tool search")
    assert drops["spans.attributes_over_limit"] == 3 + tool_span.dropped_attributes
    assert tool_span.dropped_attributes > 0
    assert drops["spans.events_over_limit"] == 3
    assert drops["spans.links_over_limit"] == 2
