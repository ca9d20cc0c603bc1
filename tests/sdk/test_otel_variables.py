"""The standard OTEL_* variables, one row each: real SDK, real exporters, real receivers on 127.0.0.1.

| variable | effect shown by |
|---|---|
| OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER | test_each_signal_has_its_own_exporter_variable |
| lists (`otlp,console`) | test_a_list_of_exporters_feeds_each_of_them |
| OTEL_METRICS_EXPORTER=prometheus | test_prometheus_metrics_exporter |
| `none` per signal | test_none_turns_off_one_signal_only |
| OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_PROTOCOL | test_per_signal_protocol, test_per_signal_protocol_for_metrics_and_logs |
| OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT | test_per_signal_endpoints, test_endpoint_argument_beats_the_variables |
| OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS | test_headers_general_and_per_signal |
| OTEL_EXPORTER_OTLP_COMPRESSION / _METRICS_COMPRESSION | test_compression_general_and_per_signal |
| OTEL_EXPORTER_OTLP_TIMEOUT / _TRACES_TIMEOUT | test_timeout_variables_bound_one_export, test_export_timeout_argument_beats_the_timeout_variables |
| OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_KEY, _CLIENT_CERTIFICATE (+ per signal) | test_tls_certificate_variables |
| OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT | test_span_limits |
| OTEL_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT | test_general_attribute_limits |
| OTEL_SPAN_LINK_COUNT_LIMIT, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT | test_link_limits |
| OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG | test_samplers, test_traceidratio_keeps_about_that_share |
| OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME | test_resource_variables, test_resource_variables_beat_ours_and_arguments_beat_them, test_secrets_in_resource_variables_are_redacted_on_the_resource_every_signal_sends |
| OTEL_PROPAGATORS | test_propagators_variable |
| OTEL_BLRP_MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE, _SCHEDULE_DELAY | test_log_batch_variables |
| OTEL_BSP_MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE, _SCHEDULE_DELAY | test_span_batch_variables |
| OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT, OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT | test_log_record_limits |
| OTEL_METRIC_EXPORT_TIMEOUT | test_metric_export_timeout_variable |
| OTEL_METRIC_EXPORT_INTERVAL, OTEL_METRICS_EXEMPLAR_FILTER | test_metric_interval_and_exemplar_variables |
| OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, _DEFAULT_HISTOGRAM_AGGREGATION | test_metrics_temporality_variable |
| OTEL_SDK_DISABLED | test_sdk_disabled_builds_nothing |
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from tests.support.otlp_grpc_receiver import GrpcReceiver
from tests.support.otlp_receiver import Receiver


def _work() -> None:
    with oa.agent("a"), oa.tool("t"):
        logging.getLogger("app").warning("hello")


def _received(receiver: Receiver) -> tuple[int, int, int]:
    """(spans, metric requests, log records) the receiver got."""
    return len(receiver.spans()), len(receiver.metrics), len(receiver.log_records())


@pytest.fixture
def receivers() -> Any:
    made: list[Any] = []

    def make(kind: type = Receiver, **kwargs: Any) -> Any:
        receiver = kind(**kwargs)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def test_each_signal_has_its_own_exporter_variable(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_TRACES_EXPORTER=console leaves metrics and logs on OTLP, as OTEL_METRICS/LOGS_EXPORTER say."""
    receiver = receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "otlp")
    pipeline = make_pipeline(exporter=None)
    _work()
    assert pipeline.telemetry.force_flush(10)
    spans, metrics, logs = _received(receiver)
    assert spans == 0
    assert metrics > 0
    assert logs == 1


