"""USD cost of an LLM call from its token usage, using the bundled ``genai-prices`` table offline."""

from __future__ import annotations

import functools
import gc
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from otel_agents.api import _counters as stats
from otel_agents.api import _price_table as price_table
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import report
from otel_agents.api._threads import start_daemon


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
# Set once the warm-up has finished (loaded or failed); while it runs, calls are priced later.
_ready = threading.Event()
_warming = False
# Set when the pipeline shuts down: past this monotonic time nothing waits for the table, so a
# shutdown (SIGTERM) during the load stays within its bound and the costs left become unknown, counted.
_stop_at = float("inf")
_WAIT_SLICE_S = 0.05


def warm_up(*, freeze_gc: bool = False) -> None:
    """Load the price table now (it takes ~0.5 s), so the first priced LLM call does not wait;
    ``freeze_gc``: then move every live object (the table's ~35k) out of the collector's scans."""
    with _warm_up_lock:
        try:
            price_table.preload()
            _lookup("gpt-4o-mini", "openai")
            if freeze_gc:
                gc.freeze()
        except Exception as exc:  # noqa: BLE001 - a broken table only costs us prices, never the app
            report("pricing.warm_up", exc)
        finally:
            _ready.set()


def start_warm_up(*, freeze_gc: bool = False) -> None:
    """Load the table on a daemon thread; until it is loaded, calls are priced off the caller's thread."""
    global _warming, _stop_at  # noqa: PLW0603 - one process-wide table
    _stop_at = float("inf")
    if _warming or _ready.is_set():
        return
    _warming = True
    start_daemon(functools.partial(warm_up, freeze_gc=freeze_gc), "otel-agents-prices")


def loading() -> bool:
    """True while the background warm-up is still loading the table."""
    return _warming and not _ready.is_set()


def wait_loaded(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the warm-up, and never past ``stop_waiting``'s time; True
    when the table can be read at once."""
    if not _warming:
        return True
    end = time.monotonic() + timeout
    while not _ready.wait(max(min(_WAIT_SLICE_S, end - time.monotonic(), _stop_at - time.monotonic()), 0.0)):
        if time.monotonic() >= min(end, _stop_at):
            return False
    return True


def stop_waiting(at: float) -> None:
    """Nobody waits for the table past monotonic time ``at``: costs still deferred then become
    unknown (counted)."""
    global _stop_at  # noqa: PLW0603 - one process-wide table
    _stop_at = min(_stop_at, at)


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


class PriceRequest(NamedTuple):
    """An LLM call's usage, kept to be priced once the table is loaded."""

    model: str
    provider: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def cost(self) -> float | None:
        """``cost_usd`` of this usage; None (unknown, counted) if the table is still not loaded."""
        if loading():
            stats.count_drop("pricing.table_not_loaded")
            return None
        return cost_usd(
            self.model,
            self.provider,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
        )


def cost_attributes(cost: float | None) -> dict[str, float | bool]:
    """The span attributes that state ``cost``: the amount, or that it is unknown."""
    return {semconv.COST_UNKNOWN: True} if cost is None else {semconv.COST_USD: cost}


# Finished spans whose cost waits for the table: span id -> what to add to the span once it is
# loaded. The export pipeline settles them off the caller's thread. Bounded: a span that never
# reaches the pipeline (dropped, unsampled) leaves only a small entry behind.
_deferred: dict[int, Callable[[], Mapping[str, float | int | bool]]] = {}
DEFERRED_MAX = 1024
# How long the pipeline waits for the table before it records a deferred cost as unknown.
SETTLE_WAIT_S = 10.0


def defer(span_id: int, attributes: Callable[[], Mapping[str, float | int | bool]]) -> bool:
    """Leave ``attributes()`` for the pipeline to add to span ``span_id``; False when full."""
    if len(_deferred) >= DEFERRED_MAX:
        return False
    _deferred[span_id] = attributes
    return True


def has_deferred() -> bool:
    """True while some finished span still waits for its cost."""
    return bool(_deferred)


def take_deferred(span_id: int) -> Callable[[], Mapping[str, float | int | bool]] | None:
    """What to add to span ``span_id`` (once), or None when it waits for nothing."""
    return _deferred.pop(span_id, None)


def price_or_defer(request: PriceRequest, span_id: int | None) -> float | PriceRequest | None:
    """The call's cost now, or ``request`` itself once the pipeline was left to price span ``span_id``.

    Only while the background warm-up runs: the caller never waits for the table then.
    """
    if loading():
        if span_id is not None and defer(span_id, lambda: cost_attributes(request.cost())):
            return request
        wait_loaded(FORK_WAIT_S)
    return request.cost()


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
            return _flat_pricer(flat)(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
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


@functools.lru_cache(maxsize=512)
def _flat_pricer(flat: _FlatPrice) -> Callable[[int, int, int, int], float]:
    """The cost function of ``flat``: uncached input, cache reads and writes (at the input price
    when they have none) and output, per million tokens, with the prices bound as locals."""
    per_input, per_output = flat.input_mtok, flat.output_mtok
    per_read = flat.cache_read_mtok or per_input
    per_write = flat.cache_write_mtok or per_input

    def cost(input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> float:
        uncached = max(input_tokens - cache_read - cache_write, 0)
        total = uncached * per_input + cache_read * per_read + cache_write * per_write
        return (total + output_tokens * per_output) / 1_000_000

    return cost


def _unknown(input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> float | None:
    return None


def pricer(model: str, provider: str | None) -> Callable[[int, int, int, int], float | None]:
    """``cost_usd`` of this model as a function of (input, output, cache read, cache write) tokens,
    its price looked up once: a caller pricing many calls keeps it. Only once the table is loaded."""
    try:
        if _lookup(model, provider) is None:
            return _unknown
        flat = _flat_price(model, provider)
    except Exception:  # noqa: BLE001 - cost_usd reports it, call by call
        flat = None
    if flat is not None:
        return _flat_pricer(flat)

    def tiered(input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> float | None:
        return cost_usd(
            model,
            provider,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        )

    return tiered
