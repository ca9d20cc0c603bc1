"""Hooks on every ``Export`` call of a stock OTLP/gRPC exporter: its answer and the error it raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class _WatchedStub:
    """A gRPC service stub whose ``Export`` hands its answer, or the error it raises, to hooks."""

    __slots__ = ("_inner", "_on_answer", "_on_error")

    def __init__(
        self, inner: Any, on_answer: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self._inner, self._on_answer, self._on_error = inner, on_answer, on_error

    def Export(self, *args: Any, **kwargs: Any) -> Any:
        try:
            answer = self._inner.Export(*args, **kwargs)
        except BaseException as exc:
            self._on_error(exc)
            raise
        self._on_answer(answer)
        return answer


def watch_export(
    exporter: Any, *, on_answer: Callable[[Any], None], on_error: Callable[[BaseException], None]
) -> None:
    """Have ``exporter``'s client, and each client it builds from ``_stub`` when it reconnects, call
    ``on_answer`` with every ``Export`` answer and ``on_error`` with every error. An exporter without
    those attributes (another version), or one already watched, is left as it is. The hooks must
    not raise."""
    stub, client = getattr(exporter, "_stub", None), getattr(exporter, "_client", None)
    if (
        isinstance(client, _WatchedStub)
        or not callable(stub)
        or not callable(getattr(client, "Export", None))
    ):
        return

    def watched_stub(channel: Any) -> _WatchedStub:
        return _WatchedStub(stub(channel), on_answer, on_error)

    exporter._stub = watched_stub
    exporter._client = _WatchedStub(client, on_answer, on_error)
