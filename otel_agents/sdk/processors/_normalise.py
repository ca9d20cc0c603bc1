"""Read other libraries' GenAI spans (semconv, OpenLLMetry, OpenInference, pydantic-ai) as our own."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, cast

from opentelemetry import context as otel_context
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, ReadableSpan, Span
from opentelemetry.trace.propagation import _SPAN_KEY

from otel_agents.api import _counters as stats
from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from otel_agents.api._handles import Totals
from otel_agents.api._run_context import offer_outer_rollups, rollup_chain, stamp
from otel_agents.api._walk import INT64_MAX
from otel_agents.sdk.processors._copy import copied
from otel_agents.sdk.processors._snapshot import attributes_of, span_attributes
from otel_agents.sdk.processors._stamping import set_all, stamped_attributes

# Open spans tracked at once; past this (spans that never end) new ones go untracked, counted.
_OPEN_MAX: Final = 65536

# Roles a span can play.
LLM: Final = 1
AGENT: Final = 2
TOOL: Final = 3
WORKFLOW: Final = 4

# Fields read from a span, each from the first of its source keys present and well-formed.
(
    _OP,
    _MODEL,
    _PROVIDER,
    _IN,
    _OUT,
    _CACHE_READ,
    _CACHE_WRITE,
    _REASONING,
    _AGENT,
    _TOOL,
    _RESPONSE_ID,
    _OI_KIND,
    _REQUEST_TYPE,
    _TL_KIND,
    _TL_NAME,
    _WORKFLOW,
) = range(16)
_N_FIELDS: Final = 16
_TOKEN_FIELDS: Final = frozenset((_IN, _OUT, _CACHE_READ, _CACHE_WRITE, _REASONING))
# Fields whose presence alone makes a span a GenAI span (names like the agent's are stamped on all).
_TRIGGERS: Final = frozenset(
    (
        _OP,
        _MODEL,
        _PROVIDER,
        _IN,
        _OUT,
        _CACHE_READ,
        _CACHE_WRITE,
        _REASONING,
        _OI_KIND,
        _REQUEST_TYPE,
        _TL_KIND,
    )
)

# key -> (field, rank): the lowest rank present wins. docs/foreign-spans.md lists the same table.
SOURCES: Final[Mapping[str, tuple[int, int]]] = {
    semconv.GEN_AI_OPERATION_NAME: (_OP, 0),
    semconv.GEN_AI_REQUEST_MODEL: (_MODEL, 0),
    semconv.GEN_AI_RESPONSE_MODEL: (_MODEL, 1),
    semconv.OI_MODEL_NAME: (_MODEL, 2),
    semconv.GEN_AI_PROVIDER_NAME: (_PROVIDER, 0),
    semconv.GEN_AI_SYSTEM: (_PROVIDER, 1),
    semconv.OI_PROVIDER: (_PROVIDER, 2),
    semconv.OI_SYSTEM: (_PROVIDER, 3),
    semconv.GEN_AI_USAGE_INPUT_TOKENS: (_IN, 0),
    semconv.GEN_AI_USAGE_PROMPT_TOKENS: (_IN, 1),
    semconv.OI_TOKENS_PROMPT: (_IN, 2),
    semconv.LLM_USAGE_PROMPT_TOKENS: (_IN, 3),
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: (_OUT, 0),
    semconv.GEN_AI_USAGE_COMPLETION_TOKENS: (_OUT, 1),
    semconv.OI_TOKENS_COMPLETION: (_OUT, 2),
    semconv.LLM_USAGE_COMPLETION_TOKENS: (_OUT, 3),
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: (_CACHE_READ, 0),
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: (_CACHE_READ, 1),
    semconv.OI_TOKENS_CACHE_READ: (_CACHE_READ, 2),
    semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: (_CACHE_WRITE, 0),
    semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: (_CACHE_WRITE, 1),
    semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD: (_CACHE_WRITE, 2),
    semconv.OI_TOKENS_CACHE_WRITE: (_CACHE_WRITE, 3),
    semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: (_REASONING, 0),
    semconv.GEN_AI_USAGE_REASONING_TOKENS_OLD: (_REASONING, 1),
    semconv.OI_TOKENS_REASONING: (_REASONING, 2),
    semconv.PYDANTIC_AI_REASONING_TOKENS: (_REASONING, 3),
    semconv.OI_AGENT_NAME: (_AGENT, 0),
    semconv.PYDANTIC_AI_AGENT_NAME: (_AGENT, 1),
    semconv.GEN_AI_AGENT_NAME: (_AGENT, 2),
    semconv.GEN_AI_TOOL_NAME: (_TOOL, 0),
    semconv.OI_TOOL_NAME: (_TOOL, 1),
    semconv.GEN_AI_RESPONSE_ID: (_RESPONSE_ID, 0),
    semconv.OI_SPAN_KIND: (_OI_KIND, 0),
    semconv.LLM_REQUEST_TYPE: (_REQUEST_TYPE, 0),
    semconv.TRACELOOP_SPAN_KIND: (_TL_KIND, 0),
    semconv.TRACELOOP_ENTITY_NAME: (_TL_NAME, 0),
    semconv.GEN_AI_WORKFLOW_NAME: (_WORKFLOW, 0),
    semconv.TRACELOOP_WORKFLOW_NAME: (_WORKFLOW, 1),
}
# Where each field is written when the span lacks it (the GenAI conventions' key).
_CANONICAL: Final = {
    _MODEL: semconv.GEN_AI_REQUEST_MODEL,
    _PROVIDER: semconv.GEN_AI_PROVIDER_NAME,
    _IN: semconv.GEN_AI_USAGE_INPUT_TOKENS,
    _OUT: semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    _CACHE_READ: semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    _CACHE_WRITE: semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    _REASONING: semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
}

# Content keys: removed from foreign spans while content capture is off.
CONTENT_KEYS: Final = frozenset(
    (
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
        semconv.GEN_AI_TOOL_CALL_RESULT,
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS_OLD,
        semconv.GEN_AI_PROMPT,
        semconv.GEN_AI_COMPLETION,
        semconv.GEN_AI_RETRIEVAL_QUERY_TEXT,
        semconv.GEN_AI_RETRIEVAL_DOCUMENTS,
        semconv.LLM_PROMPTS,
        semconv.LLM_COMPLETIONS,
        semconv.TRACELOOP_ENTITY_INPUT,
        semconv.TRACELOOP_ENTITY_OUTPUT,
        semconv.OI_INPUT_VALUE,
        semconv.OI_OUTPUT_VALUE,
        semconv.PYDANTIC_AI_ALL_MESSAGES,
        semconv.PYDANTIC_AI_FINAL_RESULT,
        semconv.PYDANTIC_AI_REQUEST_PARAMETERS,
        semconv.PYDANTIC_AI_TOOL_ARGUMENTS,
        semconv.PYDANTIC_AI_TOOL_RESPONSE,
        semconv.LOGFIRE_MESSAGES,
    )
)
# Indexed families (gen_ai.prompt.0.content, llm.input_messages.1.message.content...): every key
# under these prefixes is content except the structural ones ending in _KEEP_SUFFIXES.
CONTENT_PREFIXES: Final = (
    semconv.GEN_AI_PROMPT + ".",
    semconv.GEN_AI_COMPLETION + ".",
    semconv.OI_INPUT_MESSAGES + ".",
    semconv.OI_OUTPUT_MESSAGES + ".",
    semconv.OI_PROMPT_TEMPLATE + ".",
    semconv.LLM_PROMPTS + ".",
    semconv.LLM_COMPLETIONS + ".",
)
CONTENT_SUFFIXES: Final = ("." + semconv.OI_DOCUMENT_CONTENT, "." + semconv.OI_EMBEDDING_TEXT)
_KEEP_SUFFIXES: Final = (".role", ".finish_reason", ".tool_call_id", ".id", ".name", ".type", ".mime_type")
# Content keys with a generic name count as content only on a span that is GenAI for another reason.
GENERIC_CONTENT: Final = frozenset(
    (
        semconv.PYDANTIC_AI_FINAL_RESULT,
        semconv.PYDANTIC_AI_REQUEST_PARAMETERS,
        semconv.PYDANTIC_AI_TOOL_ARGUMENTS,
        semconv.PYDANTIC_AI_TOOL_RESPONSE,
        semconv.LOGFIRE_MESSAGES,
    )
)

_OI_ROLES: Final = {"LLM": LLM, "EMBEDDING": LLM, "AGENT": AGENT, "TOOL": TOOL}
_OI_OPS: Final = {"LLM": semconv.OP_CHAT, "EMBEDDING": semconv.OP_EMBEDDINGS}
_OP_ROLES: Final = {
    semconv.OP_INVOKE_AGENT: AGENT,
    semconv.OP_EXECUTE_TOOL: TOOL,
    semconv.OP_INVOKE_WORKFLOW: WORKFLOW,
    **{op: LLM for op in semconv.LLM_OPERATIONS},
}
_TL_ROLES: Final = {"agent": AGENT, "tool": TOOL, "workflow": WORKFLOW}
_REQUEST_OPS: Final = {
    "chat": semconv.OP_CHAT,
    "completion": semconv.OP_TEXT_COMPLETION,
    "embedding": semconv.OP_EMBEDDINGS,
}
_ROLE_OPS: Final = {
    AGENT: semconv.OP_INVOKE_AGENT,
    TOOL: semconv.OP_EXECUTE_TOOL,
    WORKFLOW: semconv.OP_INVOKE_WORKFLOW,
}
# Span-name shapes of agents and tools (GenAI conventions, pydantic-ai's older names).
_NAME_PREFIXES: Final = (
    (semconv.OP_INVOKE_AGENT + " ", AGENT),
    (semconv.OP_EXECUTE_TOOL + " ", TOOL),
    (semconv.OP_INVOKE_WORKFLOW + " ", WORKFLOW),
    ("running tool", TOOL),
    ("agent run", AGENT),
)
# Instrumentation scopes that record gen_ai.client.* metrics themselves: we do not add a copy.
# Both instruments: util-genai (contrib openai-v2) and OpenLLMetry's instrumentations.
UPSTREAM_METRIC_SCOPES: Final = (
    "opentelemetry.util.genai",
    "opentelemetry.instrumentation.openai",
    "opentelemetry.instrumentation.anthropic",
    "opentelemetry.instrumentation.bedrock",
    "opentelemetry.instrumentation.vertexai",
    "opentelemetry.instrumentation.google_generativeai",
    "opentelemetry.instrumentation.cohere",
    "opentelemetry.instrumentation.groq",
    "opentelemetry.instrumentation.mistralai",
    "opentelemetry.instrumentation.ollama",
    "opentelemetry.instrumentation.together",
    "opentelemetry.instrumentation.watsonx",
)
# Token usage only (no operation duration): pydantic-ai's instrumented models.
UPSTREAM_TOKEN_SCOPES: Final = (*UPSTREAM_METRIC_SCOPES, "pydantic-ai", "pydantic_ai")
# Scopes whose spans are tracked from their start even outside any agent: their kind often comes late.
GENAI_SCOPE_WORDS: Final = (
    "openinference",
    "openai",
    "anthropic",
    "genai",
    "pydantic",
    "logfire",
    "traceloop",
    "langchain",
    "llama",
    "agents",
)
# OpenInference's LangChain spans get their kind only at their end, AGENT exactly when the run's name
# contains "agent" (its _update_span; no langchain run type maps to AGENT): read at start the same way.
OI_LANGCHAIN_SCOPE: Final = "openinference.instrumentation.langchain"
_OI_LANGCHAIN_AGENT: Final = "agent"
# Scope flags: a GenAI library's scope, and OpenInference's LangChain one.
_GENAI: Final = 1
_LANGCHAIN: Final = 2
_START_KEYS: Final = frozenset(
    (
        semconv.OI_SPAN_KIND,
        semconv.GEN_AI_OPERATION_NAME,
        semconv.TRACELOOP_SPAN_KIND,
        semconv.LLM_REQUEST_TYPE,
    )
)
_ALL_PREFIXES: Final = tuple(prefix for prefix, _ in _NAME_PREFIXES)
_MAX_NAME: Final = 256
# A token count past int64 is malformed: no OTLP exporter or SQLite column could carry it, and it
# would price a call at trillions of dollars.
_MAX_TOKENS: Final = INT64_MAX
_PLAN_CACHE_MAX: Final = 4096
# The plans' keys hold every attribute key of a layout: the cache is also bounded by their length.
_PLAN_CACHE_CHARS: Final = 4 * 1024 * 1024
# Longer scope names (none real) are not remembered: each entry stays small.
_REMEMBERED_CHARS: Final = 256
_SEEN_MAX: Final = 4096
_PRICERS_MAX: Final = 512
_MISSING: Final = object()
_NO_ATTRIBUTES: Final[Mapping[str, Any]] = MappingProxyType({})
_NO_VALUES: Final[list[Any]] = [None] * _N_FIELDS  # read only
# The three span-name prefixes whose rest is the subject's name.
_SUBJECT_PREFIXES: Final = tuple(prefix for prefix, _ in _NAME_PREFIXES[:3])


class _State:
    """What one foreign span's start learnt, for its own end and for the spans below it."""

    __slots__ = ("agent", "chain", "llm_child", "parent", "stamped", "totals")

    def __init__(self, parent: _State | None, chain: tuple[Totals, ...]) -> None:
        self.parent = parent
        self.chain = chain
        self.agent: str | None = parent.agent if parent is not None else None
        self.stamped: str | None = None
        # The span id (an int, formatted only when it marks a duplicate) of the LLM call inside.
        self.llm_child: int | None = None
        self.totals: Totals | None = None


