"""Framework agents and tools (openai-agents and langgraph, through OpenInference) are first-class."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from tests.foreign.conftest import CODEWORD, counted
from tests.support.fake_llm import HeaderServer, Reply

requests = pytest.importorskip("requests")
openai = pytest.importorskip("openai")


def _script(body: dict[str, Any]) -> Reply:
    """Triage hands off to billing, billing calls lookup_invoice once, then answers."""
    messages = body.get("messages") or []
    tools = [t.get("function", t).get("name") for t in body.get("tools", [])]
    if "transfer_to_billing" in tools:
        return Reply(tool_calls=[("transfer_to_billing", "{}")])
    if "lookup_invoice" in tools and not any(
        m.get("role") == "tool" and "INV" in str(m.get("content")) for m in messages
    ):
        return Reply(tool_calls=[("lookup_invoice", json.dumps({"invoice_id": "INV-1"}))])
    return Reply(text=f"all paid {CODEWORD}")


@pytest.fixture
def http_host() -> Iterator[HeaderServer]:
    server = HeaderServer()
    yield server
    server.close()


@pytest.fixture
def requests_instrumented() -> Iterator[None]:
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    instrumentor = RequestsInstrumentor()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


@pytest.fixture
def openai_agents() -> Iterator[Any]:
    agents = pytest.importorskip("agents")
    instrumentation = pytest.importorskip("openinference.instrumentation.openai_agents")
    instrumentor = instrumentation.OpenAIAgentsInstrumentor()
    instrumentor.instrument()
    yield agents
    instrumentor.uninstrument()


def test_openai_agents_handoff_with_openinference(
    store_run: Any, fake_openai: Any, openai_agents: Any, http_host: HeaderServer, requests_instrumented: None
) -> None:
    """Triage -> billing hand-off: agents, tool and LLM calls are recognised, named, priced, rolled up."""
    agents = openai_agents
    run = store_run()
    server = fake_openai(_script)
    agents.set_default_openai_client(openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test"))
    agents.set_default_openai_api("chat_completions")

    @agents.function_tool
    def lookup_invoice(invoice_id: str) -> str:
        """Look up an invoice."""
        requests.get(http_host.url + "/invoices/" + invoice_id, timeout=5)
        return f"invoice {invoice_id} paid {CODEWORD}"

    billing = agents.Agent(
        name="billing", instructions=f"bill {CODEWORD}", tools=[lookup_invoice], model="gpt-4o-mini"
    )
    triage = agents.Agent(name="triage", instructions="route", handoffs=[billing], model="gpt-4o-mini")
    result = agents.Runner.run_sync(triage, f"my invoice {CODEWORD}")
    assert CODEWORD in result.final_output
    run.flush()
    spans = run.captured.spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    llm = counted(spans)
    assert len(llm) == 3
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    for span in llm:
        assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
        assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 11
        assert span.attributes[semconv.COST_USD] == pytest.approx(expected)
    assert sorted(s.attributes[semconv.GEN_AI_AGENT_NAME] for s in llm) == ["billing", "billing", "triage"]
    (tool,) = by_name["lookup_invoice"]
    assert tool.attributes[semconv.GEN_AI_OPERATION_NAME] == semconv.OP_EXECUTE_TOOL
    assert tool.attributes[semconv.GEN_AI_TOOL_NAME] == "lookup_invoice"
    assert tool.attributes[semconv.GEN_AI_AGENT_NAME] == "billing"
    (http,) = [s for s in spans if s.instrumentation_scope.name == "opentelemetry.instrumentation.requests"]
    assert http.attributes[semconv.GEN_AI_AGENT_NAME] == "billing"
    (billing_span,) = by_name["billing"]
    assert billing_span.attributes[semconv.GEN_AI_OPERATION_NAME] == semconv.OP_INVOKE_AGENT
    assert billing_span.attributes[semconv.LLM_CALLS] == 2
    assert billing_span.attributes[semconv.TOOL_CALLS] == 1
    assert billing_span.attributes[semconv.COST_USD] == pytest.approx(2 * expected)
    (handoff,) = by_name["handoff to billing"]
    assert handoff.attributes[semconv.ROUTE_SOURCE] == "triage"
    assert handoff.attributes[semconv.ROUTE_TARGET] == "billing"
    for span in spans:
        assert not any(CODEWORD in str(v) for v in (span.attributes or {}).values()), span.name

    runs = run.cli_json("runs")
    assert len(runs) == 1 and runs[0]["kind"] == "agent"
    assert runs[0]["input_tokens"] == 33
    assert runs[0]["cost_usd"] == pytest.approx(3 * expected)
    stats = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    assert stats[("agent", "billing")]["calls"] == 1
    assert stats[("agent", "triage")]["calls"] == 1
    assert stats[("tool", "lookup_invoice")]["calls"] == 1
    assert stats[("model", "gpt-4o-mini")]["calls"] == 3
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 3
    assert run.metric_count(semconv.METRIC_TOOL_DURATION, **{semconv.GEN_AI_TOOL_NAME: "lookup_invoice"}) == 1
    assert run.metric_count(semconv.METRIC_AGENT_DURATION, **{semconv.GEN_AI_AGENT_NAME: "billing"}) == 1
    assert run.metric_count(semconv.METRIC_CLIENT_TOKEN_USAGE) == 6
    trace_id = runs[0]["trace_id"]
    route = {semconv.ROUTE_SOURCE: "triage", semconv.ROUTE_TARGET: "billing"}
    assert run.metric_sum(semconv.METRIC_ROUTE_DECISIONS, **route) == 1
    text = run.cli("trace", trace_id)
    assert "model gpt-4o-mini" in text and "11/7" in text
    assert "route triage → billing" in text
    run.shutdown()
    assert CODEWORD not in run.store_text()


@pytest.fixture
def langchain_instrumented() -> Iterator[None]:
    instrumentation = pytest.importorskip("openinference.instrumentation.langchain")
    instrumentor = instrumentation.LangChainInstrumentor()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


def test_langgraph_with_openinference(
    store_run: Any, fake_openai: Any, langchain_instrumented: None, http_host: HeaderServer
) -> None:
    """A langgraph ReAct agent inside an oa.agent: its LLM calls are priced, rolled up, counted once, and
    named after the graph's "agent" node, known as an agent from its start."""
    langchain_openai = pytest.importorskip("langchain_openai")
    langchain_tools = pytest.importorskip("langchain_core.tools")
    prebuilt = pytest.importorskip("langgraph.prebuilt")
    run = store_run()
    server = fake_openai(_script)

    @langchain_tools.tool
    def lookup_invoice(invoice_id: str) -> str:
        """Look up an invoice."""
        return f"invoice {invoice_id} paid {CODEWORD} INV"

    model = langchain_openai.ChatOpenAI(model="gpt-4o-mini", base_url=server.url + "/v1", api_key="sk-test")
    with pytest.warns(Warning):
        graph = prebuilt.create_react_agent(model, [lookup_invoice], name="billing_graph")
    with oa.agent("billing_bot"):
        graph.invoke({"messages": [("user", f"invoice {CODEWORD}")]})
    run.flush()
    spans = run.captured.spans()
    llm = counted(spans)
    assert len(llm) == 2
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    for span in llm:
        assert span.name == "ChatOpenAI"
        assert span.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
        assert span.attributes[semconv.COST_USD] == pytest.approx(expected)
        # OpenInference sets the node's kind AGENT only at its end; the name is stamped from its start.
        assert span.attributes[semconv.GEN_AI_AGENT_NAME] == "agent"
    for name in ("Prompt", "call_model", "RunnableSequence"):
        assert {s.attributes[semconv.GEN_AI_AGENT_NAME] for s in spans if s.name == name} == {"agent"}
    (tool,) = [s for s in spans if s.name == "lookup_invoice"]
    assert tool.attributes[semconv.GEN_AI_TOOL_NAME] == "lookup_invoice"
    assert tool.attributes[semconv.GEN_AI_AGENT_NAME] == "billing_bot"
    nodes = [s for s in spans if s.attributes.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_INVOKE_AGENT]
    # langgraph's "agent" node twice (OpenInference kind AGENT), and ours.
    assert sorted(s.attributes[semconv.GEN_AI_AGENT_NAME] for s in nodes) == ["agent", "agent", "billing_bot"]
    for node in nodes:
        if node.name == "agent":
            assert node.attributes[semconv.LLM_CALLS] == 1
    for span in spans:
        assert not any(CODEWORD in str(v) for v in (span.attributes or {}).values()), span.name
    runs = run.cli_json("runs")
    assert runs[0]["name"] == "billing_bot"
    assert runs[0]["input_tokens"] == 22 and runs[0]["cost_usd"] == pytest.approx(2 * expected)
    stats = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    assert stats[("model", "gpt-4o-mini")]["calls"] == 2
    assert stats[("tool", "lookup_invoice")]["calls"] == 1
    assert stats[("agent", "agent")]["calls"] == 2
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 2
    assert run.metric_sum(semconv.METRIC_COST) == pytest.approx(2 * expected)
    text = run.cli("trace", runs[0]["trace_id"])
    assert "model gpt-4o-mini (openai)" in text and "11/7" in text
    run.shutdown()
    assert CODEWORD not in run.store_text()


