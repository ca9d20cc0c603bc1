"""The FastAPI app ``web_bench`` serves in each configuration, chosen by ``BENCH_MODE``."""

from __future__ import annotations

import inspect
import os
from typing import Any

from fastapi import FastAPI

import otel_agents as oa
from bench._discard import Discard

MODES = ("bare", "sdk-floor", "contrib", "contrib-lean", "distro")

MODE = os.environ.get("BENCH_MODE", "bare")
if MODE not in MODES:
    raise SystemExit(f"BENCH_MODE must be one of {', '.join(MODES)}")

# FastAPI 0.165+ has telemetry of its own, on by default (request and per-operation spans,
# metrics) whenever a global tracer provider is set. Each mode says what of it runs: contrib's
# baselines are contrib's middleware alone (not contrib plus FastAPI's own spans), the floor is
# FastAPI's own request span alone, and setup_monitoring sets it up itself.
_TELEMETRY: dict[str, dict[str, bool]] = {
    "contrib": {"tracing": False, "metrics": False, "logs": False},
    "contrib-lean": {"tracing": False, "metrics": False, "logs": False},
    "sdk-floor": {"metrics": False, "logs": False, "operation_spans": False},
}
_NATIVE = "telemetry" in inspect.signature(FastAPI.__init__).parameters

app = FastAPI(telemetry=_TELEMETRY[MODE]) if _NATIVE and MODE in _TELEMETRY else FastAPI()  # type: ignore[arg-type]


@app.get("/run")
async def run() -> dict[str, int]:
    """A small agent with one tool call."""
    with oa.agent("bench_agent"), oa.tool("lookup", arguments={"q": "acme"}) as t:
        t.set_result({"hits": 3})
    return {"hits": 3}


def _contrib(lean: bool) -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
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
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        exclude_spans=["receive", "send"] if lean else None,
    )


def _sdk_floor() -> None:
    """The least any SDK-based instrumentation of these requests does: the same three spans (the
    request's SERVER span, from FastAPI's own telemetry where it has it, else a minimal ASGI
    wrapper; the agent's; the tool's), the plain SDK's batch processor, no metrics."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Discard()))
    trace.set_tracer_provider(tracer_provider)
    if _NATIVE:
        return
    tracer = tracer_provider.get_tracer("bench.floor")

    class ServerSpan:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            with tracer.start_as_current_span("GET /run", kind=SpanKind.SERVER):
                await self.inner(scope, receive, send)

    app.add_middleware(ServerSpan)


def _distro() -> None:
    from otel_agents.integrations.fastapi import setup_monitoring

    setup_monitoring(app, service_name="bench", exporter="none", span_exporters=[Discard()])


if MODE in ("contrib", "contrib-lean"):
    _contrib(lean=MODE == "contrib-lean")
elif MODE == "sdk-floor":
    _sdk_floor()
elif MODE == "distro":
    _distro()
