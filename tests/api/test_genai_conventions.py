"""The GenAI conventions as semantic-conventions-genai defines them: required keys, new spans, metrics."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

import otel_agents as oa
from otel_agents.api import _semconv as semconv


def test_agent_takes_a_provider(pipeline: Any) -> None:
    """oa.agent(provider=...) sets gen_ai.provider.name on the invoke_agent span."""
    with oa.agent("a", provider="anthropic"):
        pass
    assert pipeline.span("invoke_agent a").attributes[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"


def test_agent_without_provider_takes_its_first_llm_calls(pipeline: Any) -> None:
    """Without provider=, an agent gets the provider of its first LLM call, else the documented 'unknown'."""
    with oa.agent("with-llm"):
        with oa.llm("some-model"):
            pass
        with oa.llm("m", provider="aws.bedrock"):
            pass
        with oa.llm("n", provider="openai"):
            pass
    with oa.agent("no-llm"):
        pass
    assert pipeline.span("invoke_agent with-llm").attributes[semconv.GEN_AI_PROVIDER_NAME] == "aws.bedrock"
    assert pipeline.span("invoke_agent no-llm").attributes[semconv.GEN_AI_PROVIDER_NAME] == "unknown"


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o-mini", "openai"),
        ("o3-mini", "openai"),
        ("claude-3-5-sonnet", "anthropic"),
        ("gemini-2.0-flash", "gcp.gemini"),
        ("mistral-large", "mistral_ai"),
        ("house-model-7b", "unknown"),
    ],
)
def test_llm_without_provider_infers_one(pipeline: Any, model: str, provider: str) -> None:
    """oa.llm() with no provider infers gen_ai.provider.name from the model name, else 'unknown'."""
    with oa.llm(model):
        pass
    assert pipeline.span(f"chat {model}").attributes[semconv.GEN_AI_PROVIDER_NAME] == provider


def test_server_address_and_port_on_llm_and_remote_agent(pipeline: Any) -> None:
    """server_address=/server_port= set server.address/server.port on LLM and remote-agent spans."""
    with oa.agent("remote", remote=True, server_address="agents.internal", server_port=8443):
        with oa.llm("gpt-4o", server_address="api.openai.com", server_port=443):
            pass
        with oa.llm("gpt-4o-mini", server_port=443):  # a port without an address is not recorded
            pass
    agent = pipeline.span("invoke_agent remote")
    assert agent.kind is SpanKind.CLIENT
    assert (agent.attributes[semconv.SERVER_ADDRESS], agent.attributes[semconv.SERVER_PORT]) == (
        "agents.internal",
        8443,
    )
    call = pipeline.span("chat gpt-4o")
    assert (call.attributes[semconv.SERVER_ADDRESS], call.attributes[semconv.SERVER_PORT]) == (
        "api.openai.com",
        443,
    )
    assert semconv.SERVER_PORT not in pipeline.span("chat gpt-4o-mini").attributes


def test_conversation_id_defaults_to_the_session_id(pipeline: Any) -> None:
    """run_context(session_id=) also sets gen_ai.conversation.id; an explicit conversation_id wins."""
    with oa.run_context(session_id="s-1") as ctx, oa.agent("a"):
        assert ctx.conversation_id == "s-1"
    with oa.run_context(session_id="s-2", conversation_id="thread-9"), oa.llm("gpt-4o"):
        pass
    assert pipeline.span("invoke_agent a").attributes[semconv.GEN_AI_CONVERSATION_ID] == "s-1"
    assert pipeline.span("chat gpt-4o").attributes[semconv.GEN_AI_CONVERSATION_ID] == "thread-9"


def test_conversation_id_crosses_processes_in_baggage(make_pipeline: Any) -> None:
    """gen_ai.conversation.id travels in W3C baggage to an allowed host and is stamped on its spans."""
    from opentelemetry import propagate

    make_pipeline(baggage_hosts=["*"])

    carrier: dict[str, str] = {}
    with oa.run_context(conversation_id="thread-1"):
        propagate.inject(carrier)
    script = textwrap.dedent(
        f"""
        import otel_agents as oa
        from opentelemetry import context, propagate
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor, ConsoleSpanExporter
        t = oa.configure(exporter="console")
        context.attach(propagate.extract({carrier!r}))
        with oa.agent("downstream"):
            pass
        t.shutdown(5)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"gen_ai.conversation.id": "thread-1"' in result.stdout


def _points(pipeline: Any, name: str) -> list[Any]:
    return pipeline.metric_points(name)


def test_response_model_is_a_metric_label(pipeline: Any) -> None:
    """gen_ai.response.model reaches gen_ai.client.operation.duration and token usage as a label."""
    with oa.llm("gpt-4o", provider="openai") as call:
        call.set_response(model="gpt-4o-2024-08-06")
        call.record_usage(input_tokens=5, output_tokens=3)
    pipeline.spans()
    for name in (semconv.METRIC_CLIENT_OPERATION_DURATION, semconv.METRIC_CLIENT_TOKEN_USAGE):
        points = _points(pipeline, name)
        assert points
        assert {p.attributes[semconv.GEN_AI_RESPONSE_MODEL] for p in points} == {"gpt-4o-2024-08-06"}


