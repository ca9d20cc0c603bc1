"""The process-wide counters run no Python code while they hold their lock."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from otel_agents.api import _counters as stats


@pytest.mark.parametrize("count", [stats.count_drop, stats.count_error, stats.count_redaction])
def test_counting_a_reason_never_seen_calls_no_python_code_under_the_lock(
    count: Callable[[str], None],
) -> None:
    """Counting a new reason makes no Python-level call inside the counter (a Counter's __missing__
    did): SIGTERM's handler, which counts what shutdown drops, runs at such a call, and would wait
    forever for the lock the frame it interrupted holds."""
    calls: list[str] = []
    code = count.__code__

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_back is not None and frame.f_back.f_code is code:
            calls.append(frame.f_code.co_name)

    stats.reset()
    sys.settrace(tracer)
    try:
        count("a-reason-never-seen")
        count("a-reason-never-seen")
    finally:
        sys.settrace(None)
    assert calls == []
    assert {**stats.drops(), **stats.errors(), **stats.redactions()} == {"a-reason-never-seen": 2}
