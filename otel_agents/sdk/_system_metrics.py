"""Process CPU and memory metrics (``configure(system_metrics=True)``) through the contrib instrumentor."""

from __future__ import annotations

import contextlib
from typing import Any, Final

EXTRA: Final = "system-metrics"
# Process metrics only: host-wide figures belong to the collector's hostmetrics receiver.
CONFIG: Final[dict[str, list[str] | None]] = {
    "process.cpu.time": ["user", "system"],
    "process.cpu.utilization": None,
    "process.memory.usage": None,
    "process.memory.virtual": None,
    "process.thread.count": None,
    "process.open_file_descriptor.count": None,
}


def available() -> bool:
    """True when ``opentelemetry-instrumentation-system-metrics`` can be imported."""
    try:
        import opentelemetry.instrumentation.system_metrics  # noqa: F401
    except ImportError:
        return False
    return True


def missing_message() -> str:
    """What to install for the option."""
    return f"needs opentelemetry-instrumentation-system-metrics: pip install 'otel-agents[{EXTRA}]'"


def start(meter_provider: Any) -> Any:
    """Observe this process's CPU, memory, threads and file descriptors through ``meter_provider``."""
    from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor

    instrumentor = SystemMetricsInstrumentor(config=CONFIG)
    # A previous pipeline in this process (tests, reconfiguration) left it instrumented.
    if getattr(instrumentor, "is_instrumented_by_opentelemetry", False):
        with contextlib.suppress(Exception):
            instrumentor.uninstrument()
    instrumentor.instrument(meter_provider=meter_provider)
    return instrumentor


def stop(instrumentor: Any) -> None:
    """Stop observing."""
    if getattr(instrumentor, "is_instrumented_by_opentelemetry", False):
        with contextlib.suppress(Exception):
            instrumentor.uninstrument()
