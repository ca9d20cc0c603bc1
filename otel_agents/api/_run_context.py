"""Run context ids in W3C baggage on the OTel context, the current agent, and the stamp spans get."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, cast

from opentelemetry import baggage
from opentelemetry import context as otel_context

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained
from otel_agents.api._walk import safe_str

# Baggage arrives from other processes: only these keys are trusted, and only this long.
MAX_BAGGAGE_VALUE: Final = 256
ALLOWED_KEYS: Final = frozenset(semconv.RUN_CONTEXT_KEYS)

_AGENT_KEY: Final = otel_context.create_key("otel_agents.agent")
_ROLLUP_KEY: Final = otel_context.create_key("otel_agents.rollup")
# The attributes every span in a context gets, computed once when the context is made.
_STAMP_KEY: Final = otel_context.create_key("otel_agents.stamp")
_NO_STAMP: Final[Mapping[str, str]] = MappingProxyType({})
# The last stamp computed for a context that carries none (a foreign library's), by identity:
# contexts are immutable, and sibling spans start in the same one. One slot, replaced whole, so a
# race only costs a recomputation.
_last_computed: tuple[otel_context.Context | None, Mapping[str, str]] = (None, _NO_STAMP)


@dataclass(frozen=True)
class RunContext:
    """The ids bound by one ``run_context`` block."""

    run_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    request_id: str | None = None
    conversation_id: str | None = None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = safe_str(value, MAX_BAGGAGE_VALUE)
    return text if text else None


@contextmanager
def run_context(
    *,
    run_id: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    request_id: str | None = None,
    conversation_id: str | None = None,
) -> Iterator[RunContext]:
    """Bind run/session/user/request ids for everything inside the block, across processes too.

    ``conversation_id`` (``gen_ai.conversation.id``) defaults to the session id: for most agent
    apps a session is the conversation.
    """
    merged: dict[str, str] = {}
    ctx_token = None
    try:
        ctx = with_ids(
            otel_context.get_current(),
            (
                (semconv.RUN_ID, run_id),
                (semconv.SESSION_ID, session_id),
                (semconv.USER_ID, user_id),
                (semconv.REQUEST_ID, request_id),
                (semconv.GEN_AI_CONVERSATION_ID, conversation_id),
            ),
        )
        merged = dict(current_ids(ctx))
        ctx_token = otel_context.attach(ctx)
    except Exception as exc:  # the block runs either way, without the ids it could not bind
        if not contained("api.run_context", exc):
            raise
    try:
        yield RunContext(
            run_id=merged.get(semconv.RUN_ID),
            session_id=merged.get(semconv.SESSION_ID),
            user_id=merged.get(semconv.USER_ID),
            request_id=merged.get(semconv.REQUEST_ID),
            conversation_id=merged.get(semconv.GEN_AI_CONVERSATION_ID),
        )
    finally:
        if ctx_token is not None:
            otel_context.detach(ctx_token)


def with_ids(ctx: otel_context.Context, ids: Iterable[tuple[str, object]]) -> otel_context.Context:
    """``ctx`` with the (key, value) run-context ids set in its baggage as ``run_context`` sets them
    (cleaned, None skipped) and its stamp computed; ids already in the baggage stay unless given."""
    for key, raw in ids:
        value = _clean(raw)
        if value is not None:
            ctx = baggage.set_baggage(key, value, ctx)
    return with_stamp(ctx)


def _compute_stamp(ctx: otel_context.Context | None) -> Mapping[str, str]:
    entries = baggage.get_all(ctx)
    agent = current_agent(ctx)
    if not entries and agent is None:
        # Every span outside any run context (most foreign spans) asks: one shared answer.
        return _NO_STAMP
    found: dict[str, str] = {}
    if entries:
        for key in ALLOWED_KEYS.intersection(entries):
            value = _clean(entries[key])
            if value is not None:
                found[key] = value
    session = found.get(semconv.SESSION_ID)
    if session is not None:
        found.setdefault(semconv.GEN_AI_CONVERSATION_ID, session)
    if agent is not None:
        found[semconv.GEN_AI_AGENT_NAME] = agent
    return MappingProxyType(found)


def stamp(ctx: otel_context.Context | None = None) -> Mapping[str, str]:
    """What every span in ``ctx`` carries: allow-listed run-context ids and the innermost agent."""
    global _last_computed  # noqa: PLW0603 - the one-slot memo described beside it
    if ctx is None:
        ctx = otel_context.get_current()
    cached = ctx.get(_STAMP_KEY)  # a Context is a dict: get_value without the call
    if isinstance(cached, MappingProxyType):
        return cached
    last = _last_computed
    if last[0] is ctx:
        return last[1]
    computed = _compute_stamp(ctx)
    _last_computed = (ctx, computed)
    return computed


def with_stamp(ctx: otel_context.Context) -> otel_context.Context:
    """``ctx`` with its stamp computed once, so spans started in it need no baggage lookup."""
    return otel_context.set_value(_STAMP_KEY, _compute_stamp(ctx), ctx)


def current_ids(ctx: otel_context.Context | None = None) -> Mapping[str, str]:
    """The run-context ids in force, from this process's ``run_context`` or incoming baggage."""
    return {k: v for k, v in stamp(ctx).items() if k in ALLOWED_KEYS}