def test_none_turns_off_one_signal_only(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_TRACES_EXPORTER=none drops traces only; OTEL_METRICS_EXPORTER=none and OTEL_LOGS_EXPORTER=none likewise."""
    for off, expect in (("TRACES", (0, 1, 1)), ("METRICS", (1, 0, 1)), ("LOGS", (1, 1, 0))):
        receiver = receivers()
        for signal in ("TRACES", "METRICS", "LOGS"):
            monkeypatch.setenv(f"OTEL_{signal}_EXPORTER", "none" if signal == off else "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        pipeline = make_pipeline(exporter=None)
        _work()
        assert pipeline.telemetry.force_flush(10)
        assert tuple(min(n, 1) for n in _received(receiver)) == expect, off
        pipeline.telemetry.shutdown(5)
        from tests.conftest import reset_otel_globals

        reset_otel_globals()


_LIST = textwrap.dedent(
    """
    import otel_agents as oa
    telemetry = oa.configure()
    with oa.agent("a"), oa.tool("t"):
        pass
    telemetry.shutdown(5)
    """
)


def test_a_list_of_exporters_feeds_each_of_them(receivers: Any) -> None:
    """OTEL_TRACES_EXPORTER=otlp,console sends every span both over OTLP and to stdout."""
    receiver = receivers()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_TRACES_EXPORTER": "otlp,console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    result = subprocess.run(
        [sys.executable, "-c", _LIST], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(s.name for s in receiver.spans()) == ["execute_tool t", "invoke_agent a"]
    assert '"name": "execute_tool t"' in result.stdout
    assert '"name": "invoke_agent a"' in result.stdout
    assert receiver.metrics == []


_PROMETHEUS = textwrap.dedent(
    """
    import json, otel_agents as oa
    from otel_agents.integrations import prometheus
    # The launcher and setup_monitoring pass the same reader: it is used once.
    telemetry = oa.configure(metric_readers=[prometheus.reader()])
    with oa.agent("a"), oa.tool("t"):
        pass
    telemetry.force_flush(5)
    body, _ = prometheus.render()
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    readers = [
        "prometheus" if isinstance(r, PrometheusMetricReader) else type(r).__name__
        for r in telemetry.meter_provider._metric_readers
    ]
    print(json.dumps({"readers": readers, "calls": body.decode().count("otel_agents_calls_total{")}))
    telemetry.shutdown(5)
    """
)


def test_prometheus_metrics_exporter(tmp_path: Path) -> None:
    """OTEL_METRICS_EXPORTER=prometheus (a spec value) serves metrics through the one Prometheus reader
    and pushes them nowhere; traces keep their own exporter."""
    env = {
        **os.environ,
        "OTEL_AGENTS_HOME": str(tmp_path),
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_LOGS_EXPORTER": "none",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROMETHEUS], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ignoring" not in result.stderr, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"readers": ["prometheus"], "calls": 2}
    assert (tmp_path / "store.sqlite").exists()


def test_per_signal_protocol(make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc sends traces over gRPC while metrics and logs stay on HTTP."""
    http, grpc = receivers(), receivers(GrpcReceiver)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", http.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", grpc.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
    pipeline = make_pipeline(exporter=None)
    _work()
    assert pipeline.telemetry.force_flush(10)
    assert sorted(s.name for s in grpc.spans) == ["execute_tool t", "invoke_agent a"]
    assert grpc.metric_requests == grpc.log_requests == 0
    spans, metrics, logs = _received(http)
    assert (spans, min(metrics, 1), logs) == (0, 1, 1)


def test_per_signal_protocol_for_metrics_and_logs(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_PROTOCOL=grpc with OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/protobuf: logs alone on HTTP."""
    http, grpc = receivers(), receivers(GrpcReceiver)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", grpc.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", http.endpoint + "/v1/logs")
    pipeline = make_pipeline(exporter=None)
    _work()
    assert pipeline.telemetry.force_flush(10)
    assert len(grpc.spans) == 2
    assert grpc.metric_requests > 0
    assert grpc.log_requests == 0
    assert _received(http) == (0, 0, 1)


def test_per_signal_endpoints(make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT send each signal to its own receiver."""
    traces, metrics, logs = receivers(), receivers(), receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.endpoint + "/v1/traces")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics.endpoint + "/v1/metrics")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs.endpoint + "/v1/logs")
    pipeline = make_pipeline(exporter=None)
    _work()
    assert pipeline.telemetry.force_flush(10)
    assert _received(traces)[0] == 2 and _received(traces)[1:] == (0, 0)
    assert _received(metrics)[1] > 0 and _received(metrics)[::2] == (0, 0)
    assert _received(logs) == (0, 0, 1)


