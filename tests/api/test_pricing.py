"""Pricing: USD cost from the bundled genai-prices table, offline; unknown models are unknown, not free."""

from __future__ import annotations

import pytest

from otel_agents.api._pricing import cost_usd


def test_known_model_cost() -> None:
    """gpt-4o-mini is priced per million input and output tokens from the bundled table."""
    assert cost_usd("gpt-4o-mini", "openai", input_tokens=812, output_tokens=64) == pytest.approx(
        (812 * 0.15 + 64 * 0.6) / 1e6
    )


def test_cached_input_tokens_are_cheaper() -> None:
    """Cache-read input tokens are priced at the cache rate, not the full input rate."""
    full = cost_usd("gpt-4o-mini", "openai", input_tokens=1000)
    cached = cost_usd("gpt-4o-mini", "openai", input_tokens=1000, cache_read_tokens=800)
    assert full is not None and cached is not None
    assert cached < full


def test_unknown_model_is_none() -> None:
    """A model the table does not know has no cost (None), never 0."""
    assert cost_usd("definitely-not-a-model", "nobody", input_tokens=10) is None


def test_pricing_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prices come from the installed package: with sockets disabled, a known model is still priced."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert cost_usd("claude-3-5-sonnet-latest", "anthropic", input_tokens=1000, output_tokens=10) is not None