class _Plan:
    """For one (span name, attribute keys) layout: which keys feed which field, which are content,
    and which of our keys it lacks, all worked out once so a span of a known layout only reads."""

    __slots__ = ("canonical", "content", "fields", "has", "name_role", "read")

    def __init__(
        self,
        fields: tuple[tuple[str, int, int], ...],
        content: tuple[str, ...],
        name_role: int,
        keys: tuple[str, ...],
    ) -> None:
        self.fields = fields
        self.content = frozenset(content)
        self.name_role = name_role
        self.read = _reader(fields)
        layout = frozenset(keys)
        # The canonical keys this layout lacks for the fields it feeds, written when the span has
        # the field's value.
        fed = {f for _, f, _ in fields}
        self.canonical = tuple((f, k) for f, k in _CANONICAL.items() if f in fed and k not in layout)
        self.has = layout


def _reader(fields: tuple[tuple[str, int, int], ...]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A function reading one layout's fields from its attributes: per field, the best-ranked
    well-formed value, a key read only when every better-ranked one was malformed.

    It is generated once per layout, straight-line code with the keys as constants: the loop it
    replaces cost more than all the rest of mapping a span of a known layout. The generated source
    holds only our own keys (every key is one of ``SOURCES``), field numbers and names below."""
    by_field: dict[int, list[tuple[int, str]]] = {}
    for key, field, rank in fields:
        if key not in SOURCES:  # never: _make_plan reads only these
            raise ValueError(key)
        by_field.setdefault(field, []).append((rank, key))
    lines = ["def read(attrs):"]
    for field, sources in sorted(by_field.items()):
        if field in _TOKEN_FIELDS:
            malformed = f"v.__class__ is not int or not 0 <= v <= {_MAX_TOKENS}"
        else:
            malformed = f"v.__class__ is not str or not 0 < len(v) <= {_MAX_NAME}"
        indent = "    "
        for i, (_, key) in enumerate(sorted(sources)):
            if i:
                lines.append(f"{indent}if v is None:")
                indent += "    "
            lines.append(f"{indent}v = attrs[{key!r}]")
            # The well-formed common case inline; _valid settles (and counts) the rest.
            lines.append(f"{indent}if {malformed}:")
            indent += "    "
            lines.append(f"{indent}v = _valid({field}, v)")
        lines.append(f"    v{field} = v")
    values = ", ".join(f"v{f}" if f in by_field else "None" for f in range(_N_FIELDS))
    lines.append(f"    return [{values}]")
    namespace: dict[str, Any] = {"_valid": _valid}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own keys and numbers only, see above
    return cast(Callable[[Mapping[str, Any]], list[Any]], namespace["read"])


def is_content_key(key: str) -> bool:
    """True for a key that holds prompts, completions, tool arguments or results in some dialect."""
    if key in CONTENT_KEYS:
        return True
    if key.startswith(CONTENT_PREFIXES):
        return not key.endswith(_KEEP_SUFFIXES)
    return key.endswith(CONTENT_SUFFIXES)


def _name_role(name: str) -> int:
    if not name.startswith(_ALL_PREFIXES):  # most names: one call instead of the loop
        return 0
    for prefix, role in _NAME_PREFIXES:
        if name.startswith(prefix):
            return role
    return 0


def _make_plan(name: str, keys: tuple[str, ...]) -> _Plan | None:
    fields = tuple((k, *SOURCES[k]) for k in keys if k in SOURCES)
    content = tuple(k for k in keys if is_content_key(k))
    name_role = _name_role(name)
    genai = (
        name_role
        or any(f in _TRIGGERS for _, f, _ in fields)
        or any(k not in GENERIC_CONTENT for k in content)
    )
    if not genai:
        return None
    return _Plan(fields, content, name_role, keys)


def _count_malformed(field: int) -> None:
    stats.count_drop("normalise.malformed_tokens" if field in _TOKEN_FIELDS else "normalise.malformed_value")


def _valid(field: int, value: Any) -> Any:
    """``value`` as the field's type, or None (counted) when it is malformed."""
    if field in _TOKEN_FIELDS:
        if value.__class__ is int:
            if 0 <= value <= _MAX_TOKENS:
                return value
        elif isinstance(value, float) and 0 <= value <= _MAX_TOKENS and value.is_integer():
            return int(value)
        _count_malformed(field)
        return None
    if isinstance(value, str) and 0 < len(value) <= _MAX_NAME:
        return value
    _count_malformed(field)
    return None


def _operation(role: int, values: list[Any]) -> str:
    """The ``gen_ai.operation.name`` of a span that has none, from its role and dialect keys."""
    op = _ROLE_OPS.get(role)
    if op is None:
        kind = values[_OI_KIND]
        op = _OI_OPS.get(kind.upper()) if kind is not None else None
        op = op or _REQUEST_OPS.get(values[_REQUEST_TYPE], semconv.OP_CHAT)
    return op


def _role(values: list[Any], name_role: int) -> int:
    kind = values[_OI_KIND]
    if kind is not None:
        return _OI_ROLES.get(kind.upper(), 0)
    op = values[_OP]
    if op is not None and op in _OP_ROLES:
        return _OP_ROLES[op]
    tl_kind = values[_TL_KIND]
    if tl_kind is not None and tl_kind in _TL_ROLES:
        return _TL_ROLES[tl_kind]
    if values[_REQUEST_TYPE] in _REQUEST_OPS:
        return LLM
    return name_role


def _start_role(name: str, attrs: Mapping[str, Any]) -> int:
    """The role as far as a span's start attributes tell (many libraries add them only at the end)."""
    kind = attrs.get(semconv.OI_SPAN_KIND)
    if isinstance(kind, str):
        return _OI_ROLES.get(kind.upper(), 0)
    op = attrs.get(semconv.GEN_AI_OPERATION_NAME)
    if isinstance(op, str) and op in _OP_ROLES:
        return _OP_ROLES[op]
    tl_kind = attrs.get(semconv.TRACELOOP_SPAN_KIND)
    if isinstance(tl_kind, str) and tl_kind in _TL_ROLES:
        return _TL_ROLES[tl_kind]
    if attrs.get(semconv.LLM_REQUEST_TYPE) in _REQUEST_OPS:
        return LLM
    return _name_role(name)


def _own_name(name: str, values: list[Any], role: int, state: _State | None) -> str:
    """An agent's, tool's or workflow's own name: a dialect key, else the span name's subject."""
    if role == TOOL:
        dialect = values[_TOOL]
    elif role == WORKFLOW:
        dialect = values[_WORKFLOW]
    else:
        dialect = values[_AGENT]
        # gen_ai.agent.name may be the enclosing agent's, stamped on this span at its start.
        if dialect is not None and state is not None and dialect == state.stamped:
            dialect = None
    if dialect is None:
        dialect = values[_TL_NAME]
    if dialect is not None:
        return str(dialect)
    for prefix in _SUBJECT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name[:_MAX_NAME]


def upstream_client_metrics(scope_name: str | None) -> tuple[bool, bool]:
    """Whether this scope's library records gen_ai.client.token.usage, and .operation.duration, itself."""
    if scope_name is None:
        return False, False
    return scope_name.startswith(UPSTREAM_TOKEN_SCOPES), scope_name.startswith(UPSTREAM_METRIC_SCOPES)


class Normaliser:
    """Maps foreign GenAI spans onto our keys, prices them, rolls them up and marks duplicates."""

    def __init__(self, *, capture_content: bool = False) -> None:
        self.capture_content = capture_content
        # (span name, *attribute keys) -> plan.
        self._plans: dict[tuple[str, ...], _Plan | None] = {}
        self._plan_chars = 0
        # Response id -> span id of the first span seen with it (0: a span without a context).
        self._seen: dict[str, tuple[int]] = {}
        self._pricers: dict[tuple[str, str | None], Callable[[int, int, int, int], float | None]] = {}
        self._scopes: dict[str, int] = {}
        # Open foreign spans by span id: the SDK hands on_end a copy, not the span on_start saw.
        self._open: dict[int, _State] = {}
        self.open_spans = self._open  # truthy while any foreign span is tracked
        self._table_loaded = False

    def _genai_scope(self, span: Span) -> int:
        scope = span._instrumentation_scope  # the field: the property costs as much as the lookup
        name = scope.name if scope is not None else ""
        known = self._scopes.get(name)
        if known is None:
            if name == OI_LANGCHAIN_SCOPE:
                known = _LANGCHAIN
            else:
                known = _GENAI if any(word in name.lower() for word in GENAI_SCOPE_WORDS) else 0
            if len(name) <= _REMEMBERED_CHARS:
                if len(self._scopes) >= _PLAN_CACHE_MAX:
                    self._scopes.clear()
                self._scopes[name] = known
        return known

    # --- start -----------------------------------------------------------------------------
    def start(self, span: Span, parent_context: otel_context.Context | None) -> None:
        """Stamp the run context, then what the parent span knows: agent name, roll-up targets."""
        ctx = parent_context if parent_context is not None else otel_context.get_current()
        name = span._name
        # Start attributes are read only for GenAI libraries' scopes and GenAI-shaped names: an
        # HTTP or SQL span costs no attribute read here. They are read in place (only read).
        genai = self._genai_scope(span)
        shaped = name.startswith(_ALL_PREFIXES)
        raw: Mapping[str, Any] = _NO_ATTRIBUTES
        role = 0
        if genai or shaped:
            live = span._attributes
            raw = live._dict if live.__class__ is BoundedAttributes else attributes_of(span.attributes)
            if not _START_KEYS.isdisjoint(raw):
                role = _start_role(name, raw)
            elif shaped:
                role = _name_role(name)
            elif genai == _LANGCHAIN and _OI_LANGCHAIN_AGENT in name.lower():
                role = AGENT
        own = None
        if role == AGENT:
            own_name = raw.get(semconv.OI_AGENT_NAME) or raw.get(semconv.GEN_AI_AGENT_NAME)
            if not (isinstance(own_name, str) and own_name):
                own_name = _own_name(name, _NO_VALUES, AGENT, None)
            own = own_name[:_MAX_NAME]
        # The run context's stamp and the agent names below go in one SDK call: each call takes
        # the span's lock and checks every value again.
        stamped = stamp(ctx)
        update = stamped_attributes(span, stamped) if stamped else {}
        parent_id = _sdk_span_id(otel_context.get_value(_SPAN_KEY, ctx)) if self._open else None
        pstate = self._open.get(parent_id) if parent_id is not None else None
        chain = pstate.chain if pstate is not None else cast(tuple[Totals, ...], rollup_chain(ctx))
        # Tracked: GenAI libraries' spans (their kind may come only at the end), spans with a role,
        # spans below tracked ones, and any span inside an oa run (it may turn out to be an LLM
        # call at its end). Other spans cost only the stamp.
        if pstate is None and not chain and not role and not genai:
            set_all(span, update)
            return
        state = _State(pstate, chain)
        if own is not None:
            # An agent's own name is written with the rest of its mapping at its end, not here
            # (one SDK call fewer); it names the spans below from now on.
            state.agent = own
            update.pop(semconv.GEN_AI_AGENT_NAME, None)
        elif pstate is not None and pstate.agent is not None:
            update[semconv.GEN_AI_AGENT_NAME] = pstate.agent
            state.stamped = pstate.agent
        else:
            state.stamped = state.agent = stamped.get(semconv.GEN_AI_AGENT_NAME)
        set_all(span, update)
        span_id = span.get_span_context().span_id
        if role == LLM and pstate is not None:
            # The parent, if it turns out to be an LLM span too, wraps this call: it is the duplicate.
            pstate.llm_child = span_id
        if len(self._open) >= _OPEN_MAX:
            stats.count_drop("normalise.open_spans_full")
            return
        self._open[span_id] = state

    def start_own(self, span: Span, parent_context: otel_context.Context | None) -> None:
        """An ``otel_agents`` span inside a framework's agent takes that agent's name."""
        if not self._open:
            return
        ctx = parent_context if parent_context is not None else otel_context.get_current()
        parent_id = _sdk_span_id(otel_context.get_value(_SPAN_KEY, ctx))
        pstate = self._open.get(parent_id) if parent_id is not None else None
        if pstate is None:
            return
        attrs = span.attributes or {}
        operation = attrs.get(semconv.GEN_AI_OPERATION_NAME)
        # Every oa span the API opens has an operation; it takes the offer right after this hook.
        if operation is not None and not offer_outer_rollups(
            span.context.span_id,
            pstate.agent,
            (*pstate.chain, *reversed(_targets(pstate, (), inclusive=True))),
        ):
            stats.count_drop("normalise.outer_rollups_full")
        # An oa.agent keeps its own name; everything else is named after the enclosing agent.
        if pstate.agent is not None and operation != semconv.OP_INVOKE_AGENT:
            span.set_attribute(semconv.GEN_AI_AGENT_NAME, pstate.agent)

    # --- end -------------------------------------------------------------------------------
    def plan(self, name: str, attrs: Mapping[str, Any]) -> _Plan | None:
        """The cached plan for this span's layout; None when it is no GenAI span."""
        key = (name, *attrs)
        plan = self._plans.get(key, _MISSING)
        return self._new_plan(key) if plan is _MISSING else plan  # type: ignore[return-value]

    def _new_plan(self, key: tuple[str, ...]) -> _Plan | None:
        plan = _make_plan(key[0], key[1:])
        chars = sum(map(len, key))
        if chars <= _PLAN_CACHE_CHARS:
            if len(self._plans) >= _PLAN_CACHE_MAX or self._plan_chars + chars > _PLAN_CACHE_CHARS:
                self._plans.clear()
                self._plan_chars = 0
            self._plans[key] = plan
            self._plan_chars += chars
        return plan

    def end(self, span: ReadableSpan) -> ReadableSpan:
        """``span`` itself when nothing maps, else a copy with our keys added and content removed."""
        # The hot path of every foreign span, a pop and a plan lookup for one with no GenAI key:
        # it reads the SDK's fields directly (each property costs as much as the lookup). The
        # attributes are read in place, not copied: once a span has ended, the SDK refuses every
        # write to them (under the span's lock, before on_end).
        state = None
        if self._open:
            context = span._context
            if context is not None:
                state = self._open.pop(context.span_id, None)
        attrs: Any = span._attributes
        if attrs.__class__ is BoundedAttributes:
            attrs = attrs._dict
        elif attrs.__class__ is not dict:
            attrs = span_attributes(span)
        key = (span._name, *attrs)
        plan = self._plans.get(key, _MISSING)
        if plan is _MISSING:
            plan = self._new_plan(key)
        if plan is None:
            return span
        return self._normalise(span, attrs, plan, state)  # type: ignore[arg-type]

    def _normalise(
        self, span: ReadableSpan, attrs: Mapping[str, Any], plan: _Plan, state: _State | None
    ) -> ReadableSpan:
        values = plan.read(attrs)
        role = _role(values, plan.name_role)
        add: dict[str, Any] = {}
        if role:
            if semconv.GEN_AI_OPERATION_NAME not in plan.has:
                add[semconv.GEN_AI_OPERATION_NAME] = _operation(role, values)
            if role == LLM:
                self._map_llm(span, attrs, values, state=state, add=add, plan=plan)
            else:
                self._map(span, attrs, values, role=role, state=state, add=add)
        drop = frozenset() if self.capture_content else plan.content
        events: Any = None  # None: the span's own
        cleaned = False
        if not self.capture_content:
            if span._events:  # has_events, inlined: the hot path of every mapped span
                original = span.events  # a new tuple on every access: read it once
                events = self._clean_events(original)
                cleaned = events is not original
            else:
                events = ()
        if not add and not drop and not cleaned:
            return span
        final = {**attrs, **add} if not drop else {k: v for k, v in attrs.items() if k not in drop} | add
        return copied(span, attributes=final, events=events)

    def _map(
        self,
        span: ReadableSpan,
        attrs: Mapping[str, Any],
        values: list[Any],
        *,
        role: int,
        state: _State | None,
        add: dict[str, Any],
    ) -> None:
        """An agent's, tool's or workflow's name, hand-off and roll-up."""
        name = _own_name(span.name, values, role, state)
        if role == AGENT:
            if attrs.get(semconv.GEN_AI_AGENT_NAME) != name:
                add[semconv.GEN_AI_AGENT_NAME] = name
        elif role == TOOL:
            if semconv.GEN_AI_TOOL_NAME not in attrs:
                add[semconv.GEN_AI_TOOL_NAME] = name
            _handoff(span.name, attrs, add)
            chain = state.chain if state is not None else ()
            for totals in _targets(state, chain):
                totals.add_tool()
        elif semconv.GEN_AI_WORKFLOW_NAME not in attrs:
            add[semconv.GEN_AI_WORKFLOW_NAME] = name
        if role in (AGENT, WORKFLOW) and state is not None and state.totals is not None:
            totals = state.totals
            rolled = totals.attributes()
            if rolled.keys().isdisjoint(attrs):
                add.update(rolled)
            else:
                add.update((k, v) for k, v in rolled.items() if k not in attrs)
            if totals.pending and span.context is not None:
                # The span's own keys stay; the cost joins once the calls inside are priced.
                pricing.defer(
                    span.context.span_id,
                    lambda: {k: v for k, v in totals.attributes().items() if k not in attrs},
                )

    def _map_llm(
        self,
        span: ReadableSpan,
        attrs: Mapping[str, Any],
        values: list[Any],
        *,
        state: _State | None,
        add: dict[str, Any],
        plan: _Plan,
    ) -> None:
        for field, key in plan.canonical:
            value = values[field]
            if value is not None:
                add[key] = value.lower() if field == _PROVIDER else value
        context = span._context  # the field, not the property: as in end()
        span_id = context.span_id if context is not None else 0
        duplicate = state.llm_child if state is not None else None
        response_id = values[_RESPONSE_ID]
        if duplicate is None and response_id is not None:
            seen = self._seen
            if len(seen) >= _SEEN_MAX:
                seen.clear()
            # One atomic step instead of a lock: of two spans of one response, exactly one finds
            # the other's entry (a fresh tuple, so finding it is told apart from having added it).
            mine = (span_id,)
            first = seen.setdefault(response_id, mine)
            if first is not mine:
                duplicate = first[0]
        if duplicate is not None:
            add[semconv.DUPLICATE_OF] = f"{duplicate:016x}" if duplicate else ""
            return
        if state is not None and state.parent is not None and state.parent.llm_child is None:
            state.parent.llm_child = span_id
        ins, outs = values[_IN], values[_OUT]
        cost, bad_cost = _own_cost(attrs) if semconv.COST_USD in plan.has else (None, False)
        if bad_cost:
            add[semconv.COST_UNKNOWN] = True
        model = values[_MODEL]
        priced: float | pricing.PriceRequest | None = cost
        if cost is None and not bad_cost and model is not None and (ins is not None or outs is not None):
            # Once loaded, the table stays loaded: no need to ask again on every span.
            if not self._table_loaded and pricing.loading():
                provider = (values[_PROVIDER] or "").lower() or None
                request = pricing.PriceRequest(
                    model, provider, ins or 0, outs or 0, values[_CACHE_READ] or 0, values[_CACHE_WRITE] or 0
                )
                priced = pricing.price_or_defer(request, span_id if context is not None else None)
            else:
                self._table_loaded = True
                spelt = values[_PROVIDER]
                price = self._pricers.get((model, spelt)) or self._pricer(model, spelt)
                priced = price(ins or 0, outs or 0, values[_CACHE_READ] or 0, values[_CACHE_WRITE] or 0)
            if priced is None:
                add[semconv.COST_UNKNOWN] = True
            elif not isinstance(priced, pricing.PriceRequest):
                add[semconv.COST_USD] = priced
        if state is not None and (state.parent is not None or state.chain):
            for totals in _targets(state, state.chain):
                totals.add_llm(ins or 0, outs or 0, priced)

    def _pricer(self, model: str, provider: str | None) -> Callable[[int, int, int, int], float | None]:
        """The pricer of ``model`` and ``provider`` as the span spells it (looked up lower-cased)."""
        key = (model, provider)
        price = self._pricers.get(key)
        if price is None:
            if len(self._pricers) >= _PRICERS_MAX:
                self._pricers.clear()
            price = self._pricers[key] = pricing.pricer(model, (provider or "").lower() or None)
        return price

    def _clean_events(self, events: Any) -> Any:
        out = None
        for i, event in enumerate(events):
            attrs = attributes_of(event.attributes)
            if any(is_content_key(k) for k in attrs):
                if out is None:
                    out = list(events)
                kept = {k: v for k, v in attrs.items() if not is_content_key(k)}
                out[i] = Event(event.name, kept, event.timestamp)
        return events if out is None else tuple(out)


def _own_cost(attrs: Mapping[str, Any]) -> tuple[float | None, bool]:
    """A span's own cost: (it, False) when well formed; (None, True), counted, when it is not.

    A negative, NaN or infinite cost would corrupt every roll-up above the span: the span keeps its
    own value, and the call's cost is unknown."""
    cost = attrs[semconv.COST_USD]
    if cost.__class__ in (int, float) and math.isfinite(cost) and cost >= 0:
        return cost, False
    stats.count_drop("normalise.malformed_value")
    return None, True


def _sdk_span_id(span: object) -> int | None:
    """The span id of an SDK span (the only kind the normaliser tracks), else None."""
    # The class first: isinstance against the SDK's abstract Span type costs half a microsecond.
    if span is None or not (span.__class__ is Span or isinstance(span, Span)):
        return None
    context = span._context
    return context.span_id if context is not None else None


def _handoff(name: str, attrs: Mapping[str, Any], add: dict[str, Any]) -> None:
    """A framework's hand-off tool span as our routing edge (source agent -> target agent)."""
    if semconv.ROUTE_SOURCE in attrs:
        return
    source, target = attrs.get(semconv.HANDOFF_FROM), attrs.get(semconv.HANDOFF_TO)
    if target is None and name.startswith(semconv.HANDOFF_SPAN_PREFIX):
        target = name[len(semconv.HANDOFF_SPAN_PREFIX) :]
        source = attrs.get(semconv.GEN_AI_AGENT_NAME)
    if isinstance(source, str) and isinstance(target, str) and source and target:
        add[semconv.ROUTE_SOURCE] = source[:_MAX_NAME]
        add[semconv.ROUTE_TARGET] = target[:_MAX_NAME]


def _targets(state: _State | None, chain: tuple[Totals, ...], *, inclusive: bool = False) -> list[Totals]:
    """The accumulators a finished call counts towards: every foreign ancestor's (from ``state``
    itself when ``inclusive``), then ours."""
    out: list[Totals] = []
    ancestor = state if inclusive or state is None else state.parent
    while ancestor is not None:
        if ancestor.totals is None:
            ancestor.totals = Totals()
        out.append(ancestor.totals)
        ancestor = ancestor.parent
    out.extend(chain)
    return out
