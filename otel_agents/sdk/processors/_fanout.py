"""Hand one log record to several processors, and flush or stop several, each guarded from the others."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Protocol

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord

from otel_agents.api._guard import attempt, never_raise

_GUARD_EMIT = never_raise("fanout.on_emit")


class _Stoppable(Protocol):
    def shutdown(self) -> None: ...

    def force_flush(self, timeout_millis: int = 30000) -> bool: ...


def shutdown_all(processors: Sequence[_Stoppable]) -> None:
    """Shut every processor down; one that raises does not stop the others."""
    for processor in processors:
        attempt("fanout.shutdown", processor.shutdown)


def flush_all(processors: Sequence[_Stoppable], timeout_millis: int) -> bool:
    """Flush every processor within one shared deadline; True only if all of them finished."""
    deadline = time.monotonic() + timeout_millis / 1000
    ok = True

    def remaining_ms() -> int:
        return int(max(deadline - time.monotonic(), 0) * 1000)

    for processor in processors:
        ok = attempt("fanout.force_flush", partial(processor.force_flush, remaining_ms())) and ok
    return ok


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
