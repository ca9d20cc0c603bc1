"""BatchRows encodes spans as span_json does, builds exactly the stored rows, and stats add up."""

from __future__ import annotations

from pathlib import Path

import orjson
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    TraceState,
    set_span_in_context,
)
from store_spans import finished, provider, query, workflow_trace

from otel_agents.store import LocalStore
from otel_agents.store import _otlp_json as otlp_json
from otel_agents.store._rows import SPAN_COLUMNS, BatchRows
from otel_agents.store._values import attributes_of


def test_rows_encode_spans_like_span_json() -> None:
    """Events, links, trace state, a remote parent, errors and odd values encode identically."""
    tp, mem = provider()
    workflow_trace(tp, fail_tool=True)
    tracer = tp.get_tracer("other-scope", "2.0")
    remote = SpanContext(
        0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1), trace_state=TraceState([("vendor", "v1")])
    )
    with tracer.start_as_current_span(
        "consumer",
        context=set_span_in_context(NonRecordingSpan(remote)),
        kind=SpanKind.CONSUMER,
        links=[Link(remote, {"why": "batch"})],
        attributes={"b": True, "f": 1.5, "big": 2**70, "arr": (1, 2), "long": "x" * 300},
    ) as span:
        span.add_event("retry", {"attempt": 2})
    spans = finished(mem)
    rows = BatchRows()
    encoded = [rows.add_span(s, attributes_of(s), "svc", 1) for s in spans]
    assert [orjson.loads(orjson.dumps(e)) for e in encoded] == [
        orjson.loads(orjson.dumps(otlp_json.span_json(s))) for s in spans
    ]
    assert len(rows.spans) == len(spans) and len(rows.events) == 2 and len(rows.runs) == 1


def test_stats_merge_across_batches(store: LocalStore, home: Path) -> None:
    """Two batches of the same run add up in one span_stats row per (kind, name, hour)."""
    tp, mem = provider()
    workflow_trace(tp, fail_tool=True)
    workflow_trace(tp)
    spans = finished(mem)
    store.span_exporter.export(spans[:5])
    store.span_exporter.export(spans[5:])
    [(calls, errors, tokens, buckets)] = query(
        home,
        "SELECT calls, errors, input_tokens, buckets FROM span_stats WHERE kind = 'tool' AND name = 'search'",
    )
    assert (calls, errors) == (2, 1)
    assert tokens == 0
    assert sum(orjson.loads(str(buckets)).values()) == 2
    [(model_tokens,)] = query(home, "SELECT sum(input_tokens) FROM span_stats WHERE kind = 'model'")
    assert model_tokens == 240


def test_batch_rows_are_the_rows_the_store_writes(store: LocalStore, home: Path) -> None:
    """BatchRows, which the benchmark's raw-insert floor replays, builds exactly the stored span rows."""
    tp, mem = provider()
    workflow_trace(tp, fail_tool=True)
    spans = finished(mem)
    store.span_exporter.export(spans)
    [(resource_id, service)] = query(home, "SELECT id, service FROM resources")
    rows = BatchRows()
    for span in spans:
        rows.add_span(span, attributes_of(span), str(service), int(str(resource_id)))
    assert query(home, f"SELECT {SPAN_COLUMNS} FROM spans ORDER BY id") == rows.spans


def test_unpriced_calls_keep_cost_null_and_duplicates_count_nowhere(store: LocalStore, home: Path) -> None:
    """An unpriced model call leaves cost NULL with an unpriced count; a marked duplicate adds nothing."""
    from otel_agents.api import _semconv as semconv

    tp, mem = provider()
    tracer = tp.get_tracer("other-scope")
    llm = {semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_USAGE_INPUT_TOKENS: 5}
    with tracer.start_as_current_span(
        "chat a", attributes={**llm, semconv.GEN_AI_REQUEST_MODEL: "m-unpriced"}
    ):
        pass
    priced = {**llm, semconv.GEN_AI_REQUEST_MODEL: "m-priced", semconv.COST_USD: 0.5}
    with tracer.start_as_current_span("chat b", attributes=priced):
        pass
    with tracer.start_as_current_span(
        "chat b", attributes={**priced, semconv.DUPLICATE_OF: "00000000000000aa"}
    ):
        pass
    store.span_exporter.export(finished(mem))
    rows = {
        name: (calls, cost, unpriced, tokens)
        for name, calls, cost, unpriced, tokens in query(
            home,
            "SELECT name, calls, cost_usd, unpriced_calls, input_tokens FROM span_stats WHERE kind = 'model'",
        )
    }
    assert rows == {"m-unpriced": (1, None, 1, 5), "m-priced": (1, 0.5, 0, 5)}
