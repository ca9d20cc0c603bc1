"""langgraph tools run on a worker thread: with propagate_context() their HTTP spans are children of the tool span."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.integrations import langchain as integration
from tests.support.fake_llm import FakeOpenAI, HeaderServer, Reply

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("langgraph.prebuilt")
pytest.importorskip("langchain_openai")
pytest.importorskip("openinference.instrumentation.langchain")
requests = pytest.importorskip("requests")


def _script(body: dict[str, Any]) -> Reply:
    if not any(m.get("role") == "tool" for m in body.get("messages") or []):
        return Reply(tool_calls=[("lookup_invoice", json.dumps({"invoice_id": "INV-1"}))])
    return Reply(text="paid")


def _unpatch() -> None:
    for name in integration.PATCHED_MODULES:
        module = importlib.import_module(name)
        original = getattr(module._set_config_context, integration._MARK, None)
        if original is not None:
            module._set_config_context = original


@pytest.fixture
def instrumented() -> Iterator[None]:
    from openinference.instrumentation.langchain import LangChainInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    langchain, http = LangChainInstrumentor(), RequestsInstrumentor()
    langchain.instrument()
    http.instrument()
    yield
    _unpatch()
    http.uninstrument()
    langchain.uninstrument()


def _graph(server: FakeOpenAI, http: HeaderServer, seen: list[str]) -> Any:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    @tool
    def lookup_invoice(invoice_id: str) -> str:
        """Look up an invoice."""
        seen.append(threading.current_thread().name)
        requests.get(http.url + "/invoices/" + invoice_id, timeout=5)
        return "paid"

    model = ChatOpenAI(model="gpt-4o-mini", base_url=server.url + "/v1", api_key="sk-test")
    with pytest.warns(Warning):
        return create_react_agent(model, [lookup_invoice], name="billing_graph")


@pytest.mark.parametrize("propagate", [False, True])
def test_http_span_in_a_langgraph_tool_is_a_child_of_the_tool_span(
    pipeline: Any, instrumented: None, propagate: bool
) -> None:
    """Without the glue the tool's HTTP span hangs off the oa.agent; with it, off the tool span, named."""
    server, http, seen = FakeOpenAI(_script), HeaderServer(), []
    try:
        if propagate:
            assert integration.propagate_context()
        graph = _graph(server, http, seen)
        before = trace.get_current_span()
        with oa.agent("billing_bot"):
            graph.invoke({"messages": [("user", "invoice")]})
        assert trace.get_current_span() is before  # nothing left attached in the caller's context
    finally:
        server.close()
        http.close()
    assert seen and seen[0] != threading.current_thread().name  # the tool ran on a worker thread
    pipeline.telemetry.force_flush(5)
    spans = pipeline.spans()
    (tool,) = [s for s in spans if s.name == "lookup_invoice"]
    (get,) = [s for s in spans if s.instrumentation_scope.name == "opentelemetry.instrumentation.requests"]
    if propagate:
        assert get.parent is not None and get.parent.span_id == tool.context.span_id
        assert get.attributes[semconv.GEN_AI_AGENT_NAME] == "billing_bot"
    else:
        agent = pipeline.span("invoke_agent billing_bot")
        assert get.parent is not None and get.parent.span_id == agent.context.span_id


def test_propagate_context_is_applied_once() -> None:
    """Calling it twice wraps langchain's function once."""
    try:
        integration.propagate_context()
        first = importlib.import_module(integration.PATCHED_MODULES[0])._set_config_context
        integration.propagate_context()
        assert importlib.import_module(integration.PATCHED_MODULES[0])._set_config_context is first
        assert not hasattr(getattr(first, integration._MARK), integration._MARK)
    finally:
        _unpatch()


SCRIPT = textwrap.dedent(
    """
    from langchain_core.runnables import config
    print("WRAPPED=" + str(hasattr(config._set_config_context, "__otel_agents_context__")))
    """
)


def test_the_launcher_applies_it_when_openinference_langchain_is_loaded(tmp_path: Path) -> None:
    """opentelemetry-instrument, with OpenInference's LangChain instrumentation installed, wraps the step context."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTEL_AGENTS_HOME": str(tmp_path / "home"),
        "OTEL_TRACES_EXPORTER": "none",
    }
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "opentelemetry-instrument"), sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "WRAPPED=True" in result.stdout, result.stderr
