"""The shared monitoring utilities in-process: metrics, logging, tracing, health and every bad-input promise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace as otel_trace

from otel_agents.api import _counters as stats
from otel_agents.compat import monitoring_utils as mu


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    """Each test starts with default metric settings, no health checks and no compat log handlers."""
    yield
    mu._metrics.__init__()  # type: ignore[misc]
    mu.health_registry._checks.clear()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, mu._OUR_HANDLER, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.WARNING)


def _values(pipeline: Any, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    return {tuple(sorted(p.attributes.items())): p for p in pipeline.metric_points(name)}


def test_prefix_default_tags_and_enabled(pipeline: Any) -> None:
    """configure_metrics' prefix and default tags apply to every metric; enabled=False records nothing."""
    mu.configure_metrics(backend="otlp", prefix="svc", default_tags={"team": "a", "env": "x"})
    mu.increment_counter("jobs_total", tags={"env": "prod"})
    mu.increment_counter("jobs_total", 2, {"env": "prod"})
    mu.gauge("depth", 3)
    mu.histogram("size", 10)
    assert _values(pipeline, "svc_jobs_total")[(("env", "prod"), ("team", "a"))].value == 3
    assert _values(pipeline, "svc_depth")[(("env", "x"), ("team", "a"))].value == 3
    assert next(iter(_values(pipeline, "svc_size").values())).sum == 10
    mu.configure_metrics(enabled=False)
    mu.increment_counter("off_total")
    assert pipeline.metric_points("off_total") == []


def test_record_timer_and_trace_work_on_sync_and_async_functions(pipeline: Any) -> None:
    """@record_timer records seconds and @trace makes a span, for plain and async functions, exceptions included."""

    @mu.trace("sync_work")
    @mu.record_timer("work_seconds")
    def work() -> int:
        return 1

    @mu.trace
    @mu.record_timer("async_work_seconds", tags={"kind": "io"})
    async def async_work() -> int:
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    assert work() == 1
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(async_work())
    assert next(iter(_values(pipeline, "work_seconds").values())).count == 1
    timed = _values(pipeline, "async_work_seconds")[(("kind", "io"),)]
    assert timed.count == 1 and timed.sum >= 0.01
    names = {s.name: s for s in pipeline.spans()}
    assert "sync_work" in names
    failed = names["test_record_timer_and_trace_work_on_sync_and_async_functions.<locals>.async_work"]
    assert failed.status.status_code is otel_trace.StatusCode.ERROR


def test_headers_round_trip_the_trace_context(pipeline: Any) -> None:
    """Headers injected inside a span, extracted elsewhere, parent a new span in the same trace."""
    with mu.tracer.start_as_current_span("client") as client:
        headers = mu.inject_context_into_headers()
    context = mu.extract_context_from_headers({"Traceparent": headers["traceparent"]})
    with mu.tracer.start_as_current_span("server", context=context) as server:
        pass
    assert server.get_span_context().trace_id == client.get_span_context().trace_id


def test_logging_json_lines_carry_trace_and_fields(pipeline: Any, tmp_path: Path) -> None:
    """configure_logging writes JSON lines with trace ids, service and bound fields; the records also reach OTel."""
    log_file = tmp_path / "app.log"
    mu.configure_logging(
        level="DEBUG", json_format=True, log_to_console=False, log_file=log_file, service_name="svc"
    )
    log = mu.get_request_logger(request_id="r-1", user_id="u-1", ip_address="10.0.0.1").bind(step="a")
    with mu.tracer.start_as_current_span("op") as span:
        log.debug("hello %s", "world", name="shadowed", items=[1, 2])
    import json

    (line,) = [json.loads(x) for x in log_file.read_text().splitlines() if "hello" in x]
    assert line["message"] == "hello world" and line["service"] == "svc" and line["level"] == "DEBUG"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["otel_agents.request.id"] == "r-1" and line["user.id"] == "u-1" and line["step"] == "a"
    assert line["field.name"] == "shadowed" and line["items"] == "[1, 2]"
    (record,) = [r.log_record for r in pipeline.logs() if r.log_record.body == "hello world"]
    assert record.attributes["client.address"] == "10.0.0.1"


