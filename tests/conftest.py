"""Shared fixtures: a fresh otel-agents pipeline per test, with in-memory exporters and readers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Internal errors must fail tests loudly; subprocesses inherit this too.
os.environ["OTEL_AGENTS_RAISE_INTERNAL_ERRORS"] = "1"
# Never write into the developer's real store.
os.environ.setdefault("OTEL_AGENTS_HOME", tempfile.mkdtemp(prefix="otel-agents-test-home-"))
for _var in (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_SERVICE_NAME",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
):
    os.environ.pop(_var, None)

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

from otel_agents.api import _counters as stats  # noqa: E402
from otel_agents.api._switches import switches  # noqa: E402
from otel_agents.sdk._configure import Telemetry, configure, current  # noqa: E402
from tests.support.otlp_receiver import Receiver  # noqa: E402


def reset_otel_globals() -> None:
    """Let a test install providers again (the API allows it once per process)."""
    from opentelemetry import _logs, metrics, trace
    from opentelemetry._logs import _internal as logs_internal
    from opentelemetry.metrics import _internal as metrics_internal
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    logs_internal._LOGGER_PROVIDER_SET_ONCE = Once()
    logs_internal._LOGGER_PROVIDER = None
    del _logs, metrics


@dataclass
class Captured:
    """What one configured pipeline exported, read synchronously."""

    telemetry: Telemetry
    spans_exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    logs_exporter: InMemoryLogRecordExporter

    def spans(self) -> list[ReadableSpan]:
        self.telemetry.force_flush(5)
        return list(self.spans_exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        matches = [s for s in self.spans() if s.name == name]
        assert len(matches) == 1, [s.name for s in self.spans()]
        return matches[0]

    def metric_points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        points: list[Any] = []
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def logs(self) -> list[Any]:
        self.telemetry.force_flush(5)
        return list(self.logs_exporter.get_finished_logs())


@pytest.fixture(autouse=True)
def _restore_content_switches() -> Iterator[None]:
    """configure() sets third-party content switches the user left unset; undo that per test."""
    from otel_agents.api import _semconv as semconv

    names = (semconv.ENV_TRACELOOP_TRACE_CONTENT, *semconv.ENV_OPENINFERENCE_HIDE)
    saved = {name: os.environ.get(name) for name in names}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def make_pipeline() -> Iterator[Any]:
    """Factory: configure() with in-memory exporters plus any options; torn down after the test."""
    made: list[Telemetry] = []

    def make(**options: Any) -> Captured:
        spans, logs, reader = InMemorySpanExporter(), InMemoryLogRecordExporter(), InMemoryMetricReader()
        options.setdefault("exporter", "none")
        options.setdefault("schedule_delay", 0.05)
        telemetry = configure(
            span_exporters=[spans], log_exporters=[logs], metric_readers=[reader], **options
        )
        made.append(telemetry)
        return Captured(telemetry, spans, reader, logs)

    leftover = current()
    if leftover is not None:
        # An app module imported by another test configured at import time: start clean.
        leftover.shutdown(1)
    reset_otel_globals()
    stats.reset()
    yield make
    for telemetry in made:
        telemetry.shutdown(5)
    switches.capture_content = False
    switches.log_events = False
    reset_otel_globals()


@pytest.fixture
def pipeline(make_pipeline: Any) -> Captured:
    """A pipeline with default options."""
    return make_pipeline()  # type: ignore[no-any-return]


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production behaviour: internal errors are swallowed and counted instead of re-raised."""
    monkeypatch.delenv("OTEL_AGENTS_RAISE_INTERNAL_ERRORS")


@pytest.fixture
def otlp_receiver() -> Iterator[Receiver]:
    """A running OTLP/HTTP receiver; its ``endpoint`` is the base URL."""
    receiver = Receiver()
    yield receiver
    receiver.close()