def _pydantic_script(body: dict[str, Any]) -> Reply:
    messages = body.get("messages") or []
    tools = [t.get("function", t).get("name") for t in body.get("tools", [])]
    if "lookup_invoice" in tools and not any(m.get("role") == "tool" for m in messages):
        return Reply(tool_calls=[("lookup_invoice", json.dumps({"invoice_id": "INV-1"}))])
    return Reply(text=f"all paid {CODEWORD}")


def test_pydantic_ai_agent_beside_openai_v2(
    store_run: Any, fake_openai: Any, http_host: HeaderServer, requests_instrumented: None
) -> None:
    """pydantic-ai's agent, tool and chat spans, with openai-v2 below its chats: named, priced, once."""
    pydantic_ai = pytest.importorskip("pydantic_ai")
    pytest.importorskip("pydantic_ai.models.instrumented")
    openai_models = pytest.importorskip("pydantic_ai.models.openai")
    openai_providers = pytest.importorskip("pydantic_ai.providers.openai")
    openai_v2 = pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    from opentelemetry.util.genai import handler

    run = store_run()
    if hasattr(handler.get_telemetry_handler, "_default_handler"):
        delattr(handler.get_telemetry_handler, "_default_handler")
    instrumentor = openai_v2.OpenAIInstrumentor()
    instrumentor.instrument()
    try:
        server = fake_openai(_pydantic_script)
        model = openai_models.OpenAIChatModel(
            "gpt-4o-mini",
            provider=openai_providers.OpenAIProvider(base_url=server.url + "/v1", api_key="sk-test"),
        )
        agent = pydantic_ai.Agent(
            pydantic_ai.models.instrumented.InstrumentedModel(model),
            name="support_agent",
            instructions=f"help {CODEWORD}",
        )

        @agent.tool_plain
        def lookup_invoice(invoice_id: str) -> str:
            """Look up an invoice."""
            requests.get(http_host.url + "/invoices/" + invoice_id, timeout=5)
            return f"paid {CODEWORD}"

        result = agent.run_sync(f"invoice {CODEWORD}")
    finally:
        instrumentor.uninstrument()
    assert CODEWORD in result.output
    run.flush()
    spans = run.captured.spans()
    chats = [s for s in spans if s.attributes.get(semconv.GEN_AI_OPERATION_NAME) == "chat"]
    assert len(chats) == 4  # pydantic-ai's two, openai-v2's two below them
    llm = counted(spans)
    assert [s.instrumentation_scope.name for s in llm] == ["opentelemetry.util.genai.handler"] * 2
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    for span in llm:
        assert span.attributes[semconv.COST_USD] == pytest.approx(expected)
        assert span.attributes[semconv.GEN_AI_AGENT_NAME] == "support_agent"
    (http,) = [s for s in spans if s.instrumentation_scope.name == "opentelemetry.instrumentation.requests"]
    assert http.attributes[semconv.GEN_AI_AGENT_NAME] == "support_agent"
    (agent_span,) = [s for s in spans if s.name == "invoke_agent support_agent"]
    assert agent_span.attributes[semconv.LLM_CALLS] == 2
    assert agent_span.attributes[semconv.TOOL_CALLS] == 1
    assert agent_span.attributes[semconv.COST_USD] == pytest.approx(2 * expected)
    for span in spans:
        leaks = [k for k, v in (span.attributes or {}).items() if CODEWORD in str(v)]
        assert not leaks, (span.name, leaks)
    runs = run.cli_json("runs")
    assert runs[0]["name"] == "support_agent" and runs[0]["input_tokens"] == 22
    assert runs[0]["cost_usd"] == pytest.approx(2 * expected)
    stats = {(r["kind"], r["name"]): r for r in run.cli_json("stats")}
    assert stats[("model", "gpt-4o-mini")]["calls"] == 2
    assert stats[("agent", "support_agent")]["calls"] == 1
    assert stats[("tool", "lookup_invoice")]["calls"] == 1
    assert run.metric_sum(semconv.METRIC_CALLS, **{semconv.GEN_AI_OPERATION_NAME: "chat"}) == 2
    assert run.metric_sum(semconv.METRIC_COST) == pytest.approx(2 * expected)
    run.shutdown()
    assert CODEWORD not in run.store_text()


