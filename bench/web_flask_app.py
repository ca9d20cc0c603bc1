"""The Flask app ``web_bench`` serves under gunicorn in each configuration, chosen by ``BENCH_MODE``."""

from __future__ import annotations

import os

from flask import Flask

import otel_agents as oa
from bench._discard import Discard

MODES = ("bare", "contrib", "distro")

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


def _distro() -> None:
    from otel_agents.integrations.flask import setup_monitoring

    setup_monitoring(app, service_name="bench", exporter="none", span_exporters=[Discard()])


MODE = os.environ.get("BENCH_MODE", "bare")
if MODE not in MODES:
    raise SystemExit(f"BENCH_MODE must be one of {', '.join(MODES)}")
if MODE == "contrib":
    _contrib()
elif MODE == "distro":
    _distro()