def current_agent(ctx: otel_context.Context | None = None) -> str | None:
    """The name of the innermost agent running in ``ctx`` (default: the current context)."""
    value = otel_context.get_value(_AGENT_KEY, ctx)
    return value if isinstance(value, str) else None


def with_agent(name: str, ctx: otel_context.Context) -> otel_context.Context:
    """``ctx`` with ``name`` as the innermost agent."""
    return with_stamp(otel_context.set_value(_AGENT_KEY, name, ctx))


def with_run_state(
    ctx: otel_context.Context, *, agent: str | None = None, chain: tuple[object, ...] | None = None
) -> otel_context.Context:
    """``ctx`` with ``agent`` as the innermost agent (and its stamp, as ``with_agent`` sets them) and
    ``chain`` as the accumulators LLM and tool calls report to, in one copy: ``set_value`` copies it
    all each time."""
    values: dict[str, object] = dict(ctx)
    if agent is not None:
        values[_AGENT_KEY] = agent
        # A Context is a dict: the stamp reads the baggage and the agent from the values as they are.
        values[_STAMP_KEY] = _compute_stamp(cast(otel_context.Context, values))
    if chain is not None:
        values[_ROLLUP_KEY] = chain
    return otel_context.Context(values)


def rollup_chain(ctx: otel_context.Context | None = None) -> tuple[object, ...]:
    """The token/cost accumulators of the enclosing workflows and agents, innermost last."""
    value = otel_context.get_value(_ROLLUP_KEY, ctx)
    return value if isinstance(value, tuple) else ()


# What a framework's agent spans enclosing an oa span add to it, by the oa span's id: the innermost
# agent's name and their accumulators. The SDK finds them when the span starts (a framework's
# context holds no chain of ours) and the API takes them right after, so the span's calls count
# towards those agents too and the spans below it are named after them. Empty unless such an agent
# is open.
outer_rollups: dict[int, tuple[str | None, tuple[object, ...]]] = {}
OUTER_ROLLUPS_MAX: Final = 1024


def offer_outer_rollups(span_id: int, agent: str | None, chain: tuple[object, ...]) -> bool:
    """Leave ``agent`` and ``chain`` for the API to add to span ``span_id``'s context; False when full."""
    if len(outer_rollups) >= OUTER_ROLLUPS_MAX:
        return False
    outer_rollups[span_id] = (agent, chain)
    return True


def take_outer_rollups(
    chain: tuple[object, ...], span_id: int
) -> tuple[str | None, tuple[object, ...]] | None:
    """The framework agent's name and ``chain`` plus its accumulators (each once), if any were offered."""
    outer = outer_rollups.pop(span_id, None)
    if outer is None:
        return None
    agent, extra = outer
    return agent, chain + tuple(totals for totals in extra if totals not in chain)