# An oa.llm call inside a framework's agent: 1,000 input and 100 output tokens of gpt-4o-mini.
OWN_CALL = (1000 * 0.15 + 100 * 0.6) / 1e6


def _own_call() -> None:
    with oa.tool("lookup_db"), oa.llm("gpt-4o-mini", provider="openai") as call:
        call.record_usage(input_tokens=1000, output_tokens=100)


def test_oa_calls_inside_an_openai_agents_agent_roll_up_into_it_once(
    store_run: Any, fake_openai: Any, openai_agents: Any
) -> None:
    """An oa.tool and oa.llm made in an openai-agents tool count in that framework agent's roll-up, and
    once in the enclosing oa.workflow."""
    agents = openai_agents
    run = store_run()
    server = fake_openai(_script)
    agents.set_default_openai_client(openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test"))
    agents.set_default_openai_api("chat_completions")

    @agents.function_tool
    def lookup_invoice(invoice_id: str) -> str:
        """Look up an invoice."""
        _own_call()
        return f"invoice {invoice_id} paid"

    billing = agents.Agent(name="billing", instructions="bill", tools=[lookup_invoice], model="gpt-4o-mini")
    triage = agents.Agent(name="triage", instructions="route", handoffs=[billing], model="gpt-4o-mini")
    with oa.workflow("support"):
        agents.Runner.run_sync(triage, "my invoice")
    run.flush()
    spans = run.captured.spans()
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    assert expected is not None
    (own,) = [
        s for s in spans if s.name == "chat gpt-4o-mini" and s.instrumentation_scope.name == "otel_agents"
    ]
    assert own.attributes[semconv.GEN_AI_AGENT_NAME] == "billing"
    (billing_span,) = [s for s in spans if s.name == "billing"]
    assert billing_span.attributes[semconv.LLM_CALLS] == 3
    assert billing_span.attributes[semconv.TOOL_CALLS] == 2
    assert billing_span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 2 * 11 + 1000
    assert billing_span.attributes[semconv.COST_USD] == pytest.approx(2 * expected + OWN_CALL)
    (triage_span,) = [s for s in spans if s.name == "triage"]
    assert triage_span.attributes[semconv.LLM_CALLS] == 1
    workflow = run.captured.span("invoke_workflow support")
    assert workflow.attributes[semconv.LLM_CALLS] == 4
    assert workflow.attributes[semconv.TOOL_CALLS] == 3  # the hand-off, lookup_invoice, lookup_db
    assert workflow.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3 * 11 + 1000
    assert workflow.attributes[semconv.COST_USD] == pytest.approx(3 * expected + OWN_CALL)
    (row,) = run.cli_json("runs")
    assert row["input_tokens"] == 3 * 11 + 1000 and row["cost_usd"] == pytest.approx(3 * expected + OWN_CALL)
    run.shutdown()


def test_calls_under_an_oa_agent_inside_a_pydantic_ai_agent_roll_up_while_prices_load(
    store_run: Any, fake_openai: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a pydantic-ai tool, an oa.agent's oa.llm and openai-v2 calls count in pydantic-ai's agent
    span, priced once the price table has loaded after the run."""
    pydantic_ai = pytest.importorskip("pydantic_ai")
    pytest.importorskip("pydantic_ai.models.instrumented")
    openai_models = pytest.importorskip("pydantic_ai.models.openai")
    openai_providers = pytest.importorskip("pydantic_ai.providers.openai")
    openai_v2 = pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    from opentelemetry.util.genai import handler

    run = store_run()
    pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=1)  # the table itself is in memory
    loaded = threading.Event()
    monkeypatch.setattr(pricing, "_warming", True)
    monkeypatch.setattr(pricing, "_ready", loaded)
    if hasattr(handler.get_telemetry_handler, "_default_handler"):
        delattr(handler.get_telemetry_handler, "_default_handler")
    instrumentor = openai_v2.OpenAIInstrumentor()
    instrumentor.instrument()
    server = fake_openai(_pydantic_script)
    try:
        model = openai_models.OpenAIChatModel(
            "gpt-4o-mini",
            provider=openai_providers.OpenAIProvider(base_url=server.url + "/v1", api_key="sk-test"),
        )
        agent = pydantic_ai.Agent(
            pydantic_ai.models.instrumented.InstrumentedModel(model), name="support_agent"
        )

        @agent.tool_plain
        def lookup_invoice(invoice_id: str) -> str:
            """Look up an invoice."""
            with oa.agent("lookup"):
                with oa.llm("gpt-4o-mini", provider="openai") as call:
                    call.record_usage(input_tokens=1000, output_tokens=100)
                client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test")
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
                )
            return "paid"

        agent.run_sync("invoice")
        assert pricing.loading(), "the table counted as loaded: this test proves nothing"
    finally:
        instrumentor.uninstrument()
        loaded.set()
    run.flush()
    spans = run.captured.spans()
    expected = pricing.cost_usd("gpt-4o-mini", "openai", input_tokens=11, output_tokens=7)
    assert expected is not None
    assert len(counted(spans)) == 4  # openai-v2's three (two below pydantic-ai's chats), our one
    (agent_span,) = [s for s in spans if s.name == "invoke_agent support_agent"]
    assert agent_span.attributes[semconv.LLM_CALLS] == 4
    assert agent_span.attributes[semconv.TOOL_CALLS] == 1
    assert agent_span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 3 * 11 + 1000
    assert agent_span.attributes[semconv.COST_USD] == pytest.approx(3 * expected + OWN_CALL)
    lookup = run.captured.span("invoke_agent lookup")
    assert lookup.attributes[semconv.LLM_CALLS] == 2
    assert lookup.attributes[semconv.COST_USD] == pytest.approx(expected + OWN_CALL)
    run.shutdown()
