"""Frees a failed export's batch and request body at once, not at the next full garbage collection."""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Final

# An exporter that keeps the exception of a failed request in a local (the SDK's OTLP/HTTP client
# does) makes a cycle: exception -> traceback -> the finished frames -> their callers' frames
# (f_back) -> that local. Those frames also hold the batch of spans and the serialized request, so
# every failed export kept a few MiB until the cyclic collector's next full pass, which a large
# heap makes rare: with the collector down, tens of MiB.
_MAX_NOTED: Final = 16
_MAX_EXCEPTIONS: Final = 16
_MAX_FRAMES: Final = 512
_SUSPENDABLE: Final = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR

_state = threading.local()


def note(exc: BaseException) -> None:
    """Remember ``exc`` if this thread is exporting under ``releasing()`` (else do nothing)."""
    noted: list[BaseException] | None = getattr(_state, "noted", None)
    if noted is not None and len(noted) < _MAX_NOTED:
        noted.append(exc)


@contextlib.contextmanager
def releasing() -> Iterator[None]:
    """Around one export call: exceptions noted within it have their finished frames cleared after it."""
    noted: list[BaseException] = []
    outer = getattr(_state, "noted", None)
    _state.noted = noted
    try:
        yield
    finally:
        _state.noted = outer
        for exc in noted:
            clear_frames(exc)
        noted.clear()


def clear_frames(exc: BaseException) -> None:
    """Drop the locals of every finished frame ``exc`` (and its context and cause) reaches.

    Only frames whose call has returned are cleared: the exception's traceback and, above it, the
    callers that have returned too; the walk up stops at the first frame still running. A generator's
    frame is left alone (clearing it would close the generator).
    """
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    budget = _MAX_FRAMES
    while pending and len(seen) < _MAX_EXCEPTIONS:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        head = tb.tb_frame if tb is not None else None
        while tb is not None and budget > 0:
            _clear(tb.tb_frame)
            tb, budget = tb.tb_next, budget - 1
        above = head.f_back if head is not None else None
        while above is not None and budget > 0 and _clear(above):
            above, budget = above.f_back, budget - 1
        pending.extend(e for e in (current.__context__, current.__cause__) if e is not None)


def _clear(frame: FrameType) -> bool:
    """Clear ``frame`` unless it belongs to a generator; False if it is still running."""
    if frame.f_code.co_flags & _SUSPENDABLE:
        return True
    try:
        frame.clear()
    except RuntimeError:  # "cannot clear an executing frame"
        return False
    return True
