"""The semantic API: span names, attributes, errors, decorators and roll-ups per the GenAI conventions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

import otel_agents as oa
from otel_agents.api import _semconv as semconv


def test_workflow_agent_tool_llm_names_and_attributes(pipeline: Any) -> None:
    """Each API call produces the conventional span name, kind and gen_ai.* attributes."""
    with oa.workflow("lead_sync"), oa.agent("researcher", agent_id="a-1", version="2"):
        with oa.llm("gpt-4o-mini", provider="openai", temperature=0.2) as call:
            call.record_usage(input_tokens=812, output_tokens=64)
            call.set_response(model="gpt-4o-mini-2024", response_id="resp-1", finish_reasons=["stop"])
        with oa.tool("web_search", call_id="call-9", description="search the web"):
            pass
    wf = pipeline.span("invoke_workflow lead_sync")
    assert wf.attributes[semconv.GEN_AI_OPERATION_NAME] == "invoke_workflow"
    assert wf.attributes[semconv.GEN_AI_WORKFLOW_NAME] == "lead_sync"
    assert wf.kind is SpanKind.INTERNAL
    ag = pipeline.span("invoke_agent researcher")
    assert ag.attributes[semconv.GEN_AI_AGENT_ID] == "a-1"
    assert ag.attributes[semconv.GEN_AI_AGENT_VERSION] == "2"
    assert ag.parent.span_id == wf.context.span_id
    chat = pipeline.span("chat gpt-4o-mini")
    assert chat.kind is SpanKind.CLIENT
    assert chat.attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert chat.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert chat.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024"
    assert chat.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert chat.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 812
    assert chat.attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    tool = pipeline.span("execute_tool web_search")
    assert tool.attributes[semconv.GEN_AI_TOOL_CALL_ID] == "call-9"
    assert tool.attributes[semconv.GEN_AI_TOOL_TYPE] == "function"
    assert tool.attributes[semconv.GEN_AI_TOOL_DESCRIPTION] == "search the web"


def test_tool_call_id_only_when_the_model_gave_one(pipeline: Any) -> None:
    """gen_ai.tool.call.id is the model's id: set when given, never invented."""
    with oa.tool("t"):
        pass
    assert semconv.GEN_AI_TOOL_CALL_ID not in pipeline.span("execute_tool t").attributes


class Boom(Exception):
    """A user exception."""


