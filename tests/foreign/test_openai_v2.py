"""openai with contrib openai-v2: priced, rolled up into the agent, counted once, no content."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from tests.foreign.conftest import CODEWORD, counted

openai = pytest.importorskip("openai")
openai_v2 = pytest.importorskip("opentelemetry.instrumentation.openai_v2")


@pytest.fixture
def instrumented() -> Iterator[Any]:
    # util-genai keeps one handler per process, bound to the meter provider in force when it was
    # first made: forget it so this test's pipeline gets util-genai's metrics.
    from opentelemetry.util.genai import handler

    if hasattr(handler.get_telemetry_handler, "_default_handler"):
        delattr(handler.get_telemetry_handler, "_default_handler")
    instrumentor = openai_v2.OpenAIInstrumentor()
    # Called by the test after configure(): util-genai binds its meter when instrumenting.
    yield instrumentor.instrument
    instrumentor.uninstrument()


def _calls(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test")
    messages = [{"role": "user", "content": f"say {CODEWORD}"}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    for _ in stream:
        pass


def test_openai_v2_spans_cost_rollup_and_stats(store_run: Any, fake_openai: Any, instrumented: Any) -> None:
    """Two openai-v2 calls inside an oa.agent get a cost, roll up into the run, and show in stats."""
    run = store_run()
    instrumented()
    server = fake_openai(None)
    with oa.agent("support"):
        _calls(server.url)
    run.flush()
    spans = run.captured.spans()
    llm = counted(spans)
    assert len(llm) == 2
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    assert expected is not None
    for span in llm:
        assert span.attributes[semconv.COST_USD] == pytest.approx(expected)
        assert span.attributes[semconv.GEN_AI_AGENT_NAME] == "support"
    agent = run.captured.span("invoke_agent support")
    assert agent.attributes[semconv.LLM_CALLS] == 2
    assert agent.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 22
    assert agent.attributes[semconv.COST_USD] == pytest.approx(2 * expected)

    runs = run.cli_json("runs")
    assert runs[0]["name"] == "support"
    assert runs[0]["input_tokens"] == 22 and runs[0]["output_tokens"] == 14
    assert runs[0]["cost_usd"] == pytest.approx(2 * expected)
    rows = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    model = rows[("model", "gpt-4o-mini")]
    assert model["calls"] == 2 and model["input_tokens"] == 22
    assert model["cost_usd"] == pytest.approx(2 * expected)
    assert model["unpriced_calls"] == 0
    assert "$" in run.cli("runs")

    # util-genai records gen_ai.client.token.usage itself: we add no second copy for its spans.
    assert run.metric_count(semconv.METRIC_CLIENT_TOKEN_USAGE) == 0
    assert run.metric_count(semconv.METRIC_CLIENT_TOKEN_USAGE, scope=None) == 4  # 2 calls x in/out
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 2
    assert run.metric_sum(semconv.METRIC_COST) == pytest.approx(2 * expected)
    run.shutdown()
    assert CODEWORD not in run.store_text()
