"""The marketing observability shim: its README runs into spans, runs, stats, logs and OTLP; secrets never leave."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.trace import StatusCode

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.compat.marketing_observability import MetricsCollector, StructuredLogger
from tests.compat.conftest import Example, cli_json
from tests.support.otlp_receiver import Receiver

CANARY = "sk-canary-" + "Zq8Xw2Lm5Rt7Yp3Nv6Bk"


def _all_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_readme_lands_in_runs_stats_logs_and_summary(tmp_path: Path, example: Example) -> None:
    """The README's workflow, agents, tool and route are runs and stats rows; its records are logs; the summary is printed."""
    home = tmp_path / "store"
    result = example(
        "marketing_observability", tmp_path, {"OTEL_AGENTS_HOME": str(home), "OPENAI_API_KEY": CANARY}
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("lead quality: ", 1)[1].splitlines()[0].replace("'", '"')
    summary = json.loads(printed)
    assert summary["count"] == 5 and summary["sum"] == pytest.approx(3.48)
    assert summary["mean"] == pytest.approx(0.696) and (summary["min"], summary["max"]) == (0.4, 0.9)
    assert 0.6 <= summary["median"] <= 0.8  # the true median 0.72, estimated within its bucket
    runs = {r["name"]: r for r in cli_json("runs", home=home)}  # type: ignore[union-attr]
    assert runs["launch_campaign"]["run_id"] == "wf-1001" and runs["launch_campaign"]["status"] == "completed"
    assert (
        runs["launch_campaign"]["session_id"] == "sess-41"
        and runs["launch_campaign"]["user_id"] == "marketer-7"
    )
    assert runs["copywriter"]["status"] == "ok" and runs["designer"]["status"] == "error"
    assert 1.8e9 <= runs["copywriter"]["duration_ns"] < 2.5e9  # the reported 1840 ms
    assert "api_key" in runs["copywriter"]["input_summary"]  # keys, never values, without preview
    rows = {(r["kind"], r["name"]): r for r in cli_json("stats", home=home)}  # type: ignore[union-attr]
    assert rows[("agent", "designer")]["errors"] == 1 and rows[("tool", "keyword_research")]["calls"] == 1
    conn = sqlite3.connect(home / "store.sqlite")
    events = {r[0] for r in conn.execute("SELECT event_name FROM logs")}
    routes = conn.execute(
        "SELECT attributes, session_id FROM spans WHERE name = 'route orchestrator'"
    ).fetchall()
    step = conn.execute("SELECT name FROM events WHERE name = 'step_completed:copy'").fetchall()
    conn.close()
    assert {"workflow_event", "routing_decision", "agent_execution", "tool_usage"} <= events
    route = json.loads(routes[0][0])
    assert route[semconv.ROUTE_TARGET] == "copywriter" and route[semconv.ROUTE_CONFIDENCE] == 0.92
    assert route[semconv.ROUTE_CANDIDATES] == ["copywriter", "designer", "analyst"]
    assert routes[0][1] == "sess-41"
    assert step == [("step_completed:copy",)]
    assert CANARY.encode() not in _all_bytes(home)


def test_preview_shows_100_characters_and_redacts_secret_keys(tmp_path: Path, example: Example) -> None:
    """With previews on, inputs show their first 100 characters and "..."; secret-keyed values never reach the store."""
    home = tmp_path / "store"
    env = {"OTEL_AGENTS_HOME": str(home), "OTEL_AGENTS_PREVIEW_CONTENT": "true", "OPENAI_API_KEY": CANARY}
    result = example("marketing_observability", tmp_path, env)
    assert result.returncode == 0, result.stderr
    runs = {r["name"]: r for r in cli_json("runs", home=home)}  # type: ignore[union-attr]
    preview = runs["copywriter"]["input_summary"]
    assert preview.startswith('{"brief":"Write three subject lines') and preview.endswith("...")
    assert len(preview) == 103
    assert runs["launch_campaign"]["output_summary"] == '{"assets":4}'
    assert CANARY.encode() not in _all_bytes(home)


def test_readme_reaches_otlp(tmp_path: Path, example: Example, otlp_receiver: Receiver) -> None:
    """With an OTLP endpoint the README's spans, metrics and log records arrive over OTLP (no local summary)."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint, "OPENAI_API_KEY": CANARY}
    result = example("marketing_observability", tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "'count': 0" in result.stdout
    names = {s.name for s in otlp_receiver.spans()}
    assert {"invoke_agent copywriter", "execute_tool keyword_research", "route orchestrator"} <= names
    assert {"invoke_workflow launch_campaign"} <= names
    assert {
        "lead_quality_score",
        "agent_executions_total",
        "tool_duration_seconds",
    } <= otlp_receiver.metric_names()
    assert any(r.event_name == "agent_execution" for r in otlp_receiver.log_records())
    received = b"".join(r.SerializeToString() for r in otlp_receiver.traces + otlp_receiver.logs)
    assert CANARY.encode() not in received


def test_secrets_in_any_input_are_redacted_in_spans_and_logs(make_pipeline: Any) -> None:
    """A canary under a secret key or inside free text is redacted in every span and log attribute."""
    cap = make_pipeline(preview_content=True)
    log = StructuredLogger("t").bind_context(session_id="s-1")
    hostile = {"password": CANARY, "nested": {"token": CANARY}, "note": f"use {CANARY} now", "ok": "fine"}
    log.log_agent_execution("a", input_data=hostile, output_data=f"Bearer {CANARY}", duration_ms=5)
    log.log_tool_usage("t", input_data=hostile, output_data=[hostile], duration_ms=1)
    log.log_routing_decision("a", "b", reason=f"key={CANARY}", context=hostile)
    log.log_workflow_event("w", "started", data=hostile)
    log.log_workflow_event("w", "completed", data=hostile)
    dumped = orjson.dumps(
        [dict(s.attributes) for s in cap.spans()]
        + [[dict(e.attributes or {}) for e in s.events] for s in cap.spans()]
        + [dict(r.log_record.attributes) for r in cap.logs()]
        + [str(r.log_record.body) for r in cap.logs()]
    )
    assert CANARY.encode() not in dumped
    assert dumped.count(b"[REDACTED:") >= 6


def test_failed_executions_are_error_spans_with_the_reported_duration(pipeline: Any) -> None:
    """success=False or an error makes the span ERROR with error.type; duration_ms sets its length."""
    log = StructuredLogger()
    log.log_agent_execution("a", duration_ms=250, success=False, error=TimeoutError("slow"))
    log.log_tool_usage("t", duration_ms=40, error="HTTP 500")
    agent = pipeline.span("invoke_agent a")
    assert (
        agent.status.status_code is StatusCode.ERROR
        and agent.attributes[semconv.ERROR_TYPE] == "TimeoutError"
    )
    assert 0.24e9 <= agent.end_time - agent.start_time <= 0.3e9
    tool = pipeline.span("execute_tool t")
    assert tool.status.status_code is StatusCode.ERROR and tool.status.description == "HTTP 500"


def test_metrics_summary_is_computed_from_the_store(tmp_path: Path) -> None:
    """get_metrics_summary reads the store's points: exact count/sum/mean/min/max, tags filter, range excludes old points."""
    from otel_agents import configure
    from otel_agents.integrations import prometheus
    from tests.conftest import reset_otel_globals

    reset_otel_globals()
    available = prometheus.available
    prometheus.available = lambda: False  # type: ignore[assignment]
    telemetry = configure(home=tmp_path, exporter="store", schedule_delay=0.05)
    try:
        metrics = MetricsCollector()
        for value in (1.0, 2.0, 3.0, 10.0):
            metrics.record_metric("latency_ms", value, tags={"api": "x"})
        metrics.record_metric("latency_ms", 500, tags={"api": "y"})
        metrics.record_agent_execution("writer", duration=1.5)
        x = metrics.get_metrics_summary("latency_ms", tags={"api": "x"})
        assert (x["count"], x["sum"], x["mean"], x["min"], x["max"]) == (4, 16.0, 4.0, 1.0, 10.0)
        assert 2.0 <= x["median"] <= 3.0 and x["stddev"] == pytest.approx(4.08, rel=0.15)
        assert x["first_timestamp"] is not None and len(x["timestamps"]) == 1
        both = metrics.get_metrics_summary("latency_ms", "1h")
        assert both["count"] == 5 and both["max"] == 500
        import time

        time.sleep(0.05)
        metrics.record_metric("latency_ms", 7.0, tags={"api": "x"})
        recent = metrics.get_metrics_summary("latency_ms", time_range=0.04, tags={"api": "x"})
        assert (recent["count"], recent["sum"]) == (1, 7.0)
        assert metrics.get_metrics_summary("agent_execution_duration_seconds")["sum"] == 1.5
        assert metrics.get_metrics_summary("never_recorded")["count"] == 0
    finally:
        telemetry.shutdown(5)
        prometheus.available = available  # type: ignore[assignment]
        reset_otel_globals()


def test_bad_input_is_counted_never_raised(pipeline: Any) -> None:
    """Missing arguments, wrong types, bad tags and unknown workflows are logged once and counted."""
    log = StructuredLogger(None)  # type: ignore[arg-type]
    log.log_agent_execution()  # type: ignore[call-arg]
    log.log_agent_execution(None, duration_ms="slow")  # type: ignore[arg-type]
    log.log_routing_decision("a", "b", confidence="high", alternatives="b")  # type: ignore[arg-type]
    log.log_tool_usage("t", duration_ms=-5)
    log.log_workflow_event("never-started", "completed")
    log.log_workflow_event("never-started", "progress")
    assert log.bind_context(1, 2) is None  # type: ignore[call-arg]
    metrics = MetricsCollector()
    metrics.record_metric("bad name", 1)
    metrics.record_metric("ok", "x", tags="nope")  # type: ignore[arg-type]
    metrics.record_agent_execution("a", duration=-1)
    assert metrics.get_metrics_summary("ok", time_range="forever")["count"] == 0
    errors = stats.errors()
    expected = {
        "log_agent_execution": 3,
        "log_routing_decision": 2,
        "log_tool_usage": 1,
        "log_workflow_event": 2,
        "bind_context": 1,
        "record_metric": 2,
        "record_agent_execution": 1,
        "get_metrics_summary": 1,
    }
    for site, count in expected.items():
        assert errors[f"compat.marketing_observability.{site}"] == count, site


def test_a_wrong_collector_config_fails_loudly() -> None:
    """MetricsCollector(prefix=...) with a non-string raises at once."""
    with pytest.raises(TypeError, match="MetricsCollector"):
        MetricsCollector(prefix=3)  # type: ignore[arg-type]
