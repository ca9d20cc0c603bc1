"""The normaliser on hand-made spans in each dialect, with hostile values, through the real pipeline."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from opentelemetry import trace

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors import _normalise
from otel_agents.sdk.processors._normalise import Normaliser, is_content_key

SECRET = "CANARY-CONTENT-0042"


def _tracer(name: str = "some.framework") -> trace.Tracer:
    return trace.get_tracer(name)


def test_openllmetry_legacy_dialect_is_mapped_and_content_dropped(pipeline: Any) -> None:
    """llm.request.type, gen_ai.system and the deprecated usage keys map; indexed prompts go, roles stay."""
    with _tracer("opentelemetry.instrumentation.anthropic").start_as_current_span(
        "anthropic.chat",
        attributes={
            semconv.LLM_REQUEST_TYPE: "chat",
            semconv.GEN_AI_SYSTEM: "Anthropic",
            semconv.GEN_AI_REQUEST_MODEL: "claude-3-5-sonnet",
        },
    ) as span:
        span.set_attribute(semconv.GEN_AI_USAGE_PROMPT_TOKENS, 6000)
        span.set_attribute(semconv.GEN_AI_USAGE_COMPLETION_TOKENS, 100)
        span.set_attribute(semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD, 5000)
        span.set_attribute(semconv.GEN_AI_PROMPT + ".0.role", "user")
        span.set_attribute(semconv.GEN_AI_PROMPT + ".0.content", SECRET)
        span.set_attribute(semconv.GEN_AI_COMPLETION + ".0.content", SECRET)
        span.set_attribute(semconv.GEN_AI_COMPLETION + ".0.tool_calls.0.arguments", SECRET)
        span.set_attribute(semconv.TRACELOOP_ENTITY_INPUT, SECRET)
    out = pipeline.span("anthropic.chat").attributes
    assert out[semconv.GEN_AI_OPERATION_NAME] == semconv.OP_CHAT
    assert out[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert out[semconv.GEN_AI_SYSTEM] == "Anthropic"  # the original stays
    assert out[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6000
    assert out[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 5000
    assert out[semconv.COST_USD] == pytest.approx(0.02325)
    assert out[semconv.GEN_AI_PROMPT + ".0.role"] == "user"
    assert SECRET not in str(dict(out))


def test_pydantic_ai_agent_tool_and_http_child(pipeline: Any) -> None:
    """invoke_agent / execute_tool spans are an agent and a tool; their name reaches an HTTP span below."""
    pyd = _tracer("pydantic-ai")
    http = _tracer("opentelemetry.instrumentation.requests")
    with pyd.start_as_current_span(
        "invoke_agent support_agent", attributes={semconv.PYDANTIC_AI_AGENT_NAME: "support_agent"}
    ) as agent:
        with pyd.start_as_current_span(
            "chat gpt-4o-mini",
            attributes={semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini"},
        ) as chat:
            chat.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, 100)
            chat.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, 10)
            chat.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, SECRET)
        with pyd.start_as_current_span(
            "execute_tool lookup", attributes={semconv.GEN_AI_TOOL_NAME: "lookup"}
        ) as tool:
            tool.set_attribute(semconv.GEN_AI_TOOL_CALL_ARGUMENTS, SECRET)
            with http.start_as_current_span("GET", attributes={"http.request.method": "GET"}):
                pass
            with oa.tool("inner_check"):
                pass
        agent.set_attribute(semconv.PYDANTIC_AI_ALL_MESSAGES, SECRET)
        agent.set_attribute(semconv.PYDANTIC_AI_FINAL_RESULT, SECRET)
    out = {s.name: s.attributes for s in pipeline.spans()}
    assert out["GET"][semconv.GEN_AI_AGENT_NAME] == "support_agent"
    assert out["execute_tool inner_check"][semconv.GEN_AI_AGENT_NAME] == "support_agent"
    assert out["execute_tool lookup"][semconv.GEN_AI_AGENT_NAME] == "support_agent"
    assert out["execute_tool lookup"][semconv.GEN_AI_OPERATION_NAME] == semconv.OP_EXECUTE_TOOL
    agent_attrs = out["invoke_agent support_agent"]
    assert agent_attrs[semconv.GEN_AI_OPERATION_NAME] == semconv.OP_INVOKE_AGENT
    assert agent_attrs[semconv.GEN_AI_AGENT_NAME] == "support_agent"
    # The framework tool and the oa.tool inside it.
    assert agent_attrs[semconv.LLM_CALLS] == 1 and agent_attrs[semconv.TOOL_CALLS] == 2
    expected = pricing.cost_usd("gpt-4o-mini", None, input_tokens=100, output_tokens=10)
    assert agent_attrs[semconv.COST_USD] == pytest.approx(expected)
    assert all(SECRET not in str(dict(a)) for a in out.values())


def test_content_kept_when_capture_is_on(make_pipeline: Any) -> None:
    """With content capture on, a foreign span's content keys are exported as they were."""
    pipeline = make_pipeline(capture_content=True)
    with _tracer().start_as_current_span(
        "generation", attributes={semconv.OI_SPAN_KIND: "LLM", semconv.OI_INPUT_VALUE: SECRET}
    ):
        pass
    assert pipeline.span("generation").attributes[semconv.OI_INPUT_VALUE] == SECRET


