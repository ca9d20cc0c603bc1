"""Head sampling drops traces, not counts: unsampled spans still feed metrics, roll-ups, runs and stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import INVALID_SPAN, NonRecordingSpan, SpanContext, SpanKind, TraceFlags, TraceState

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.sdk._sampling import RecordUnsampled
from otel_agents.store import _db as db
from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries

WORKFLOWS = 40


def _workload() -> None:
    for i in range(WORKFLOWS):
        with oa.workflow("w"), oa.agent("a"):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                call.record_usage(input_tokens=100, output_tokens=10, cost_usd=0.5)
            with oa.tool("t", call_id=str(i)):
                pass


def _calls(pipeline: Any, operation: str) -> float:
    return sum(
        p.value
        for p in pipeline.metric_points(semconv.METRIC_CALLS)
        if p.attributes.get(semconv.GEN_AI_OPERATION_NAME) == operation
    )


@pytest.fixture
def sampled_quarter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")


@pytest.mark.usefixtures("sampled_quarter")
def test_metrics_count_every_span_while_only_sampled_traces_are_exported(
    make_pipeline: Any, tmp_path: Path
) -> None:
    """Under traceidratio 0.25, otel_agents.calls, the store's runs and its stats count all 40 workflows;
    only about a quarter of the traces are exported, spans and trace lines included."""
    home = tmp_path / "home"
    pipeline = make_pipeline(exporter="store", home=home)
    _workload()
    exported = pipeline.spans()
    traces = {s.context.trace_id for s in exported}
    assert 0 < len(traces) < WORKFLOWS
    assert all(s.context.trace_flags.sampled for s in exported)
    assert _calls(pipeline, semconv.OP_INVOKE_WORKFLOW) == WORKFLOWS
    assert _calls(pipeline, semconv.OP_EXECUTE_TOOL) == WORKFLOWS
    cost = sum(p.value for p in pipeline.metric_points(semconv.METRIC_COST))
    assert cost == pytest.approx(0.5 * WORKFLOWS)
    pipeline.telemetry.shutdown(5)

    conn = db.connect(paths.db_path(home), readonly=True)
    runs = queries.runs(conn, queries.RunFilter(name="w"), limit=1000)
    assert len(runs) == WORKFLOWS
    assert all(r["cost_usd"] == pytest.approx(0.5) and r["input_tokens"] == 100 for r in runs)
    by_name = {(row["kind"], row["name"]): row for row in queries.stats(conn, None, None)}
    assert by_name[("tool", "t")]["calls"] == WORKFLOWS
    assert by_name[("workflow", "w")]["calls"] == WORKFLOWS
    assert by_name[("model", "gpt-4o-mini")]["cost_usd"] == pytest.approx(0.5 * WORKFLOWS)
    stored = {row[0] for row in conn.execute("SELECT DISTINCT trace_id FROM spans")}
    assert stored == {f"{t:032x}" for t in traces}
    conn.close()


@pytest.mark.usefixtures("sampled_quarter")
def test_record_unsampled_off_is_the_sdk_behaviour(make_pipeline: Any) -> None:
    """record_unsampled=False drops unsampled spans before the chain: the metrics undercount as they used to."""
    pipeline = make_pipeline(record_unsampled=False)
    _workload()
    exported = {s.context.trace_id for s in pipeline.spans()}
    assert _calls(pipeline, semconv.OP_INVOKE_WORKFLOW) == len(exported) < WORKFLOWS


@pytest.mark.usefixtures("sampled_quarter")
def test_unsampled_spans_record_and_propagate_not_sampled(make_pipeline: Any) -> None:
    """A span the sampler drops is recording (its handle works) but carries sampled=0, also downstream."""
    make_pipeline()
    flags = set()
    for _ in range(40):
        with oa.tool("t") as t:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            assert t.span.is_recording()
            flags.add(
                (t.span.get_span_context().trace_flags.sampled, int(carrier["traceparent"][-2:], 16) & 1)
            )
    assert flags == {(True, 1), (False, 0)}


def test_an_unsampled_parent_from_upstream_is_counted_not_exported(make_pipeline: Any) -> None:
    """With the default parent-based sampler, a request whose traceparent says not sampled is counted only."""
    pipeline = make_pipeline()
    upstream = propagate.extract({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"})
    from opentelemetry import context

    token = context.attach(upstream)
    try:
        with oa.tool("t"):
            pass
    finally:
        context.detach(token)
    assert pipeline.spans() == []
    assert _calls(pipeline, semconv.OP_EXECUTE_TOOL) == 1


def _parents() -> list[tuple[str, Any]]:
    """Every kind of parent context a sampler meets: none, invalid, local and remote, sampled or not,
    with and without trace state."""
    state = TraceState([("vendor", "v1")])
    out: list[tuple[str, Any]] = [("none", None), ("invalid", trace.set_span_in_context(INVALID_SPAN))]
    for remote in (False, True):
        for flags in (TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT)):
            for trace_state in (None, state):
                ctx = SpanContext(0xABC, 0xDEF, is_remote=remote, trace_flags=flags, trace_state=trace_state)
                label = f"remote={remote} sampled={flags.sampled} state={trace_state is not None}"
                out.append((label, trace.set_span_in_context(NonRecordingSpan(ctx))))
    return out


def test_the_default_samplers_one_call_decides_as_the_generic_wrapper_does() -> None:
    """Wrapping the SDK's default sampler gives, for every kind of parent, the decision, attributes
    and trace state that wrapping an equal parent-based always-on sampler gives."""
    fast, generic = (
        RecordUnsampled(sampling.DEFAULT_ON),
        RecordUnsampled(sampling.ParentBased(sampling.ALWAYS_ON)),
    )
    attrs = {"k": "v"}
    for label, parent in _parents():
        a = fast.should_sample(parent, 0xABC, "s", SpanKind.INTERNAL, attrs)
        b = generic.should_sample(parent, 0xABC, "s", SpanKind.INTERNAL, attrs)
        assert (a.decision, dict(a.attributes), a.trace_state) == (
            b.decision,
            dict(b.attributes),
            b.trace_state,
        ), label
    assert fast.get_description() == generic.get_description()
    unsampled = [
        label for label, p in _parents() if fast.should_sample(p, 1, "s").decision is Decision.RECORD_ONLY
    ]
    assert len(unsampled) == 4 and all("sampled=False" in label for label in unsampled)