def test_exception_sets_error_and_is_reraised_unchanged(pipeline: Any) -> None:
    """An exception inside a span records it, sets ERROR and error.type, and re-raises the same object."""
    raised = Boom("bad thing")
    with pytest.raises(Boom) as info, oa.agent("a"), oa.tool("t"):
        raise raised
    assert info.value is raised
    for name in ("execute_tool t", "invoke_agent a"):
        span = pipeline.span(name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes[semconv.ERROR_TYPE] == f"{__name__}.Boom"
    events = pipeline.span("execute_tool t").events
    assert events[0].name == "exception"
    assert events[0].attributes["exception.message"] == "bad thing"


def test_builtin_exception_error_type_is_bare_name(pipeline: Any) -> None:
    """error.type of a builtin exception is its bare class name."""
    with pytest.raises(KeyError), oa.tool("t"):
        raise KeyError("k")
    assert pipeline.span("execute_tool t").attributes[semconv.ERROR_TYPE] == "KeyError"


def test_children_carry_agent_name_including_foreign_spans(pipeline: Any) -> None:
    """Every span inside an agent, even one from another tracer, carries gen_ai.agent.name."""
    other = trace.get_tracer("some.http.client")
    with oa.agent("outer"):
        with other.start_as_current_span("GET /x"):
            pass
        with oa.agent("inner"), other.start_as_current_span("SELECT"):
            pass
    assert pipeline.span("GET /x").attributes[semconv.GEN_AI_AGENT_NAME] == "outer"
    assert pipeline.span("SELECT").attributes[semconv.GEN_AI_AGENT_NAME] == "inner"
    assert pipeline.span("invoke_agent inner").attributes[semconv.GEN_AI_AGENT_NAME] == "inner"


def test_decorators_on_every_function_kind(pipeline: Any) -> None:
    """The same names decorate sync, async, generator and async-generator functions."""

    @oa.agent("sync")
    def sync(x: int) -> int:
        return x + 1

    @oa.agent("async")
    async def coro(x: int) -> int:
        await asyncio.sleep(0)
        return x + 2

    @oa.tool("gen")
    def gen(n: int) -> Any:
        for i in range(n):
            assert trace.get_current_span().name == "execute_tool gen"  # type: ignore[attr-defined]
            yield i

    @oa.tool("agen")
    async def agen(n: int) -> Any:
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    async def consume() -> list[int]:
        return [i async for i in agen(3)]

    assert sync(1) == 2
    assert asyncio.run(coro(1)) == 3
    assert list(gen(3)) == [0, 1, 2]
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert asyncio.run(consume()) == [0, 1, 2]
    names = sorted(s.name for s in pipeline.spans())
    assert names == ["execute_tool agen", "execute_tool gen", "invoke_agent async", "invoke_agent sync"]


def test_generator_span_ends_when_consumer_stops_early(pipeline: Any) -> None:
    """Closing a decorated generator early ends its span without an error."""

    @oa.tool("stream")
    def stream() -> Any:
        yield from range(10)

    it = stream()
    next(it)
    it.close()
    span = pipeline.span("execute_tool stream")
    assert span.status.status_code is StatusCode.UNSET


def test_generator_exception_is_recorded(pipeline: Any) -> None:
    """An exception raised inside a decorated generator marks its span as failed and propagates."""

    @oa.tool("stream")
    def stream() -> Any:
        yield 1
        raise Boom("late")

    with pytest.raises(Boom):
        list(stream())
    assert pipeline.span("execute_tool stream").status.status_code is StatusCode.ERROR


def test_async_with(pipeline: Any) -> None:
    """Scopes work with ``async with`` and yield the same handle types."""

    async def run() -> None:
        async with oa.agent("a") as handle:
            handle.set_attribute("custom.key", 1)

    asyncio.run(run())
    assert pipeline.span("invoke_agent a").attributes["custom.key"] == 1


def test_route_records_decision(pipeline: Any) -> None:
    """A routing decision is a span with who decided, candidates, target, reason and confidence."""
    with oa.agent("planner"):
        chosen = oa.route(
            "planner",
            target="researcher",
            candidates=["researcher", "writer"],
            reason="facts",
            confidence=0.82,
        )
    assert chosen == "researcher"
    span = pipeline.span("route planner")
    attrs = span.attributes
    assert attrs[semconv.ROUTE_SOURCE] == "planner"
    assert attrs[semconv.ROUTE_TARGET] == "researcher"
    assert attrs[semconv.ROUTE_CANDIDATES] == ("researcher", "writer")
    assert attrs[semconv.ROUTE_REASON] == "facts"
    assert attrs[semconv.ROUTE_CONFIDENCE] == 0.82
    assert attrs[semconv.GEN_AI_AGENT_NAME] == "planner"
    assert span.parent.span_id == pipeline.span("invoke_agent planner").context.span_id


def test_rollups_on_agent_and_workflow(pipeline: Any) -> None:
    """Tokens, cost and call counts roll up to every enclosing agent and workflow."""
    with oa.workflow("wf"):
        with oa.agent("a1"), oa.llm("gpt-4o-mini", provider="openai") as c:
            c.record_usage(input_tokens=1000, output_tokens=100)
        with oa.agent("a2"):
            with oa.llm("m", provider="p") as c:
                c.record_usage(input_tokens=10, output_tokens=5, cost_usd=0.5)
            with oa.tool("t"):
                pass
    wf = pipeline.span("invoke_workflow wf").attributes
    assert wf[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 1010
    assert wf[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 105
    assert wf[semconv.LLM_CALLS] == 2
    assert wf[semconv.TOOL_CALLS] == 1
    assert wf[semconv.COST_USD] == pytest.approx(0.5 + (1000 * 0.15 + 100 * 0.6) / 1e6)
    a2 = pipeline.span("invoke_agent a2").attributes
    assert a2[semconv.COST_USD] == pytest.approx(0.5)
    assert a2[semconv.TOOL_CALLS] == 1


def test_unknown_model_cost_is_unknown_not_zero(pipeline: Any) -> None:
    """An LLM call on a model missing from the price table reports unknown cost, never $0."""
    with oa.agent("a"), oa.llm("no-such-model-xyz", provider="nobody") as c:
        c.record_usage(input_tokens=5, output_tokens=5)
    llm_span = pipeline.span("chat no-such-model-xyz").attributes
    assert semconv.COST_USD not in llm_span
    assert llm_span[semconv.COST_UNKNOWN] is True
    agent_span = pipeline.span("invoke_agent a").attributes
    assert semconv.COST_USD not in agent_span
    assert agent_span[semconv.COST_UNKNOWN_CALLS] == 1


def test_top_level_agent_is_a_run_nested_is_not(pipeline: Any) -> None:
    """A workflow or an agent outside any workflow is marked as a run; nested agents are not."""
    with oa.agent("solo"):
        pass
    with oa.workflow("wf"), oa.agent("inner"):
        pass
    assert pipeline.span("invoke_agent solo").attributes[semconv.RUN_KIND] == "agent"
    assert pipeline.span("invoke_workflow wf").attributes[semconv.RUN_KIND] == "workflow"
    assert semconv.RUN_KIND not in pipeline.span("invoke_agent inner").attributes


def test_run_handle_items_metrics_metadata(pipeline: Any) -> None:
    """A run records items, custom metrics JSON and metadata as attributes."""
    with oa.workflow("wf") as w:
        w.set_items(discovered=10, succeeded=8, failed=2)
        w.set_metrics({"rows": 8})
        w.set_metadata(product="crm", git_branch="main")
        w.add_event("checkpoint", {"n": 1})
    attrs = pipeline.span("invoke_workflow wf").attributes
    assert attrs[semconv.RUN_ITEMS_FAILED] == 2
    assert attrs[semconv.RUN_METRICS] == '{"rows":8}'
    assert attrs[semconv.RUN_METADATA_PREFIX + "product"] == "crm"
    assert pipeline.span("invoke_workflow wf").events[0].name == "checkpoint"


def test_content_capture_off_by_default_summarises(pipeline: Any) -> None:
    """With capture off, tool arguments and results are summarised, never recorded."""
    with oa.tool("t", arguments={"q": "private question"}) as t:
        t.set_result("private answer")
    attrs = pipeline.span("execute_tool t").attributes
    assert semconv.GEN_AI_TOOL_CALL_ARGUMENTS not in attrs
    assert semconv.GEN_AI_TOOL_CALL_RESULT not in attrs
    assert attrs[semconv.TOOL_ARGUMENTS_SUMMARY] == '{"type":"dict","len":1,"keys":["q"]}'
    assert attrs[semconv.TOOL_RESULT_SUMMARY] == '{"type":"str","len":14}'
    assert "private" not in repr(dict(attrs))


def test_content_capture_on_records_content(make_pipeline: Any) -> None:
    """With capture on, tool arguments, results and messages are recorded as JSON."""
    pipeline = make_pipeline(capture_content=True)
    with oa.tool("t", arguments={"q": "question"}) as t:
        t.set_result({"a": 1})
    with oa.llm("m") as c:
        c.set_messages(input=[{"role": "user", "content": "hi"}], output="yo")
    attrs = pipeline.span("execute_tool t").attributes
    assert attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"q":"question"}'
    assert attrs[semconv.GEN_AI_TOOL_CALL_RESULT] == '{"a":1}'
    assert (
        pipeline.span("chat m").attributes[semconv.GEN_AI_INPUT_MESSAGES]
        == '[{"role":"user","content":"hi"}]'
    )


def test_api_without_configure_is_a_noop() -> None:
    """Using the API before configure() records nothing and raises nothing."""
    with oa.workflow("wf") as w, oa.agent("a"), oa.tool("t") as t:
        t.set_result(1)
        w.set_items(discovered=1)
    assert oa.route("a", target="b") == "b"


class Hostile:
    """An object whose every dunder used for display raises."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


def test_hostile_input_never_raises(pipeline: Any) -> None:
    """Hostile names, attribute values and usage numbers never reach user code as exceptions."""
    loop: list[Any] = []
    loop.append(loop)
    big = "x" * 1_000_000
    with oa.workflow(Hostile()) as w:  # type: ignore[arg-type]
        w.set_attribute("nan", float("nan"))
        w.set_attribute("bytes", b"\x00\xff")
        w.set_attribute("loop", loop)
        w.set_attribute("obj", Hostile())
        w.set_attribute("big", big)
        w.set_attribute("huge_int", 2**100)
        w.set_metrics({"k": Hostile(), "n": float("inf")})
        w.set_items(discovered="many")  # type: ignore[arg-type]
        with oa.tool("t", arguments=loop) as t:
            t.set_result({Hostile(): Hostile()})
        with oa.llm(None, provider=Hostile()) as c:  # type: ignore[arg-type]
            c.record_usage(input_tokens=-5, output_tokens=float("nan"), cost_usd=float("nan"))  # type: ignore[arg-type]
        oa.route(Hostile(), target=None, candidates=[Hostile()], confidence=float("nan"))  # type: ignore[arg-type]
        with pytest.raises(Boom), oa.tool("t2"):
            raise Boom()
    spans = pipeline.spans()
    assert len(spans) == 5
    wf = next(s for s in spans if s.name.startswith("invoke_workflow"))
    assert wf.name == "invoke_workflow <unprintable Hostile>"
    assert len(wf.attributes["big"]) < 10_000
    assert wf.attributes["nan"] == "NaN"
    assert wf.attributes["bytes"] == "<bytes len=2>"


def test_token_counts_past_int64_count_as_zero_and_are_not_priced(pipeline: Any) -> None:
    """A token count no exporter could carry (past int64) is recorded as 0, not priced at trillions."""
    with oa.agent("a"), oa.llm("gpt-4o-mini", provider="openai") as call:
        call.record_usage(input_tokens=2**70, output_tokens=1_000_000)
    llm = next(s for s in pipeline.spans() if s.name.startswith("chat"))
    agent = next(s for s in pipeline.spans() if s.name.startswith("invoke_agent"))
    assert llm.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 0
    assert llm.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 1_000_000
    assert 0 < llm.attributes[semconv.COST_USD] < 10  # a million output tokens of gpt-4o-mini
    assert agent.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 0


def test_failures_while_finishing_or_ending_a_span_never_reach_the_caller(
    pipeline: Any, lenient: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the roll-up still ends and exports the span; a failing end() is contained; both are counted."""
    from opentelemetry.sdk.trace import Span as SdkSpan

    from otel_agents.api import _counters as stats
    from otel_agents.api._handles import Totals

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(Totals, "add_tool", broken)
    with oa.agent("a"), oa.tool("rolled"):
        pass
    assert pipeline.span("execute_tool rolled").end_time is not None
    monkeypatch.setattr(SdkSpan, "end", broken)
    with oa.tool("unended"):
        pass
    assert stats.errors()["api.finish"] == 1
    assert stats.errors()["api.end"] >= 1