def test_health_checks_register_run_and_fail_honestly(
    pipeline: Any, upstream_http: str, tmp_path: Path
) -> None:
    """Registered checks run through the registry; an unhealthy dict, False or an exception fails that check."""
    db = tmp_path / "x.db"
    import sqlite3

    sqlite3.connect(db).close()
    mu.register_health_check("db")(lambda: mu.check_database_connection(f"sqlite:///{db}"))
    mu.register_health_check("upstream")(lambda: mu.check_external_service(upstream_http + "/down"))
    mu.register_health_check("redis")(lambda: mu.check_redis_connection("redis://127.0.0.1:9/0", timeout=0.5))

    @mu.register_health_check
    def flag() -> bool:
        return False

    report = mu.check_health()
    assert report["status"] == "unhealthy"
    assert {k: v["status"] for k, v in report["checks"].items()} == {
        "db": "healthy",
        "upstream": "unhealthy",
        "redis": "unhealthy",
        "flag": "unhealthy",
    }
    assert "answered 500" in report["checks"]["upstream"]["message"]
    assert mu.check_health("db")["status"] == "healthy"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: mu.configure_metrics(backend="statsd"), ValueError),
        (lambda: mu.configure_metrics(prefix="9bad"), ValueError),
        (lambda: mu.configure_metrics(default_tags={"a": object()}), TypeError),
        (lambda: mu.configure_metrics(enabled="yes"), TypeError),
        (lambda: mu.configure_logging(level="LOUD"), ValueError),
        (lambda: mu.configure_logging(json_format="true"), TypeError),
        (lambda: mu.configure_logging(log_file=3), TypeError),
        (lambda: mu.configure_logging(service_name=""), TypeError),
    ],
)
def test_a_wrong_configuration_argument_fails_loudly(call: Any, error: type[Exception]) -> None:
    """configure_metrics and configure_logging raise at once on a wrong argument, naming it."""
    with pytest.raises(error, match=r"configure_(metrics|logging)\("):
        call()


def test_bad_input_is_counted_never_raised(pipeline: Any) -> None:
    """Bad names, values, tags, headers, missing arguments and unknown checks are logged once and counted."""
    mu.increment_counter("bad name")
    mu.increment_counter("ok_total", -1)
    mu.gauge("g", "high")  # type: ignore[arg-type]
    mu.gauge()  # type: ignore[call-arg]
    mu.histogram("h", 1, tags=["x"])  # type: ignore[arg-type]
    mu.inject_context_into_headers("nope")  # type: ignore[arg-type]
    mu.extract_context_from_headers(42)  # type: ignore[arg-type]
    mu.get_logger(7).info()  # type: ignore[arg-type, call-arg]
    assert mu.check_health("absent") == {"status": "unhealthy", "checks": {}}
    assert mu.check_database_connection("oracle://x")["status"] == "unhealthy"
    assert mu.check_redis_connection("http://x")["status"] == "unhealthy"
    assert mu.check_external_service("ftp://x")["status"] == "unhealthy"
    errors = stats.errors()
    for site, count in {
        "increment_counter": 2,
        "gauge": 2,
        "histogram": 1,
        "inject_context_into_headers": 1,
        "extract_context_from_headers": 1,
        "log": 1,
        "check_health": 1,
        "check_database_connection": 1,
        "check_redis_connection": 1,
        "check_external_service": 1,
    }.items():
        assert errors[f"compat.monitoring_utils.{site}"] == count, site


def test_loggers_never_raise_on_wrong_arguments(pipeline: Any) -> None:
    """get_logger and get_request_logger with unknown keywords or hostile ids still return a logger."""

    class Hostile:
        def __bool__(self) -> bool:
            raise RuntimeError("bool")

        def __len__(self) -> int:
            raise RuntimeError("len")

    mu.get_logger("x", level="INFO").info("still logs")  # type: ignore[call-arg]
    mu.get_request_logger(Hostile(), Hostile()).info("still logs")  # type: ignore[arg-type]
    mu.get_request_logger(request_id="r-1", tenant="t").warning("still logs")  # type: ignore[call-arg]
    errors = stats.errors()
    assert errors["compat.monitoring_utils.get_logger"] == 1
    assert errors["compat.monitoring_utils.get_request_logger"] == 1


def test_setup_monitoring_rejects_what_is_not_an_app() -> None:
    """setup_monitoring is a configuration call: anything but a FastAPI or Flask app raises TypeError."""
    with pytest.raises(TypeError, match="FastAPI or Flask"):
        mu.setup_monitoring(object())