@pytest.mark.parametrize(
    "bad",
    [
        {semconv.OI_TOKENS_PROMPT: "12"},
        {semconv.OI_TOKENS_PROMPT: -5},
        {semconv.OI_TOKENS_PROMPT: math.nan},
        {semconv.OI_TOKENS_PROMPT: True},
        {semconv.OI_TOKENS_PROMPT: 2**70},
        {semconv.OI_TOKENS_PROMPT: 1e30},
        {semconv.OI_MODEL_NAME: ["gpt-4o", "gpt-4o-mini"]},
        {semconv.OI_SPAN_KIND: ""},
    ],
)
def test_malformed_foreign_values_are_counted_never_raised(make_pipeline: Any, bad: dict[str, Any]) -> None:
    """A bad token count, model or kind: the span goes out with its own values, the problem is counted."""
    # Redaction off: the key rules redact string values under keys naming a "token".
    pipeline = make_pipeline(redact=False)
    attrs = {semconv.OI_SPAN_KIND: "LLM", semconv.OI_MODEL_NAME: "gpt-4o-mini", **bad}
    with _tracer().start_as_current_span("generation", attributes=attrs):
        pass
    out = pipeline.span("generation").attributes
    for key, value in bad.items():
        got = out[key]
        assert got == value or (isinstance(value, float) and math.isnan(got)) or list(got) == value
    assert stats.errors() == {}
    assert sum(n for k, n in stats.drops().items() if k.startswith("normalise.malformed")) >= 1
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in out


@pytest.mark.parametrize("bad", [-5.0, math.nan, math.inf, "0.01", True])
def test_a_malformed_cost_of_its_own_is_unknown_and_rolls_up_nothing(pipeline: Any, bad: object) -> None:
    """A foreign LLM span's own negative, NaN, infinite or non-number cost is kept on it, counted,
    and neither priced over nor added to the enclosing workflow's cost."""
    attrs = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 5,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
        semconv.COST_USD: bad,
    }
    with (
        oa.workflow("w"),
        _tracer("opentelemetry.instrumentation.openai").start_as_current_span(
            "chat gpt-4o-mini", attributes=attrs
        ),
    ):
        pass
    llm = pipeline.span("chat gpt-4o-mini").attributes
    workflow = pipeline.span("invoke_workflow w").attributes
    own = llm[semconv.COST_USD]
    assert own == bad or (isinstance(bad, float) and math.isnan(own))
    assert llm[semconv.COST_UNKNOWN] is True
    assert workflow[semconv.COST_UNKNOWN_CALLS] == 1
    assert semconv.COST_USD not in workflow
    assert workflow[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 5
    assert stats.drops()["normalise.malformed_value"] == 1
    assert stats.errors() == {}


def test_content_key_classification() -> None:
    """Indexed prompt and message families are content except their structural keys."""
    assert is_content_key("llm.input_messages.3.message.content")
    assert is_content_key("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments")
    assert not is_content_key("llm.input_messages.3.message.role")
    assert is_content_key("retrieval.documents.0.document.content")
    assert not is_content_key("llm.model_name")


def test_plan_cache_fast_path_returns_the_span_itself() -> None:
    """A span with no GenAI key is handed back untouched (the cached-layout fast path)."""
    from opentelemetry.sdk.trace import TracerProvider

    span = TracerProvider().get_tracer("x").start_span("GET", attributes={"http.request.method": "GET"})
    span.end()
    normaliser = Normaliser()
    assert normaliser.end(span) is span
    assert normaliser.end(span) is span


def test_content_in_events_is_removed(pipeline: Any) -> None:
    """OpenLLMetry-style prompt events lose their content keys; the event itself stays."""
    with _tracer("opentelemetry.instrumentation.openai.v1").start_as_current_span(
        "openai.chat", attributes={semconv.LLM_REQUEST_TYPE: "chat"}
    ) as span:
        span.add_event("gen_ai.content.prompt", {semconv.GEN_AI_PROMPT: SECRET, "gen_ai.event.index": 0})
    (event,) = pipeline.span("openai.chat").events
    assert event.name == "gen_ai.content.prompt"
    assert SECRET not in str(dict(event.attributes))


def _best_ranked(fields: tuple[tuple[str, int, int], ...], attrs: dict[str, Any]) -> list[Any]:
    """The reference reading: per field, the lowest-ranked key's value among the well-formed."""
    best: dict[int, tuple[int, Any]] = {}
    for key, field, rank in fields:
        value = attrs[key]
        if field in _TOKENS:
            ok = type(value) is int and value >= 0
            ok = ok or (type(value) is float and math.isfinite(value) and value >= 0 and value.is_integer())
            value = int(value) if ok else None
        else:
            ok = isinstance(value, str) and 0 < len(value) <= 256
        if ok and (field not in best or rank < best[field][0]):
            best[field] = (rank, value)
    return [best[f][1] if f in best else None for f in range(16)]


_TOKENS = _normalise._TOKEN_FIELDS


def test_a_layouts_reader_takes_the_best_ranked_well_formed_value() -> None:
    """The generated reader of each of 2,000 random layouts and values reads as the plain rule does."""
    rng = random.Random(7)
    keys = list(_normalise.SOURCES)
    values: list[Any] = ["gpt-4o", "", "x" * 300, 12, 0, -3, 7.0, 2.5, math.nan, True, None, ["a"], "openai"]
    for _ in range(2000):
        layout = rng.sample(keys, rng.randint(1, 12))
        fields = tuple((k, *_normalise.SOURCES[k]) for k in layout)
        attrs = {k: rng.choice(values) for k in layout}
        assert _normalise._reader(fields)(attrs) == _best_ranked(fields, attrs), attrs
