"""Log fan-out: one log processor that raises does not keep records from the others."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otel_agents.api import _counters as stats
from otel_agents.sdk.processors._fanout import FanOutLogProcessor


class Raising(LogRecordProcessor):
    """A user log processor with a bug in every hook."""

    def on_emit(self, log_record: Any) -> None:
        raise RuntimeError("emit")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        raise RuntimeError("flush")

    def shutdown(self) -> None:
        raise RuntimeError("shutdown")


def test_fanout_hostile_processor_never_raises(lenient: None) -> None:
    """A raising log processor is isolated: the next one still exports, flush says it failed, errors are counted."""
    stats.reset()
    exporter = InMemoryLogRecordExporter()
    fanout = FanOutLogProcessor([Raising(), SimpleLogRecordProcessor(exporter)])
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(fanout)
    provider.get_logger("t").emit(body="hello", attributes={"n": float("nan")})
    assert [r.log_record.body for r in exporter.get_finished_logs()] == ["hello"]
    assert fanout.force_flush() is False
    provider.shutdown()
    errors = stats.errors()
    assert errors["fanout.on_emit"] == 1
    assert errors["fanout.force_flush"] == 1
    assert errors["fanout.shutdown"] == 1
