"""openai and anthropic with OpenLLMetry, alone and beside a second instrumentation of the same calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import otel_agents as oa
from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from tests.foreign.conftest import CODEWORD, counted
from tests.support.fake_llm import Reply

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
ollm_openai = pytest.importorskip("opentelemetry.instrumentation.openai")
ollm_anthropic = pytest.importorskip("opentelemetry.instrumentation.anthropic")
openai_v2 = pytest.importorskip("opentelemetry.instrumentation.openai_v2")


@pytest.fixture
def instrument() -> Iterator[Any]:
    done: list[Any] = []

    def make(*instrumentors: Any) -> None:
        for instrumentor in instrumentors:
            instrumentor.instrument()
            done.append(instrumentor)

    yield make
    for instrumentor in done:
        instrumentor.uninstrument()


def _openai_calls(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test")
    messages = [{"role": "user", "content": f"say {CODEWORD}"}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    for _ in stream:
        pass


def test_openllmetry_openai_content_dropped_and_priced(
    store_run: Any, fake_openai: Any, instrument: Any, otlp_receiver: Any
) -> None:
    """OpenLLMetry's prompt and completion never reach the store or OTLP; its calls are priced once."""
    otlp = SimpleSpanProcessor(OTLPSpanExporter(endpoint=otlp_receiver.endpoint + "/v1/traces"))
    run = store_run(span_processors=[otlp])
    instrument(ollm_openai.OpenAIInstrumentor())
    server = fake_openai(None)
    with oa.workflow("ask"):
        _openai_calls(server.url)
    run.flush()
    spans = run.captured.spans()
    llm = counted(spans)
    assert [s.instrumentation_scope.name for s in llm] == ["opentelemetry.instrumentation.openai.v1"] * 2
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    for span in llm:
        assert span.attributes[semconv.COST_USD] == pytest.approx(expected)
    for span in spans:
        assert not any(CODEWORD in str(v) for v in (span.attributes or {}).values()), span.name
    workflow = run.captured.span("invoke_workflow ask")
    assert workflow.attributes[semconv.LLM_CALLS] == 2
    assert semconv.COST_UNKNOWN_CALLS not in workflow.attributes
    runs = run.cli_json("runs")
    assert runs[0]["name"] == "ask" and runs[0]["input_tokens"] == 22
    assert runs[0]["cost_usd"] == pytest.approx(2 * expected)
    stats = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    model = stats[("model", "gpt-4o-mini")]
    assert model["calls"] == 2 and model["unpriced_calls"] == 0
    assert model["cost_usd"] == pytest.approx(2 * expected)
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 2
    assert run.metric_sum(semconv.METRIC_COST) == pytest.approx(2 * expected)
    run.shutdown()
    assert CODEWORD not in run.store_text()
    received = otlp_receiver.spans()
    assert len(received) >= 3
    assert all(CODEWORD not in str(s.attributes) for s in received)


def test_two_openai_instrumentations_count_each_call_once(
    store_run: Any, fake_openai: Any, instrument: Any
) -> None:
    """OpenLLMetry around openai-v2: four spans for two calls, two counted, the outer two marked."""
    run = store_run()
    instrument(ollm_openai.OpenAIInstrumentor(), openai_v2.OpenAIInstrumentor())
    server = fake_openai(None)
    with oa.agent("solo"):
        _openai_calls(server.url)
    run.flush()
    spans = run.captured.spans()
    llm = [s for s in spans if s.attributes.get(semconv.GEN_AI_OPERATION_NAME) == "chat"]
    assert len(llm) == 4
    kept = counted(spans)
    assert len(kept) == 2
    by_id = {f"{s.context.span_id:016x}": s for s in spans}
    for span in llm:
        if span not in kept:
            twin = by_id[span.attributes[semconv.DUPLICATE_OF]]
            assert twin in kept and twin.attributes[semconv.GEN_AI_RESPONSE_ID] == span.attributes.get(
                semconv.GEN_AI_RESPONSE_ID, twin.attributes[semconv.GEN_AI_RESPONSE_ID]
            )
            assert semconv.COST_USD not in span.attributes
    agent = run.captured.span("invoke_agent solo")
    assert agent.attributes[semconv.LLM_CALLS] == 2
    assert agent.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 22
    stats = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    assert stats[("model", "gpt-4o-mini")]["calls"] == 2
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 2
    run.shutdown()
    assert CODEWORD not in run.store_text()


def _anthropic_calls(url: str) -> None:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test")
    messages = [{"role": "user", "content": f"say {CODEWORD}"}]
    client.messages.create(model="claude-3-5-sonnet-20241022", max_tokens=100, messages=messages)
    with client.messages.stream(model="claude-3-5-sonnet-20241022", max_tokens=100, messages=messages) as s:
        for _ in s.text_stream:
            pass


def _cached_reply(body: dict[str, Any]) -> Reply:
    # 6,000 input tokens in all, 5,000 of them cache writes (the worked example).
    return Reply(text=f"noted {CODEWORD}", input_tokens=1000, cache_write_tokens=5000, output_tokens=100)


def test_anthropic_native_spans_price_cache_writes(store_run: Any, fake_anthropic: Any) -> None:
    """The anthropic SDK's own spans are priced with cache writes at their rate and roll up."""
    run = store_run()
    server = fake_anthropic(_cached_reply)
    with oa.agent("writer"):
        _anthropic_calls(server.url)
    run.flush()
    spans = run.captured.spans()
    llm = counted(spans)
    assert [s.instrumentation_scope.name for s in llm] == ["com.anthropic.sdk.python"] * 2
    for span in llm:
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 6000
        assert span.attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 5000
        assert span.attributes[semconv.COST_USD] == pytest.approx(0.02325)
        assert span.attributes[semconv.GEN_AI_AGENT_NAME] == "writer"
    runs = run.cli_json("runs")
    assert runs[0]["cost_usd"] == pytest.approx(2 * 0.02325)
    assert runs[0]["input_tokens"] == 12000
    # The anthropic SDK records no gen_ai.client.* metrics: ours are the only copy.
    assert run.metric_count(semconv.METRIC_CLIENT_TOKEN_USAGE, scope=None) == 4
    assert run.metric_sum(semconv.METRIC_COST) == pytest.approx(2 * 0.02325)
    run.shutdown()
    assert CODEWORD not in run.store_text()


def test_anthropic_native_and_openllmetry_count_each_call_once(
    store_run: Any, fake_anthropic: Any, instrument: Any
) -> None:
    """The SDK's span and OpenLLMetry's sibling span share a response id: one call, counted once."""
    run = store_run()
    instrument(ollm_anthropic.AnthropicInstrumentor())
    server = fake_anthropic(_cached_reply)
    with oa.agent("writer"):
        _anthropic_calls(server.url)
    run.flush()
    spans = run.captured.spans()
    llm = [s for s in spans if s.attributes.get(semconv.GEN_AI_OPERATION_NAME) == "chat"]
    assert len(llm) == 4
    kept = counted(spans)
    assert len(kept) == 2
    assert len({s.attributes[semconv.GEN_AI_RESPONSE_ID] for s in kept}) == 2
    assert all(CODEWORD not in str(s.attributes) for s in spans)
    agent = run.captured.span("invoke_agent writer")
    assert agent.attributes[semconv.LLM_CALLS] == 2
    assert agent.attributes[semconv.COST_USD] == pytest.approx(2 * 0.02325)
    stats = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    assert stats[("model", "claude-3-5-sonnet-20241022")]["calls"] == 2
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 2
    run.shutdown()
    assert CODEWORD not in run.store_text()
