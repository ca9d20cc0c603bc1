"""The UI's pages on a demo store: runs with filters, one run, the agent graph, stats, search."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from otel_agents.ui import create_app


@pytest.fixture
def client(demo_home: Path) -> TestClient:
    return TestClient(create_app(demo_home), base_url="http://127.0.0.1")


def _failed_run_id(client: TestClient) -> str:
    page = client.get("/", params={"status": "error"}).text
    ids = re.findall(r'href="/run/(demo-T-1003-[0-9a-f]+)"', page)
    assert ids, page
    return ids[0]


def test_runs_page_lists_the_demo_runs_and_filters_them(client: TestClient) -> None:
    """The runs page lists every demo run; status and name filters narrow it."""
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.count('href="/run/demo-T-') == 3
    assert 'data-poll="/fragment/runs?' in page.text and "/static/poll.js" in page.text
    failed = client.get("/", params={"status": "error"}).text
    assert failed.count('href="/run/demo-T-') == 1 and "CrmTimeout" in failed
    assert client.get("/", params={"name": "nothing"}).text.count('href="/run/') == 0
    assert client.get("/", params={"since": "1h", "user": "demo-user"}).text.count('href="/run/') == 3
    fragment = client.get("/fragment/runs", params={"status": "error"})
    assert fragment.status_code == 200 and fragment.text.startswith("<tr") and "<html" not in fragment.text


def test_one_run_shows_waterfall_errors_llm_calls_events_and_logs(client: TestClient) -> None:
    """A failed run's page has the waterfall with the error, span details, LLM calls and the log."""
    run_id = _failed_run_id(client)
    page = client.get(f"/run/{run_id}")
    assert page.status_code == 200
    text = page.text
    assert '<svg class="waterfall"' in text and 'class="bar error"' in text
    assert "CRM did not answer within 2s" in text and "ERROR" in text
    assert "<h3>LLM calls</h3>" in text and "gpt-4o-mini" in text
    assert "ticket T-1003: CRM lookup timed out" in text
    assert "gen_ai.tool.name" in text and "attributes (as stored)" in text
    assert f"run {run_id}" in text and "demo-user" in text


def test_trace_page_and_search(client: TestClient) -> None:
    """A trace id (or prefix) opens the trace; search sends ids to their pages."""
    run_id = _failed_run_id(client)
    trace_id = re.findall(r"trace ([0-9a-f]{32})", client.get(f"/run/{run_id}").text)[0]
    assert client.get(f"/trace/{trace_id[:10]}").status_code == 200
    found = client.get("/search", params={"q": trace_id[:12]}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/trace/{trace_id}"
    by_run = client.get("/search", params={"q": run_id}, follow_redirects=False)
    assert by_run.headers["location"] == f"/run/{run_id}"


def test_agent_graph_has_edges_with_counts(client: TestClient) -> None:
    """The graph page draws router → billing_agent and → tech_agent with counts and errors."""
    page = client.get("/graph").text
    assert '<svg class="graph"' in page
    edges = dict(re.findall(r'data-source="router" data-target="(\w+)" data-count="(\d+)"', page))
    assert edges == {"billing_agent": "2", "tech_agent": "1"}
    assert "<td>router</td><td>billing_agent</td><td class=num>2</td><td class=num>1</td>" in page
    one = client.get("/graph", params={"run": _failed_run_id(client)}).text
    assert dict(re.findall(r'data-target="(\w+)" data-count="(\d+)"', one)) == {"billing_agent": "1"}


def test_stats_page_draws_charts_by_agent_tool_and_model(client: TestClient) -> None:
    """The stats page has six charts and a totals row per name, for each kind."""
    for kind, name in (("agent", "router"), ("tool", "crm_lookup"), ("model", "gpt-4o")):
        page = client.get("/stats", params={"kind": kind, "since": "1h"}).text
        assert page.count('<svg class="chart"') == 6, kind
        assert f"<td>{name}</td>" in page
    assert "p95 latency" in client.get("/stats").text


def test_unknown_ids_and_pages_are_404(client: TestClient) -> None:
    """Unknown runs, traces, pages and searches give a 404 page, not a traceback."""
    for url in (
        "/run/nope",
        "/trace/abcdef12",
        "/trace/not-hex",
        "/graph?run=nope",
        "/no/page",
        "/search?q=nope",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.text and "Traceback" not in response.text


def test_only_get_is_served_and_security_headers_are_set(client: TestClient) -> None:
    """The UI is read-only (POST is refused) and every page forbids outside scripts and framing."""
    assert client.post("/").status_code == 405
    headers = client.get("/").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert client.get("/static/ui.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_pages_reference_no_outside_assets(client: TestClient) -> None:
    """No page links a script, stylesheet or image from another origin."""
    run_id = _failed_run_id(client)
    for url in ("/", f"/run/{run_id}", "/graph", "/stats"):
        text = client.get(url).text
        assert not re.search(r'(src|href)="(https?:)?//', text), url


def test_a_run_in_two_traces_shows_both_and_links_them(tmp_path: Path) -> None:
    """A run id continued in a second process is one row, and its page shows and links both traces."""
    from cli_spans import record_with_api

    for step in ("first", "second"):
        record_with_api(
            tmp_path,
            f"with oa.run_context(run_id='r-two'), oa.workflow('pipeline'), oa.tool('{step}'):\n    pass",
        )
    client = TestClient(create_app(tmp_path), base_url="http://127.0.0.1")
    runs = client.get("/").text
    assert runs.count('href="/run/r-two"') == 1 and "(2 traces)" in runs
    page = client.get("/run/r-two").text
    assert "This run spans 2 traces" in page
    trace_ids = re.findall(r'<section class="trace" id="trace-([0-9a-f]{32})">', page)
    assert len(set(trace_ids)) == 2 and page.count('<svg class="waterfall"') == 2
    assert all(f'href="/trace/{t}"' in page for t in trace_ids)
    assert "execute_tool first" in page and "execute_tool second" in page
    one = client.get(f"/trace/{trace_ids[0]}").text
    assert "This run spans 2 traces" in one and f'href="/trace/{trace_ids[1]}"' in one
