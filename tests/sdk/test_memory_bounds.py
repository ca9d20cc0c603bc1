"""Memory stays bounded in bytes: huge values are cut when set, queues count bytes, iterators are capped."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._handles import MAX_SEQUENCE
from otel_agents.sdk._batching import BatchWorker, log_text_bytes, span_text_bytes, value_text_bytes
from otel_agents.sdk._configure import HARD_VALUE_CAP
from otel_agents.sdk.processors._redaction import marker

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


def test_a_megabyte_value_is_cut_when_it_is_set(pipeline: Any) -> None:
    """The running span never holds more than the hard cap of a value, so no queue holds a megabyte."""
    with oa.tool("t") as t:
        t.set_attribute("blob", "x" * 1_000_000)
        t.add_event("e", {"blob": "y" * 1_000_000})
        assert len(t.span.attributes["blob"]) <= HARD_VALUE_CAP
        assert len(t.span.events[0].attributes["blob"]) <= HARD_VALUE_CAP
    span = pipeline.span("execute_tool t")
    assert len(span.attributes["blob"]) < 4096 + 64
    assert span.attributes[semconv.TRUNCATED_COUNT] == 2  # the attribute and the event's


def test_a_long_value_is_cut_without_a_warning_per_value(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API cuts a long string, content included, as the SDK would, so the SDK builds no warning
    record for each one."""
    import opentelemetry.attributes as sdk_attributes

    # Counted where the SDK calls it: our filter drops repeats only after the record is built.
    warned: list[object] = []
    monkeypatch.setattr(sdk_attributes._logger, "warning", lambda *args, **kwargs: warned.append(args))
    captured = make_pipeline(capture_content=True)
    for _ in range(3):
        with oa.workflow("w") as w:
            w.set_attribute("blob", "x" * 100_000)
            w.set_input("y" * 100_000)
            assert len(w.span.attributes["blob"]) == HARD_VALUE_CAP
            assert len(w.span.attributes[semconv.RUN_INPUT_SUMMARY]) == HARD_VALUE_CAP
    assert warned == []
    assert [s.attributes[semconv.TRUNCATED_COUNT] for s in captured.spans()] == [2, 2, 2]


def test_truncation_never_splits_a_secret_into_a_leak(make_pipeline: Any) -> None:
    """A secret that the cut goes through is dropped whole or redacted, never kept in part."""
    captured = make_pipeline(max_attribute_length=64)
    for offset in range(30, 70):
        text = "a" * offset + " " + KEY + " tail"
        with oa.tool(f"t{offset}") as t:
            t.set_attribute("note", text)
    for span in captured.spans():
        value = span.attributes["note"]
        assert "abcdefghij" not in value, value
        assert value.endswith("chars]")


def test_a_password_cut_by_truncation_is_still_redacted_whole(make_pipeline: Any) -> None:
    """A JSON password value that the cut goes through is redacted up to the cut."""
    captured = make_pipeline(max_attribute_length=40)
    with oa.tool("t") as t:
        t.set_attribute("args", '{"user":"bob","password":"alpha1 bravo1 charlie1 delta1 echo1"}')
    value = captured.span("execute_tool t").attributes["args"]
    assert "alpha1" not in value and "bravo1" not in value
    assert marker("key_value") in value and "truncated" in value


def test_a_megabyte_log_message_is_truncated_before_redaction(pipeline: Any) -> None:
    """A 1 MiB log message reaches exporters cut to the limit, its secrets inside the kept part redacted."""
    import logging

    logging.getLogger("app").warning("key %s then %s", KEY, "z" * (1 << 20))
    (record,) = [r for r in pipeline.logs() if str(r.log_record.body).startswith("key ")]
    body = str(record.log_record.body)
    assert len(body) < 4096 + 64
    assert KEY not in body and marker("api_key") in body


def _stall_the_chain(captured: Any) -> threading.Event:
    """Hold the chain's thread at its first batch until the returned event is set."""
    chain = captured.telemetry.tracer_provider._active_span_processor
    gate = threading.Event()
    real = chain._stage._export_sizes
    chain._stage._export_sizes = lambda batch, sizes: gate.wait(10) and real(batch, sizes)
    return gate


def test_chain_queue_is_bounded_in_bytes(make_pipeline: Any) -> None:
    """While the chain's thread is stalled, spans beyond its byte budget are dropped and counted."""
    captured = make_pipeline(max_queue_bytes=256 * 1024, schedule_delay=30, max_attribute_length=100_000)
    gate = _stall_the_chain(captured)
    for i in range(40):
        with oa.tool(f"t{i}") as t:
            t.set_attribute("blob", "x" * 60_000)
    assert stats.drops().get("spans.chain.queue_bytes_full", 0) >= 30
    gate.set()
    exported = len(captured.spans())
    # The exporter's queue has the same byte budget: a span the chain hands on faster than the
    # exporter's thread takes the one before is dropped there, and counted there.
    drops = sum(n for reason, n in stats.drops().items() if reason.endswith(".queue_bytes_full"))
    assert exported + drops == 40


