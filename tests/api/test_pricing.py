"""Pricing: USD cost from the bundled genai-prices table, offline; unknown models are unknown, not free."""

from __future__ import annotations

from typing import Any

import pytest

from otel_agents.api._pricing import cost_usd, pricer


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


def test_cache_writes_are_priced_at_their_rate() -> None:
    """claude-3-5-sonnet, 6,000 input tokens of which 5,000 cache writes, 100 output: $0.02325."""
    cost = cost_usd(
        "claude-3-5-sonnet", "anthropic", input_tokens=6000, output_tokens=100, cache_write_tokens=5000
    )
    assert cost == pytest.approx(0.02325)


def test_record_usage_prices_cache_creation(pipeline: Any) -> None:
    """oa.llm's record_usage passes cache_creation_input_tokens to the price."""
    import otel_agents as oa
    from otel_agents.api import _semconv as semconv

    with oa.llm("claude-3-5-sonnet", provider="anthropic") as llm:
        llm.record_usage(input_tokens=6000, output_tokens=100, cache_creation_input_tokens=5000)
    span = pipeline.span("chat claude-3-5-sonnet")
    assert span.attributes[semconv.COST_USD] == pytest.approx(0.02325)


@pytest.mark.parametrize(
    ("model", "provider"),
    [("gpt-4o-mini", "openai"), ("claude-3-5-sonnet", "anthropic"), ("no-such-model-xyz", None)],
)
def test_pricer_prices_like_cost_usd(model: str, provider: str | None) -> None:
    """A pricer, the model's price looked up once, gives cost_usd's figure (or None) for any usage."""
    price = pricer(model, provider)
    for usage in ((6000, 100, 0, 5000), (1000, 100, 400, 0), (0, 0, 0, 0), (11, 7, 0, 0)):
        expected = cost_usd(
            model,
            provider,
            input_tokens=usage[0],
            output_tokens=usage[1],
            cache_read_tokens=usage[2],
            cache_write_tokens=usage[3],
        )
        assert price(*usage) == expected
    assert (price(11, 7, 0, 0) is None) == model.startswith("no-such-model")
