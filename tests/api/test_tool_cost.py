"""A tool's cost rolls up into its agent and workflow like an LLM call's, and counts in otel_agents.cost."""

from __future__ import annotations

from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _semconv as semconv


def test_tool_cost_rolls_up_with_llm_cost(pipeline: Any) -> None:
    """$0.25 of tool cost plus a $0.01 LLM call make $0.26 on the agent and the workflow."""
    with oa.workflow("research"), oa.agent("searcher"):
        with oa.llm("gpt-4o", provider="openai") as call:
            call.record_usage(input_tokens=10, output_tokens=5, cost_usd=0.01)
        with oa.tool("paid_search") as search:
            search.set_cost(0.2)
        with oa.tool("scraper") as scrape:
            scrape.set_attribute(semconv.COST_USD, 0.05)
        with oa.tool("free_tool"):
            pass
    agent = pipeline.span("invoke_agent searcher")
    workflow = pipeline.span("invoke_workflow research")
    for span in (agent, workflow):
        assert span.attributes[semconv.COST_USD] == pytest.approx(0.26)
        assert span.attributes[semconv.TOOL_CALLS] == 3
    assert pipeline.span("execute_tool paid_search").attributes[semconv.COST_USD] == 0.2
    costs = {
        dict(p.attributes).get(
            semconv.GEN_AI_TOOL_NAME, dict(p.attributes).get(semconv.GEN_AI_REQUEST_MODEL)
        ): p.value
        for p in pipeline.metric_points(semconv.METRIC_COST)
    }
    assert costs == {
        "paid_search": pytest.approx(0.2),
        "scraper": pytest.approx(0.05),
        "gpt-4o": pytest.approx(0.01),
    }


def test_a_tool_only_workflow_claims_its_tools_cost(pipeline: Any) -> None:
    """Without any LLM call, a workflow's cost is its tools' cost; bad costs are ignored."""
    with oa.workflow("batch"):
        with oa.tool("ocr") as ocr:
            ocr.set_cost(0.003)
        with oa.tool("ocr") as bad:
            bad.set_cost(-1)
            bad.set_cost(float("nan"))
    assert pipeline.span("invoke_workflow batch").attributes[semconv.COST_USD] == pytest.approx(0.003)


def test_no_cost_anywhere_claims_none(pipeline: Any) -> None:
    """A workflow whose tools report no cost has no cost attribute (unknown, not zero)."""
    with oa.workflow("plain"), oa.tool("t"):
        pass
    assert semconv.COST_USD not in pipeline.span("invoke_workflow plain").attributes