def test_duration_histograms_use_the_advised_buckets(pipeline: Any) -> None:
    """Workflow, agent, tool and client durations carry the bucket boundaries the conventions advise."""
    with oa.workflow("w"), oa.agent("a"), oa.tool("t"), oa.llm("gpt-4o"):
        pass
    pipeline.spans()
    expected = {
        semconv.METRIC_WORKFLOW_DURATION: (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
        semconv.METRIC_AGENT_DURATION: (
            0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
        ),
        semconv.METRIC_TOOL_DURATION: (
            0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
        ),
    }  # fmt: skip
    expected[semconv.METRIC_CLIENT_OPERATION_DURATION] = expected[semconv.METRIC_TOOL_DURATION]
    for name, bounds in expected.items():
        points = _points(pipeline, name)
        assert points, name
        assert all(tuple(p.explicit_bounds) == bounds for p in points), name


def test_schema_url_on_tracer_meter_and_logger(make_pipeline: Any) -> None:
    """Our spans, metrics and event log records name the semantic-conventions schema URL in their scope."""
    pipeline = make_pipeline(log_events=True)
    with oa.tool("t"):
        pass
    span = pipeline.span("execute_tool t")
    assert span.instrumentation_scope.schema_url == semconv.SCHEMA_URL
    data = pipeline.reader.get_metrics_data()
    scopes = {sm.scope.name: sm.scope.schema_url for rm in data.resource_metrics for sm in rm.scope_metrics}
    assert scopes[semconv.SCOPE_NAME] == semconv.SCHEMA_URL
    events = [r for r in pipeline.logs() if r.instrumentation_scope.name == semconv.EVENT_LOGGER]
    assert events
    assert all(r.instrumentation_scope.schema_url == semconv.SCHEMA_URL for r in events)


def test_every_scope_of_ours_has_the_schema_url(make_pipeline: Any, tmp_path: Any) -> None:
    """The otel_agents.metrics helpers, the compat shims and alert state changes use the schema URL too:
    one otel_agents meter scope, not a second one without it."""
    from otel_agents import metrics as om
    from otel_agents.alerts import ManualAlerts
    from otel_agents.compat import monitoring_utils

    pipeline = make_pipeline()
    with oa.tool("t"):
        pass
    om.counter("business.tickets").add(1)
    monitoring_utils.increment_counter("jobs", 1)
    with monitoring_utils.tracer.start_as_current_span("job"):
        pass
    ManualAlerts(home=tmp_path).trigger("disk", summary="full")
    data = pipeline.reader.get_metrics_data()
    scopes = [sm.scope for rm in data.resource_metrics for sm in rm.scope_metrics]
    assert [s.name for s in scopes].count(semconv.SCOPE_NAME) == 1
    records = [r for r in pipeline.logs() if r.instrumentation_scope.name == semconv.ALERT_SCOPE]
    assert records
    spans = [s.instrumentation_scope for s in pipeline.spans()]
    for scope in [*scopes, *spans, *(r.instrumentation_scope for r in records)]:
        assert scope.schema_url == semconv.SCHEMA_URL, scope


def test_no_deprecated_or_borrowed_keys(make_pipeline: Any) -> None:
    """Error spans carry no exception.escaped; a workflow's description is ours, not gen_ai.agent.description;
    the event log records' status is namespaced."""
    pipeline = make_pipeline(log_events=True)
    with pytest.raises(ValueError), oa.workflow("w", description="nightly sync"):
        raise ValueError("boom")
    span = pipeline.span("invoke_workflow w")
    [event] = span.events
    assert event.name == "exception"
    assert "exception.escaped" not in event.attributes
    assert span.attributes[semconv.WORKFLOW_DESCRIPTION] == "nightly sync"
    assert semconv.GEN_AI_AGENT_DESCRIPTION not in span.attributes
    [record] = [r for r in pipeline.logs() if r.instrumentation_scope.name == semconv.EVENT_LOGGER]
    assert record.log_record.attributes[semconv.EVENT_STATUS] == "error"
    assert "status" not in record.log_record.attributes


def test_plan_span(pipeline: Any) -> None:
    """oa.plan() inside an agent is span 'plan {agent}' (INTERNAL, operation plan), counted in otel_agents.calls."""
    with oa.agent("planner"), oa.plan():
        pass
    span = pipeline.span("plan planner")
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes[semconv.GEN_AI_OPERATION_NAME] == "plan"
    assert span.attributes[semconv.GEN_AI_AGENT_NAME] == "planner"
    calls = [
        p
        for p in _points(pipeline, semconv.METRIC_CALLS)
        if p.attributes[semconv.GEN_AI_OPERATION_NAME] == "plan"
    ]
    assert [p.value for p in calls] == [1]
    assert all(
        p.attributes[semconv.GEN_AI_OPERATION_NAME] != "plan"
        for p in _points(pipeline, semconv.METRIC_CLIENT_OPERATION_DURATION)
    )


def test_retrieval_span_keeps_content_private_by_default(make_pipeline: Any) -> None:
    """oa.retrieval() is 'retrieval {data source}' (CLIENT); query and documents are summaries unless capture is on."""
    pipeline = make_pipeline()
    with oa.retrieval("kb-main", provider="chroma", query="secret question", top_k=3) as r:
        r.set_documents([{"id": "doc-1", "score": 0.9}])
    span = pipeline.span("retrieval kb-main")
    assert span.kind is SpanKind.CLIENT
    attrs = span.attributes
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "retrieval"
    assert attrs[semconv.GEN_AI_DATA_SOURCE_ID] == "kb-main"
    assert attrs[semconv.GEN_AI_REQUEST_TOP_K] == 3.0
    assert semconv.GEN_AI_RETRIEVAL_QUERY_TEXT not in attrs
    assert semconv.GEN_AI_RETRIEVAL_DOCUMENTS not in attrs
    assert "secret question" not in str(dict(attrs))
    assert '"len":1' in attrs[semconv.RETRIEVAL_DOCUMENTS_SUMMARY]


def test_retrieval_records_content_with_capture_on(make_pipeline: Any) -> None:
    """With capture_content, retrieval records gen_ai.retrieval.query.text and gen_ai.retrieval.documents."""
    pipeline = make_pipeline(capture_content=True)
    with oa.retrieval("kb", query="weather in Paris") as r:
        r.set_documents([{"id": "doc-1", "score": 0.9}])
    attrs = pipeline.span("retrieval kb").attributes
    assert attrs[semconv.GEN_AI_RETRIEVAL_QUERY_TEXT] == "weather in Paris"
    assert '"doc-1"' in attrs[semconv.GEN_AI_RETRIEVAL_DOCUMENTS]


def test_embeddings_span_with_usage_and_roll_up(pipeline: Any) -> None:
    """oa.embeddings() is 'embeddings {model}' (CLIENT) with dimensions and formats; its usage rolls up."""
    with (
        oa.agent("a"),
        oa.embeddings("text-embedding-3-small", dimension_count=512, encoding_formats=["float"]) as e,
    ):
        e.record_usage(input_tokens=40, cost_usd=0.001)
    span = pipeline.span("embeddings text-embedding-3-small")
    assert span.kind is SpanKind.CLIENT
    attrs = span.attributes
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "embeddings"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 512
    assert tuple(attrs[semconv.GEN_AI_REQUEST_ENCODING_FORMATS]) == ("float",)
    agent = pipeline.span("invoke_agent a").attributes
    assert agent[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 40
    assert agent[semconv.COST_USD] == pytest.approx(0.001)


def test_streaming_time_to_first_chunk(pipeline: Any) -> None:
    """first_chunk() records gen_ai.request.stream and gen_ai.response.time_to_first_chunk once, and the metric."""
    with oa.llm("gpt-4o", stream=True) as call:
        time.sleep(0.05)
        call.first_chunk()
        time.sleep(0.05)
        call.first_chunk()
    span = pipeline.span("chat gpt-4o")
    attrs = span.attributes
    assert attrs[semconv.GEN_AI_REQUEST_STREAM] is True
    first = attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    # After the first sleep, and not moved by the second call (a second sleep still followed it).
    assert 0.045 <= first <= (span.end_time - span.start_time) / 1e9 - 0.045
    [point] = _points(pipeline, semconv.METRIC_CLIENT_TIME_TO_FIRST_CHUNK)
    assert point.count == 1
    assert point.sum == pytest.approx(first)


def test_non_streaming_call_says_so(pipeline: Any) -> None:
    """stream=False is recorded as gen_ai.request.stream=false and no time to first chunk is reported."""
    with oa.llm("gpt-4o", stream=False):
        pass
    attrs = pipeline.span("chat gpt-4o").attributes
    assert attrs[semconv.GEN_AI_REQUEST_STREAM] is False
    assert semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in attrs
    assert _points(pipeline, semconv.METRIC_CLIENT_TIME_TO_FIRST_CHUNK) == []


def test_semconv_opt_in_other_than_genai_is_noted(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """OTEL_SEMCONV_STABILITY_OPT_IN without gen_ai_latest_experimental is noted: our spans stay on the latest."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    with caplog.at_level(logging.INFO, logger="otel_agents"):
        pipeline = make_pipeline()
    assert "gen_ai_latest_experimental" in caplog.text
    with oa.llm("gpt-4o"):
        pass
    assert pipeline.span("chat gpt-4o").attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
