"""configure(): one pipeline per process, real OTLP export, bounded shutdown, logs with trace context."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from tests.conftest import reset_otel_globals


def test_second_configure_returns_same_handle_and_does_not_stack(make_pipeline: Any) -> None:
    """Calling configure() again returns the same handle, and each span is exported exactly once."""
    pipeline = make_pipeline(service_name="svc")
    again = oa.configure(service_name="svc")
    assert again is pipeline.telemetry
    with oa.tool("t"):
        pass
    assert len(pipeline.spans()) == 1


def test_second_configure_with_other_values_warns(make_pipeline: Any, caplog: Any) -> None:
    """A second configure() asking for different values says which ones it ignored."""
    make_pipeline(service_name="svc")
    with caplog.at_level(logging.WARNING, logger="otel_agents"):
        oa.configure(service_name="other")
    assert "service_name" in caplog.text


def test_resource_has_service_identity(make_pipeline: Any) -> None:
    """The resource names the service, version, environment and a unique instance id."""
    pipeline = make_pipeline(service_name="lead-sync", service_version="1.2.3", environment="staging")
    attrs = pipeline.telemetry.resource.attributes
    assert attrs[semconv.SERVICE_NAME] == "lead-sync"
    assert attrs[semconv.SERVICE_VERSION] == "1.2.3"
    assert attrs[semconv.DEPLOYMENT_ENVIRONMENT_NAME] == "staging"
    assert len(attrs[semconv.SERVICE_INSTANCE_ID]) == 36


def test_stdlib_logs_become_otel_records_with_trace_ids(pipeline: Any) -> None:
    """A stdlib log line inside a span becomes an OTel log record carrying that span's ids."""
    with oa.agent("a") as handle:
        logging.getLogger("app").warning("working on %s", "x")
        span_id = handle.span.get_span_context().span_id
    records = [r for r in pipeline.logs() if r.log_record.body == "working on x"]
    assert len(records) == 1
    assert records[0].log_record.span_id == span_id


def test_event_logs_for_people_who_read_logs_first(make_pipeline: Any) -> None:
    """With log_events on, agent, tool and routing events are also structured log records."""
    pipeline = make_pipeline(log_events=True)
    with oa.agent("a"):
        oa.route("a", target="b")
        with oa.tool("t"):
            pass
    bodies = sorted(str(r.log_record.body) for r in pipeline.logs())
    assert bodies == ["execute_tool t ok", "invoke_agent a ok", "route a -> b"]
    route_record = next(r for r in pipeline.logs() if r.log_record.body == "route a -> b")
    assert route_record.log_record.attributes[semconv.ROUTE_TARGET] == "b"


def test_real_otlp_http_round_trip(make_pipeline: Any, otlp_receiver: Any) -> None:
    """Spans, metrics and logs reach a real OTLP/HTTP receiver, redacted and with the resource."""
    pipeline = make_pipeline(exporter="otlp", otlp_endpoint=otlp_receiver.endpoint, service_name="svc")
    with oa.run_context(run_id="r-1"), oa.agent("a"), oa.tool("t") as t:
        t.set_attribute("api_key", "sk-proj-abcdefghijklmnopqrstuvwxyz0123")
        logging.getLogger("app").warning("hello")
    assert pipeline.telemetry.force_flush(5)
    spans = otlp_receiver.spans()
    assert sorted(span.name for span in spans) == ["execute_tool t", "invoke_agent a"]
    tool_span = next(s for s in spans if s.name == "execute_tool t")
    assert tool_span.attributes["api_key"] == "[REDACTED:secret_key]"
    assert tool_span.attributes[semconv.RUN_ID] == "r-1"
    assert tool_span.resource[semconv.SERVICE_NAME] == "svc"
    assert semconv.METRIC_TOOL_DURATION in otlp_receiver.metric_names()
    assert any(r.body.string_value == "hello" for r in otlp_receiver.log_records())


def _blackhole() -> socket.socket:
    """A listening socket that never accepts: connections hang like an unreachable collector."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(100)
    return sock


def test_exit_is_bounded_when_collector_unreachable() -> None:
    """A process exporting to a collector that never answers still exits within the shutdown budget."""
    hole = _blackhole()
    port = hole.getsockname()[1]
    script = textwrap.dedent(
        f"""
        import otel_agents as oa
        oa.configure(exporter="otlp", otlp_endpoint="http://127.0.0.1:{port}",
                     export_timeout=30, shutdown_timeout=1.5)
        for i in range(50):
            with oa.agent("a"), oa.tool("t"):
                pass
        """
    )
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    elapsed = time.monotonic() - start
    hole.close()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert elapsed < 6, elapsed


def test_force_flush_is_bounded_when_collector_unreachable(make_pipeline: Any) -> None:
    """force_flush(timeout) returns False by its deadline instead of waiting on the exporter."""
    hole = _blackhole()
    pipeline = make_pipeline(
        exporter="otlp", otlp_endpoint=f"http://127.0.0.1:{hole.getsockname()[1]}", export_timeout=30
    )
    with oa.tool("t"):
        pass
    start = time.monotonic()
    assert pipeline.telemetry.force_flush(0.5) is False
    assert time.monotonic() - start < 1.5
    assert pipeline.telemetry.shutdown(0.5) is False
    hole.close()


def test_quickstart_prints_spans_to_the_console() -> None:
    """examples/quickstart.py (exporter='console') prints the workflow's spans on stdout."""
    from pathlib import Path

    script = Path(__file__).parents[2] / "examples" / "quickstart.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=60, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("invoke_workflow lead_sync", "route planner", "chat gpt-4o-mini", "execute_tool web_search"):
        assert f'"name": "{name}"' in result.stdout


def test_price_table_is_loaded_off_the_request_path() -> None:
    """configure() loads the price table in the background: once it is in, the first priced call
    looks nothing up in the table on the caller's thread (the warm-up already did)."""
    script = textwrap.dedent(
        """
        import otel_agents as oa
        from otel_agents.api import _pricing as pricing
        oa.configure(exporter="none")
        assert pricing.wait_loaded(60)
        before = pricing._lookup.cache_info().misses
        with oa.llm("gpt-4o-mini", provider="openai") as call:
            call.record_usage(input_tokens=10, output_tokens=10)
        print(pricing._lookup.cache_info().misses - before)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "0"


def test_every_reconfigure_after_a_shutdown_records_again(tmp_path: Path) -> None:
    """Three shutdown-then-configure cycles in one process each export their own spans: the API
    keeps the first tracer provider, which feeds the newest chain, not only the second."""
    reset_otel_globals()
    exported = []
    for i in range(3):
        sink = InMemorySpanExporter()
        telemetry = oa.configure(exporter="none", span_exporters=[sink], logs=False, home=tmp_path / str(i))
        with oa.agent("a"), oa.tool("t"):
            pass
        telemetry.shutdown(5)
        exported.append(sorted(s.name for s in sink.get_finished_spans()))
    assert exported == [["execute_tool t", "invoke_agent a"]] * 3