def test_endpoint_argument_beats_the_variables(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """configure(otlp_endpoint=...) wins over OTEL_EXPORTER_OTLP_ENDPOINT (argument > OTEL_*)."""
    wanted, other = receivers(), receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", other.endpoint)
    pipeline = make_pipeline(exporter="otlp", otlp_endpoint=wanted.endpoint)
    _work()
    assert pipeline.telemetry.force_flush(10)
    assert _received(wanted)[0] == 2
    assert _received(other) == (0, 0, 0)


def test_headers_general_and_per_signal(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_HEADERS goes on every request; OTEL_EXPORTER_OTLP_TRACES_HEADERS replaces it for traces."""
    receiver = receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme,x-all=1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=traces-only")
    pipeline = make_pipeline(exporter=None)
    _work()
    assert pipeline.telemetry.force_flush(10)
    assert {h["x-tenant"] for h in receiver.headers("/v1/traces")} == {"traces-only"}
    assert all("x-all" not in h for h in receiver.headers("/v1/traces"))
    for path in ("/v1/metrics", "/v1/logs"):
        assert receiver.headers(path)
        assert all(h["x-tenant"] == "acme" and h["x-all"] == "1" for h in receiver.headers(path))


def test_compression_general_and_per_signal(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses every signal except the one whose own variable says none."""
    receiver = receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none")
    pipeline = make_pipeline(exporter=None)
    _work()
    assert pipeline.telemetry.force_flush(10)
    assert _received(receiver)[0] == 2
    assert {h.get("content-encoding") for h in receiver.headers("/v1/traces")} == {"gzip"}
    assert {h.get("content-encoding") for h in receiver.headers("/v1/logs")} == {"gzip"}
    assert {h.get("content-encoding") for h in receiver.headers("/v1/metrics")} == {None}


def _exporter_of(pipeline: Any) -> Any:
    chain = pipeline.telemetry.tracer_provider._active_span_processor
    return next(q._exporter for q in chain._batches if "OTLP" in type(q._exporter).__name__)


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"])
def test_timeout_variables_bound_one_export(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """With the timeout variable at 0.5 s, one export to a collector that never answers gives up in about 0.5 s."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(100)
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{hole.getsockname()[1]}")
        monkeypatch.setenv(variable, "0.5")
        pipeline = make_pipeline(exporter=None, shutdown_timeout=1)
        with oa.tool("t") as t:
            span = t.span
        start = time.monotonic()
        result = _exporter_of(pipeline).export([span])
        elapsed = time.monotonic() - start
        assert result.name == "FAILURE"
        assert elapsed < 3, elapsed
    finally:
        hole.close()


def test_export_timeout_argument_beats_the_timeout_variables(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an argument the per-signal timeout variable beats the general one (and
    OTEL_METRIC_EXPORT_TIMEOUT sets the reader's); configure(export_timeout=) beats them all."""
    receiver = receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "30")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "40")
    monkeypatch.setenv("OTEL_METRIC_EXPORT_TIMEOUT", "50000")
    for argument, traces, reader in ((None, 40, 50000), (0.5, 0.5, 500)):
        pipeline = make_pipeline(exporter=None, export_timeout=argument)
        assert _exporter_of(pipeline)._client._timeout == traces
        readers = pipeline.telemetry.meter_provider._metric_readers
        periodic = [r for r in readers if type(r).__name__ == "PeriodicExportingMetricReader"]
        assert periodic
        assert all(r._export_timeout_millis == reader for r in periodic)
        pipeline.telemetry.shutdown(5)
        from tests.conftest import reset_otel_globals

        reset_otel_globals()


def _openssl_cert(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("infix", [None, "", "TRACES_"])
def test_tls_certificate_variables(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, infix: str | None
) -> None:
    """OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE, _CLIENT_KEY and _CLIENT_CERTIFICATE make mutual TLS work
    (also with REQUESTS_CA_BUNDLE set); without them nothing arrives."""
    server_cert, server_key = _openssl_cert(tmp_path, "server")
    client_cert, client_key = _openssl_cert(tmp_path, "client")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(server_cert, server_key)
    tls.verify_mode = ssl.CERT_REQUIRED
    tls.load_verify_locations(client_cert)
    receiver = receivers(tls=tls)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint + "/v1/traces")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    # requests would let this beat the session's CA file; the OTLP variable must win.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(client_cert))
    if infix is not None:
        monkeypatch.setenv(f"OTEL_EXPORTER_OTLP_{infix}CERTIFICATE", str(server_cert))
        monkeypatch.setenv(f"OTEL_EXPORTER_OTLP_{infix}CLIENT_CERTIFICATE", str(client_cert))
        monkeypatch.setenv(f"OTEL_EXPORTER_OTLP_{infix}CLIENT_KEY", str(client_key))
    pipeline = make_pipeline(exporter=None, export_timeout=1, shutdown_timeout=2)
    with oa.tool("t"):
        pass
    pipeline.telemetry.force_flush(3)
    assert [s.name for s in receiver.spans()] == ([] if infix is None else ["execute_tool t"])


def test_span_limits(pipeline_env: Any) -> None:
    """OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT and
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT cap what a span keeps."""
    pipeline = pipeline_env(
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT="12",
        OTEL_SPAN_EVENT_COUNT_LIMIT="2",
        OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT="1",
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT="20",
    )
    with oa.tool("t") as t:
        for i in range(30):
            t.set_attribute(f"k{i}", "v")
        t.set_attribute("k0", "x" * 100)
        for i in range(5):
            t.add_event(f"e{i}", {"a": 1, "b": 2})
    span = pipeline.span("execute_tool t")
    assert len(span.attributes) == 12
    assert span.attributes["k0"] == "x" * 20
    assert len(span.events) == 2
    assert all(len(e.attributes) == 1 for e in span.events)


def test_general_attribute_limits(pipeline_env: Any) -> None:
    """OTEL_ATTRIBUTE_COUNT_LIMIT caps attributes per span and OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT cuts long values."""
    pipeline = pipeline_env(OTEL_ATTRIBUTE_COUNT_LIMIT="8", OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT="64")
    with oa.tool("t") as t:
        for i in range(30):
            t.set_attribute(f"k{i}", "v")
        t.set_attribute("k0", "x" * 500)
    span = pipeline.span("execute_tool t")
    assert len(span.attributes) == 8
    assert len(span.attributes["k0"]) <= 64


def test_link_limits(pipeline_env: Any) -> None:
    """OTEL_SPAN_LINK_COUNT_LIMIT and OTEL_LINK_ATTRIBUTE_COUNT_LIMIT cap the links of a span."""
    from opentelemetry import trace

    pipeline = pipeline_env(OTEL_SPAN_LINK_COUNT_LIMIT="1", OTEL_LINK_ATTRIBUTE_COUNT_LIMIT="1")
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("a") as a, tracer.start_as_current_span("b") as b:
        links = [trace.Link(s.get_span_context(), {"x": 1, "y": 2}) for s in (a, b)]
    with tracer.start_as_current_span("linked", links=links):
        pass
    span = pipeline.span("linked")
    assert len(span.links) == 1
    assert len(span.links[0].attributes) == 1


@pytest.mark.parametrize(
    ("sampler", "arg", "exported"),
    [
        ("always_on", None, 20),
        ("always_off", None, 0),
        ("traceidratio", "0", 0),
        ("traceidratio", "1", 20),
        ("parentbased_always_on", None, 20),
        ("parentbased_always_off", None, 0),
        ("parentbased_traceidratio", "0", 0),
        ("parentbased_traceidratio", "1", 20),
    ],
)
def test_samplers(pipeline_env: Any, sampler: str, arg: str | None, exported: int) -> None:
    """OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG decide which traces are exported."""
    env = {"OTEL_TRACES_SAMPLER": sampler}
    if arg is not None:
        env["OTEL_TRACES_SAMPLER_ARG"] = arg
    pipeline = pipeline_env(**env)
    for _ in range(10):
        with oa.workflow("w"), oa.tool("t"):
            pass
    assert len(pipeline.spans()) == exported


def test_traceidratio_keeps_about_that_share(pipeline_env: Any) -> None:
    """OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=0.25 exports about a quarter of the traces."""
    pipeline = pipeline_env(OTEL_TRACES_SAMPLER="traceidratio", OTEL_TRACES_SAMPLER_ARG="0.25")
    for _ in range(400):
        with oa.tool("t"):
            pass
    assert 50 <= len(pipeline.spans()) <= 150


def test_resource_variables(pipeline_env: Any) -> None:
    """OTEL_RESOURCE_ATTRIBUTES lands on the resource; OTEL_SERVICE_NAME beats its service.name."""
    pipeline = pipeline_env(
        OTEL_RESOURCE_ATTRIBUTES="service.name=from-attrs,team=agents,deployment.environment.name=ci",
        OTEL_SERVICE_NAME="from-service-name",
    )
    attrs = pipeline.telemetry.resource.attributes
    assert attrs[semconv.SERVICE_NAME] == "from-service-name"
    assert attrs["team"] == "agents"
    assert attrs[semconv.DEPLOYMENT_ENVIRONMENT_NAME] == "ci"
    with oa.tool("t"):
        pass
    assert pipeline.span("execute_tool t").resource.attributes["team"] == "agents"


def test_secrets_in_resource_variables_are_redacted_on_the_resource_every_signal_sends(
    pipeline_env: Any,
) -> None:
    """A secret in OTEL_RESOURCE_ATTRIBUTES, under any key, leaves with no signal: spans, log records
    and metric points all carry the redacted resource; the plain attributes beside it stay."""
    from opentelemetry.sdk.resources import OTELResourceDetector

    secret = "sk-proj-" + "r3s0urc3" * 4
    env = f"ci.note=key {secret},db.password=hunter2hunter2,team=agents"
    pipeline = pipeline_env(OTEL_RESOURCE_ATTRIBUTES=env)
    # The variable reaches the SDK's own resource as it is: what follows is our redaction.
    assert OTELResourceDetector().detect().attributes["ci.note"] == f"key {secret}"
    with oa.tool("t"):
        logging.getLogger("resource.test").warning("hello")
    metrics = pipeline.reader.get_metrics_data()
    assert metrics is not None
    resources = {
        "telemetry": pipeline.telemetry.resource,
        "span": pipeline.span("execute_tool t").resource,
        "log": pipeline.logs()[-1].resource,
        "metrics": metrics.resource_metrics[0].resource,
    }
    for where, resource in resources.items():
        attrs = dict(resource.attributes)
        assert attrs["team"] == "agents", where
        assert secret not in str(attrs) and "hunter2" not in str(attrs), (where, attrs)
        assert str(attrs["ci.note"]).startswith("key [REDACTED"), (where, attrs)


def test_resource_variables_beat_ours_and_arguments_beat_them(
    make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_RESOURCE_ATTRIBUTES beats OTEL_AGENTS_SERVICE_NAME/_VERSION/_ENVIRONMENT/_INSTANCE_ID and the
    random instance id (OTEL_* > OTEL_AGENTS_* > default); configure() arguments beat it."""
    from tests.conftest import reset_otel_globals

    monkeypatch.setenv(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.name=std,service.version=9,deployment.environment.name=prod,service.instance.id=inst",
    )
    for name, value in (("SERVICE_NAME", "ours"), ("SERVICE_VERSION", "1"), ("ENVIRONMENT", "dev")):
        monkeypatch.setenv(f"OTEL_AGENTS_{name}", value)
    keys = (
        semconv.SERVICE_NAME,
        semconv.SERVICE_VERSION,
        semconv.DEPLOYMENT_ENVIRONMENT_NAME,
        semconv.SERVICE_INSTANCE_ID,
    )
    pipeline = make_pipeline()
    attrs = pipeline.telemetry.resource.attributes
    assert tuple(attrs[k] for k in keys) == ("std", "9", "prod", "inst")
    pipeline.telemetry.shutdown(5)
    reset_otel_globals()
    monkeypatch.setenv("OTEL_AGENTS_INSTANCE_ID", "our-instance")
    pipeline = make_pipeline(service_name="arg", service_version="2", environment="stage", instance_id="i-2")
    attrs = pipeline.telemetry.resource.attributes
    assert tuple(attrs[k] for k in keys) == ("arg", "2", "stage", "i-2")
    pipeline.telemetry.shutdown(5)
    reset_otel_globals()
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES")
    pipeline = make_pipeline()
    attrs = pipeline.telemetry.resource.attributes
    assert tuple(attrs[k] for k in keys) == ("ours", "1", "dev", "our-instance")


_PROPAGATE = textwrap.dedent(
    """
    import json, otel_agents as oa
    from opentelemetry import propagate
    # Every host allowed: by default run-context baggage stays in the process (docs/foreign-spans.md).
    oa.configure(exporter="none", baggage_hosts=["*"])
    carrier = {}
    with oa.run_context(run_id="r-1"), oa.tool("t"):
        propagate.inject(carrier)
    print(json.dumps(sorted(carrier)))
    """
)


@pytest.mark.parametrize(
    ("value", "keys"),
    [(None, ["baggage", "traceparent"]), ("tracecontext", ["traceparent"]), ("baggage", ["baggage"])],
)
def test_propagators_variable(value: str | None, keys: list[str]) -> None:
    """OTEL_PROPAGATORS picks what goes on outgoing requests (default: tracecontext and baggage)."""
    env = {k: v for k, v in os.environ.items() if k != "OTEL_PROPAGATORS"}
    if value is not None:
        env["OTEL_PROPAGATORS"] = value
    result = subprocess.run(
        [sys.executable, "-c", _PROPAGATE], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == keys


_DISABLED = textwrap.dedent(
    """
    import json, os, threading, otel_agents as oa
    from opentelemetry import trace
    before = {t.name for t in threading.enumerate()}
    telemetry = oa.configure()
    with oa.workflow("w"), oa.tool("t") as t:
        recording = t.span.is_recording()
    after = {t.name for t in threading.enumerate()}
    telemetry.force_flush(1)
    telemetry.shutdown(1)
    print(json.dumps({
        "new_threads": sorted(after - before),
        "store": telemetry.store is not None,
        "recording": recording,
        "files": sorted(os.listdir(os.environ["OTEL_AGENTS_HOME"])),
        "global": type(trace.get_tracer_provider()).__name__,
    }))
    """
)


def test_sdk_disabled_builds_nothing(tmp_path: Path) -> None:
    """OTEL_SDK_DISABLED=true: configure() opens no store, starts no thread, writes no file, installs no provider."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "OTEL_SDK_DISABLED": "true", "OTEL_AGENTS_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-c", _DISABLED], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "new_threads": [],
        "store": False,
        "recording": False,
        "files": [],
        "global": "ProxyTracerProvider",
    }
    # The same script without the variable does start threads and write the store: the check can fail.
    env.pop("OTEL_SDK_DISABLED")
    result = subprocess.run(
        [sys.executable, "-c", _DISABLED], capture_output=True, text=True, timeout=60, env=env
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["new_threads"] and seen["store"] and seen["files"]


@pytest.fixture
def pipeline_env(make_pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Factory: set the given variables, then build a pipeline with in-memory exporters."""

    def make(**env: str) -> Any:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return make_pipeline()

    return make


def _log_workers(pipeline: Any) -> list[Any]:
    provider = pipeline.telemetry.logger_provider
    processors = provider._multi_log_record_processor._log_record_processors
    stage = next(p for p in processors if hasattr(p, "_next"))
    while not hasattr(stage, "_processors"):  # content removal, redaction, then the fan-out
        stage = stage._next
    return [queue._worker for queue in stage._processors]


def test_log_batch_variables(pipeline_env: Any) -> None:
    """OTEL_BLRP_MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE and _SCHEDULE_DELAY (ms) set the log queues only."""
    pipeline = pipeline_env(
        OTEL_BLRP_MAX_QUEUE_SIZE="64", OTEL_BLRP_MAX_EXPORT_BATCH_SIZE="8", OTEL_BLRP_SCHEDULE_DELAY="250"
    )
    workers = _log_workers(pipeline)
    assert workers
    assert all((w._max_queue, w._max_batch, w._delay) == (64, 8, 0.25) for w in workers)
    chain = pipeline.telemetry.tracer_provider._active_span_processor
    assert chain._stage._max_queue == 2048  # the span side keeps OTEL_BSP_* / its defaults


def test_metric_export_timeout_variable(make_pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_METRIC_EXPORT_TIMEOUT (ms) is the periodic reader's export timeout."""
    monkeypatch.setenv("OTEL_METRIC_EXPORT_TIMEOUT", "1234")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "console")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    pipeline = make_pipeline(exporter=None)
    readers = pipeline.telemetry.meter_provider._metric_readers
    periodic = [r for r in readers if type(r).__name__ == "PeriodicExportingMetricReader"]
    assert periodic
    assert all(r._export_timeout_millis == 1234 for r in periodic)


def test_span_batch_variables(make_pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_BSP_MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE and _SCHEDULE_DELAY (ms) set the chain's queue and
    every span export queue; a schedule_delay argument beats the variable."""
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    for argument, delay in ((None, 0.25), (0.05, 0.05)):
        pipeline = make_pipeline(schedule_delay=argument)
        chain = pipeline.telemetry.tracer_provider._active_span_processor
        assert chain._stage._max_queue == 64
        assert chain._batches
        for queue in chain._batches:
            assert (queue._worker._max_queue, queue._worker._max_batch, queue._worker._delay) == (
                64,
                8,
                delay,
            )
        pipeline.telemetry.shutdown(5)
        from tests.conftest import reset_otel_globals

        reset_otel_globals()


def test_log_record_limits(pipeline_env: Any) -> None:
    """OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT and _VALUE_LENGTH_LIMIT cap what a bridged log record keeps."""
    pipeline = pipeline_env(
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT="3", OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT="7"
    )
    with pytest.warns(Warning):
        logging.getLogger("app").warning("hi", extra={f"k{i}": "v" * 50 for i in range(10)})
    [record] = [r for r in pipeline.logs() if r.log_record.body == "hi"]
    attributes = record.log_record.attributes
    assert len(attributes) == 3
    assert all(len(v) <= 7 for v in attributes.values() if isinstance(v, str))


def test_metric_interval_and_exemplar_variables(make_pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_METRIC_EXPORT_INTERVAL (ms) is the periodic reader's interval; OTEL_METRICS_EXEMPLAR_FILTER the
    meter provider's exemplar filter."""
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "1234")
    monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", "always_off")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "console")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    pipeline = make_pipeline(exporter=None)
    provider = pipeline.telemetry.meter_provider
    periodic = [r for r in provider._metric_readers if type(r).__name__ == "PeriodicExportingMetricReader"]
    assert periodic
    assert all(r._export_interval_millis == 1234 for r in periodic)
    assert type(provider._sdk_config.exemplar_filter).__name__ == "AlwaysOffExemplarFilter"


def test_metrics_temporality_variable(
    make_pipeline: Any, receivers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta makes the OTLP metric exporter ask for delta sums,
    and _DEFAULT_HISTOGRAM_AGGREGATION for exponential histograms."""
    from opentelemetry.sdk.metrics import Counter, Histogram
    from opentelemetry.sdk.metrics.export import AggregationTemporality

    receiver = receivers()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "base2_exponential_bucket_histogram"
    )
    pipeline = make_pipeline(exporter=None)
    exporters = [
        r._exporter for r in pipeline.telemetry.meter_provider._metric_readers if hasattr(r, "_exporter")
    ]
    # What the reader reads: our rewriting wrapper, which asks for what the OTLP exporter asks for.
    otlp = [e for e in exporters if type(getattr(e, "exporter", e)).__name__ == "OTLPMetricExporter"]
    assert otlp
    assert all(e._preferred_temporality[Counter] is AggregationTemporality.DELTA for e in otlp)
    assert all(
        type(e._preferred_aggregation[Histogram]).__name__ == "ExponentialBucketHistogramAggregation"
        for e in otlp
    )
