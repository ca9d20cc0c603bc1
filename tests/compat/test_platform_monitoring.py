"""The platform_monitoring shim: events become OTel log records, metrics OTel instruments; nothing raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber

from otel_agents.api import _counters as stats
from otel_agents.compat.platform_monitoring import log_event, prometheus_metric
from tests.compat.conftest import run_readme_in_process


def _points(pipeline: Any, name: str) -> dict[tuple[tuple[str, Any], ...], float]:
    return {tuple(sorted(p.attributes.items())): p.value for p in pipeline.metric_points(name)}


def test_readme_events_are_log_records_and_metrics_are_instruments(
    pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's events are log records with event name, severity and attributes; its metrics are counters and gauges."""
    run_readme_in_process("platform_monitoring", tmp_path, monkeypatch)
    records = {r.log_record.event_name: r.log_record for r in pipeline.logs()}
    signup = records["user_signup"]
    assert signup.body == "new signup" and signup.severity_number is SeverityNumber.INFO
    assert dict(signup.attributes) == {"plan": "pro", "user_id": "u-17"}
    assert records["payment_failed"].severity_number is SeverityNumber.ERROR
    assert records["payment_failed"].attributes["amount"] == 49.0
    assert _points(pipeline, "signups_total") == {(("plan", "pro"),): 1, (("plan", "free"),): 2}
    assert _points(pipeline, "queue_depth") == {(("queue", "emails"),): 42}


def test_events_carry_the_current_trace(pipeline: Any) -> None:
    """An event logged inside a span carries that span's trace and span id."""
    from opentelemetry import trace

    with trace.get_tracer("t").start_as_current_span("job") as span:
        log_event({"event_type": "step", "message": "half way"})
    (record,) = [r.log_record for r in pipeline.logs() if r.log_record.event_name == "step"]
    assert record.trace_id == span.get_span_context().trace_id
    assert record.span_id == span.get_span_context().span_id


def test_bad_input_is_counted_never_raised(pipeline: Any) -> None:
    """Non-dict events, bad names, non-numbers, bad labels, negative counts and missing arguments are counted."""
    log_event("not a dict")  # type: ignore[arg-type]
    log_event({"message": "no type"})
    log_event()  # type: ignore[call-arg]
    prometheus_metric("bad name!", 1)
    prometheus_metric("ok_total", "many")  # type: ignore[arg-type]
    prometheus_metric("ok_total", -1)
    prometheus_metric("ok_gauge", 1, {"k": object(), 3: "v"})  # type: ignore[dict-item]
    prometheus_metric("ok_gauge", 1, ["not", "a", "dict"])  # type: ignore[arg-type]
    prometheus_metric()  # type: ignore[call-arg]
    prometheus_metric("ok_total", 1, labels={"x": "y"}, unit="s")  # type: ignore[call-arg]
    errors = stats.errors()
    assert errors["compat.platform_monitoring.log_event"] == 3
    assert errors["compat.platform_monitoring.prometheus_metric"] == 8
    assert _points(pipeline, "ok_gauge") == {(("k", "object"),): 1, (): 1}


def test_readme_reaches_otlp(tmp_path: Path, example: Any, otlp_receiver: Any) -> None:
    """Run as a script with an OTLP endpoint, the README's events and metrics arrive over OTLP."""
    result = example("platform_monitoring", tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint})
    assert result.returncode == 0, result.stderr
    assert {"signups_total", "queue_depth"} <= otlp_receiver.metric_names()
    assert {"user_signup", "payment_failed"} <= {r.event_name for r in otlp_receiver.log_records()}
