"""The truncation rewriter: caps every string value at a length, with a marker saying how much went."""

from __future__ import annotations

from otel_agents.api import _semconv as semconv


class Truncator:
    """Rewriter: cut strings longer than ``max_length`` characters and say how many were cut."""

    count_attribute: str | None = semconv.TRUNCATED_COUNT

    def __init__(self, max_length: int) -> None:
        if max_length < 16:
            raise ValueError(f"max_length must be at least 16, got {max_length}")
        self.max_length = max_length

    def __call__(self, key: str, value: str) -> str:
        if len(value) <= self.max_length:
            return value
        cut = len(value) - self.max_length
        return value[: self.max_length] + semconv.TRUNCATED_MARKER.format(cut)
