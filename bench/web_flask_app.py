"""The Flask app ``web_bench`` serves under gunicorn in each configuration, chosen by ``BENCH_MODE``."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

import otel_agents as oa
from bench._discard import Discard

MODES = ("bare", "sdk-floor", "contrib", "distro")

app = Flask(__name__)


@app.get("/run")
def run() -> dict[str, int]:
    """A small agent with one tool call: the same work as the FastAPI endpoint."""
    with oa.agent("bench_agent"), oa.tool("lookup", arguments={"q": "acme"}) as t:
        t.set_result({"hits": 3})
    return {"hits": 3}


def _contrib() -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": "bench"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(Discard()))
    meter_provider = MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    FlaskInstrumentor.instrument_app(app, tracer_provider=tracer_provider, meter_provider=meter_provider)


def _sdk_floor() -> None:
    """The least any SDK-based instrumentation of these requests does: the same three spans
    (a SERVER span from a minimal WSGI wrapper, the agent's and the tool's), the plain SDK's batch
    processor, no metrics: what the target rows lose at the very least."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Discard()))
    trace.set_tracer_provider(tracer_provider)
    tracer = tracer_provider.get_tracer("bench.floor")
    inner = app.wsgi_app

    def traced(environ: Any, start_response: Any) -> Any:
        with tracer.start_as_current_span("GET /run", kind=SpanKind.SERVER):
            return inner(environ, start_response)

    app.wsgi_app = traced  # type: ignore[method-assign]


def _distro() -> None:
    from otel_agents.integrations.flask import setup_monitoring

    setup_monitoring(app, service_name="bench", exporter="none", span_exporters=[Discard()])


MODE = os.environ.get("BENCH_MODE", "bare")
if MODE not in MODES:
    raise SystemExit(f"BENCH_MODE must be one of {', '.join(MODES)}")
if MODE == "contrib":
    _contrib()
elif MODE == "sdk-floor":
    _sdk_floor()
elif MODE == "distro":
    _distro()