def test_spans_holding_much_text_are_cut_before_they_queue(make_pipeline: Any) -> None:
    """A span with long values waits for redaction already truncated, so the queue holds kilobytes."""
    captured = make_pipeline(schedule_delay=30)
    chain = captured.telemetry.tracer_provider._active_span_processor
    gate = threading.Event()
    real = chain._stage._export_sizes
    taken: list[Any] = []

    def hold(batch: Sequence[Any], sizes: Sequence[int]) -> bool:
        taken.extend(batch)
        return gate.wait(10) and bool(real(batch, sizes))

    chain._stage._export_sizes = hold
    with oa.tool("big") as t:
        t.set_attribute("blob", "x" * 60_000)
        t.set_attribute("note", f"key {KEY}")
    # The chain's thread may take the span at once (its first batch is due): look in both places,
    # the taken ones first, so a span moving between them is seen in one or (then again) neither.
    deadline = time.monotonic() + 5
    while not (waiting := list(taken) + [s for s, _ in list(chain._stage._queue)]):
        assert time.monotonic() < deadline
        time.sleep(0.001)
    (queued,) = waiting
    assert len(queued.attributes["blob"]) < 4096 + 64
    assert KEY in queued.attributes["note"]  # redaction still runs later, off the ending thread
    gate.set()
    span = captured.span("execute_tool big")
    assert KEY not in span.attributes["note"] and span.attributes[semconv.TRUNCATED_COUNT] == 1


def test_batch_in_flight_at_shutdown_is_counted() -> None:
    """A batch still being exported when shutdown gives up is counted as dropped, and only once."""
    stats.reset()
    gate = threading.Event()

    def export(batch: Sequence[int]) -> bool:
        gate.wait(5)
        return False

    worker: BatchWorker[int] = BatchWorker(
        "w", export, max_queue_size=100, max_batch_size=10, schedule_delay=0.01
    )
    for i in range(25):
        worker.put(i)
    time.sleep(0.2)
    assert not worker.shutdown(0.2)
    assert stats.drops()["w.shutdown_timeout"] == 25
    gate.set()
    time.sleep(0.2)
    assert stats.drops().get("w.export_failed", 0) == 0


def test_endless_iterators_are_read_only_up_to_a_bound(pipeline: Any) -> None:
    """``route(candidates=...)`` and ``set_response(finish_reasons=...)`` take at most MAX_SEQUENCE items."""
    oa.route("a", target="b", candidates=itertools.count())
    with oa.llm("m") as llm:
        llm.set_response(finish_reasons=itertools.repeat("stop"))
    assert len(pipeline.span("route a").attributes[semconv.ROUTE_CANDIDATES]) == MAX_SEQUENCE
    reasons = pipeline.span("chat m").attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS]
    assert len(reasons) == MAX_SEQUENCE


def test_sequence_values_and_structured_bodies_are_measured_by_the_text_they_hold() -> None:
    """A list of long strings, in a span attribute, an event or a log body, counts every string it holds."""
    provider = TracerProvider()
    with provider.get_tracer("t").start_as_current_span("s") as span:
        span.set_attribute("list", ["x" * 10_000] * 50)
        span.add_event("e", {"list": ["y" * 10_000] * 50})
    assert span_text_bytes(span) >= 2 * 50 * 10_000  # type: ignore[arg-type]
    body = {"items": [{"text": "z" * 10_000}] * 50}
    record = ReadableLogRecord(
        LogRecord(body=body, attributes={"list": ("w" * 10_000,) * 50}), resource=Resource.get_empty()
    )
    assert log_text_bytes(record) >= 2 * 50 * 10_000


def test_a_cyclic_value_is_measured_within_a_bound() -> None:
    """A list that holds itself is measured in bounded work, never forever."""
    cyclic: list[object] = ["x" * 100]
    cyclic.append(cyclic)
    assert 100 <= value_text_bytes(cyclic) < 10**7


def test_spans_with_lists_of_long_strings_are_cut_and_counted_in_bytes(make_pipeline: Any) -> None:
    """The chain's byte budget counts every string of a list attribute: spans past it are dropped and
    counted, and the ones queued were cut before they queued."""
    captured = make_pipeline(max_queue_bytes=512 * 1024, schedule_delay=30)
    gate = _stall_the_chain(captured)
    for i in range(40):
        with oa.tool(f"t{i}") as t:
            t.set_attribute("list", ["x" * 60_000] * 64)
    assert stats.drops().get("spans.chain.queue_bytes_full", 0) >= 30
    gate.set()
    exported = captured.spans()
    assert exported and all(len(item) < 4096 + 64 for s in exported for item in s.attributes["list"])


def test_names_and_keys_never_seen_before_do_not_pile_up_in_any_cache(tmp_path: Any) -> None:
    """Distinct huge tool names, descriptions, attribute keys and span names, through the API, a
    foreign tracer and the store, leave nothing of themselves behind in the caches that speed up
    repeated ones (each cache holds only short entries)."""
    import gc
    import tracemalloc

    from opentelemetry import trace

    telemetry = oa.configure(service_name="caches", logs=False, home=tmp_path)
    tracer = trace.get_tracer("caches.probe")

    def spans(first: int, count: int) -> None:
        for i in range(first, first + count):
            big = f"{i:06d}" + "x" * 100_000
            with oa.tool(big, description=big) as t:
                t.set_attribute(big, 1)
            with tracer.start_as_current_span(big[:4000], attributes={big: 1, "k": big[:250]}):
                pass
            telemetry.force_flush(10)

    try:
        spans(0, 20)  # every cache and buffer at its working size
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        spans(20, 150)  # 15 MB of text never seen before in names and keys alone
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    finally:
        telemetry.shutdown(5)
    # About 2 MB stay: the caches' short entries and the last few spans still in flight.
    assert grown < 5_000_000, f"{grown:,} bytes stayed behind"
