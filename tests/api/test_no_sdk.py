"""With no SDK installed, the API records nothing, yet stays usable and keeps the log context."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agents as oa
from otel_agents.api._logs import log_context
from tests.conftest import reset_otel_globals


@pytest.fixture
def no_sdk() -> Iterator[None]:
    reset_otel_globals()
    yield
    reset_otel_globals()


def test_spans_without_an_sdk_render_nothing_and_keep_the_agent_for_logs(no_sdk: None) -> None:
    """oa.agent, oa.tool and oa.llm work as no-ops whose handles accept every call, while log lines
    inside the agent still carry its name."""
    with oa.agent("planner"):
        assert log_context()["gen_ai.agent.name"] == "planner"
        with oa.tool("search", arguments={"q": "x"}) as tool:
            tool.set_result({"hits": 1})
            assert not trace.get_current_span().is_recording()
        with oa.llm("gpt-4o-mini", provider="openai") as call:
            call.record_usage(input_tokens=10, output_tokens=2)
    assert "gen_ai.agent.name" not in log_context()


def test_spans_record_once_an_sdk_is_installed(no_sdk: None) -> None:
    """A provider installed later (as an app does after importing a library) is used at once."""
    with oa.tool("before"):
        pass
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    with oa.agent("a"), oa.tool("after", arguments={"q": 1}):
        pass
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["execute_tool after", "invoke_agent a"]
    provider.shutdown()
