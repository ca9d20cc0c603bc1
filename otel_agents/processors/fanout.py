"""Hand one span or log record to several processors, each one guarded from the others."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from opentelemetry import context as otel_context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from otel_agents.guard import never_raise

_GUARD_START = never_raise("fanout.on_start")
_GUARD_END = never_raise("fanout.on_end")
_GUARD_EMIT = never_raise("fanout.on_emit")


class _Stoppable(Protocol):
    def shutdown(self) -> None: ...

    def force_flush(self, timeout_millis: int = 30000) -> bool: ...


def shutdown_all(processors: Sequence[_Stoppable]) -> None:
    """Shut every processor down; one that raises does not stop the others."""
    for processor in processors:
        with never_raise("fanout.shutdown"):
            processor.shutdown()


def flush_all(processors: Sequence[_Stoppable], timeout_millis: int) -> bool:
    """Flush every processor within one shared deadline; True only if all of them finished."""
    deadline = time.monotonic() + timeout_millis / 1000
    ok = True
    for processor in processors:
        remaining = int(max(deadline - time.monotonic(), 0) * 1000)
        with never_raise("fanout.force_flush"):
            ok = processor.force_flush(remaining) and ok
    return ok


def needs_on_start(processor: SpanProcessor) -> bool:
    """False for processors that declare their ``on_start`` does nothing (ours set ``NEEDS_ON_START``)."""
    return bool(getattr(processor, "NEEDS_ON_START", True))


class FanOutSpanProcessor(SpanProcessor):
    """Calls every processor in order; one that raises does not keep the span from the others."""

    def __init__(self, processors: Sequence[SpanProcessor]) -> None:
        self._processors = tuple(processors)
        # on_start runs for every span: skip the processors whose on_start is a no-op.
        self._starters = tuple(p for p in self._processors if needs_on_start(p))
        self.NEEDS_ON_START = bool(self._starters)

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        for processor in self._starters:
            with _GUARD_START:
                processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            with _GUARD_END:
                processor.on_end(span)

    def shutdown(self) -> None:
        shutdown_all(self._processors)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return flush_all(self._processors, timeout_millis)


class FanOutLogProcessor(LogRecordProcessor):
    """Calls every log processor in order; one that raises does not keep the record from the others."""

    def __init__(self, processors: Sequence[LogRecordProcessor]) -> None:
        self._processors = tuple(processors)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        for processor in self._processors:
            with _GUARD_EMIT:
                processor.on_emit(log_record)

    def shutdown(self) -> None:
        shutdown_all(self._processors)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return flush_all(self._processors, timeout_millis)
