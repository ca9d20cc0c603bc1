"""USD cost of an LLM call from its token usage, using the bundled ``genai-prices`` table offline."""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from otel_agents.api._guard import report


@dataclass(frozen=True)
class _FlatPrice:
    input_mtok: float
    output_mtok: float
    cache_read_mtok: float
    cache_write_mtok: float


def _flat(model_price: Any) -> _FlatPrice | None:
    """Per-million-token prices as floats, or None when the model has tiered prices."""
    parts = []
    for name in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok"):
        value = getattr(model_price, name, None)
        if value is None:
            parts.append(0.0)
        elif isinstance(value, (Decimal, int, float)):
            parts.append(float(value))
        else:
            return None
    return _FlatPrice(*parts)


@functools.lru_cache(maxsize=512)
def _lookup(model: str, provider: str | None) -> Any:
    # Imported here: the table takes ~100 ms to load and most processes never price a call.
    from genai_prices import Usage, calc_price

    try:
        result = calc_price(Usage(input_tokens=1), model_ref=model, provider_id=provider)
    except LookupError:
        return None
    return result.model_price


@functools.lru_cache(maxsize=512)
def _flat_price(model: str, provider: str | None) -> _FlatPrice | None:
    """``_flat`` of the model's price, once per model: it reads several Decimal fields."""
    model_price = _lookup(model, provider)
    return None if model_price is None else _flat(model_price)


# Held while the warm-up imports the table. A fork() during that import would copy a held
# import lock into the child (gunicorn --preload forks right after configure()), and the child's
# first priced call would then wait forever: fork waits for the warm-up to finish instead.
_warm_up_lock = threading.Lock()
_held_for_fork = False
FORK_WAIT_S = 5.0


def warm_up() -> None:
    """Load the price table now (it takes ~0.3 s), so the first priced LLM call does not wait."""
    with _warm_up_lock:
        try:
            _lookup("gpt-4o-mini", "openai")
        except Exception as exc:  # noqa: BLE001 - a broken table only costs us prices, never the app
            report("pricing.warm_up", exc)


def _before_fork() -> None:
    global _held_for_fork  # noqa: PLW0603 - fork bookkeeping for this module's one lock
    _held_for_fork = _warm_up_lock.acquire(timeout=FORK_WAIT_S)


def _after_fork() -> None:
    global _held_for_fork  # noqa: PLW0603 - fork bookkeeping for this module's one lock
    if _held_for_fork:
        _held_for_fork = False
        _warm_up_lock.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def cost_usd(
    model: str,
    provider: str | None,
    *,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float | None:
    """The cost in USD, or None when the model is unknown (never a made-up $0).

    ``input_tokens`` counts every input token, cache reads and writes included (as the GenAI
    conventions and the providers' own usage totals do); reads and writes are priced at their rates.
    """
    try:
        model_price = _lookup(model, provider)
        if model_price is None:
            return None
        flat = _flat_price(model, provider)
        if flat is not None:
            uncached = max(input_tokens - cache_read_tokens - cache_write_tokens, 0)
            return (
                uncached * flat.input_mtok
                + cache_read_tokens * (flat.cache_read_mtok or flat.input_mtok)
                + cache_write_tokens * (flat.cache_write_mtok or flat.input_mtok)
                + output_tokens * flat.output_mtok
            ) / 1_000_000
        from genai_prices import Usage

        usage = Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens or None,
            cache_write_tokens=cache_write_tokens or None,
        )
        return float(model_price.calc_price(usage)["total_price"])
    except Exception as exc:  # noqa: BLE001 - a pricing bug must not fail the user's LLM call
        report("pricing.cost_usd", exc)
        return None
