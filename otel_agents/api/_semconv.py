"""Every span name, attribute key, metric name and value this package emits, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from opentelemetry.semconv._incubating.attributes import deployment_attributes as _deployment
from opentelemetry.semconv._incubating.attributes import event_attributes as _event
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv._incubating.attributes import http_attributes as _http_old
from opentelemetry.semconv._incubating.attributes import net_attributes as _net_old
from opentelemetry.semconv.attributes import client_attributes as _client
from opentelemetry.semconv.attributes import error_attributes as _error
from opentelemetry.semconv.attributes import exception_attributes as _exception
from opentelemetry.semconv.attributes import http_attributes as _http
from opentelemetry.semconv.attributes import network_attributes as _network
from opentelemetry.semconv.attributes import server_attributes as _server
from opentelemetry.semconv.attributes import service_attributes as _service
from opentelemetry.semconv.attributes import telemetry_attributes as _telemetry
from opentelemetry.semconv.attributes import url_attributes as _url
from opentelemetry.semconv.attributes import user_agent_attributes as _user_agent
from opentelemetry.semconv.metrics import http_metrics as _http_metrics
from opentelemetry.semconv.schemas import Schemas as _Schemas

# --- upstream general attribute keys ---------------------------------------------------------
ERROR_TYPE: Final = _error.ERROR_TYPE
CLIENT_ADDRESS: Final = _client.CLIENT_ADDRESS
SERVICE_NAME: Final = _service.SERVICE_NAME
SERVICE_VERSION: Final = _service.SERVICE_VERSION
SERVICE_INSTANCE_ID: Final = _service.SERVICE_INSTANCE_ID
DEPLOYMENT_ENVIRONMENT_NAME: Final = _deployment.DEPLOYMENT_ENVIRONMENT_NAME
SERVER_ADDRESS: Final = _server.SERVER_ADDRESS
SERVER_PORT: Final = _server.SERVER_PORT
URL_FULL: Final = _url.URL_FULL
# Our Flask server spans (integrations/_flask_native.py), in the stable HTTP conventions.
HTTP_REQUEST_METHOD: Final = _http.HTTP_REQUEST_METHOD
HTTP_REQUEST_METHOD_ORIGINAL: Final = _http.HTTP_REQUEST_METHOD_ORIGINAL
HTTP_RESPONSE_STATUS_CODE: Final = _http.HTTP_RESPONSE_STATUS_CODE
HTTP_ROUTE: Final = _http.HTTP_ROUTE
URL_SCHEME: Final = _url.URL_SCHEME
URL_PATH: Final = _url.URL_PATH
URL_QUERY: Final = _url.URL_QUERY
NETWORK_PROTOCOL_VERSION: Final = _network.NETWORK_PROTOCOL_VERSION
USER_AGENT_ORIGINAL: Final = _user_agent.USER_AGENT_ORIGINAL
METRIC_HTTP_SERVER_DURATION: Final = _http_metrics.HTTP_SERVER_REQUEST_DURATION
# A method HTTP does not define, as the conventions spell it, and the name of a span it names.
HTTP_METHOD_OTHER: Final = "_OTHER"
HTTP_SPAN_NAME_OTHER: Final = "HTTP"
NET_PEER_NAME: Final = _net_old.NET_PEER_NAME  # deprecated: read from HTTP client spans, never written
HTTP_URL: Final = _http_old.HTTP_URL  # deprecated: read from HTTP client spans, never written
EXCEPTION_TYPE: Final = _exception.EXCEPTION_TYPE
EXCEPTION_MESSAGE: Final = _exception.EXCEPTION_MESSAGE
EXCEPTION_STACKTRACE: Final = _exception.EXCEPTION_STACKTRACE
TELEMETRY_DISTRO_NAME: Final = _telemetry.TELEMETRY_DISTRO_NAME
TELEMETRY_DISTRO_VERSION: Final = _telemetry.TELEMETRY_DISTRO_VERSION

# --- upstream GenAI attribute keys -------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = _gen_ai.GEN_AI_OPERATION_NAME
GEN_AI_PROVIDER_NAME: Final = _gen_ai.GEN_AI_PROVIDER_NAME
GEN_AI_REQUEST_MODEL: Final = _gen_ai.GEN_AI_REQUEST_MODEL
GEN_AI_RESPONSE_MODEL: Final = _gen_ai.GEN_AI_RESPONSE_MODEL
GEN_AI_RESPONSE_ID: Final = _gen_ai.GEN_AI_RESPONSE_ID
GEN_AI_RESPONSE_FINISH_REASONS: Final = _gen_ai.GEN_AI_RESPONSE_FINISH_REASONS
GEN_AI_AGENT_NAME: Final = _gen_ai.GEN_AI_AGENT_NAME
GEN_AI_AGENT_ID: Final = _gen_ai.GEN_AI_AGENT_ID
GEN_AI_AGENT_DESCRIPTION: Final = _gen_ai.GEN_AI_AGENT_DESCRIPTION
GEN_AI_AGENT_VERSION: Final = _gen_ai.GEN_AI_AGENT_VERSION
GEN_AI_WORKFLOW_NAME: Final = _gen_ai.GEN_AI_WORKFLOW_NAME
GEN_AI_TOOL_NAME: Final = _gen_ai.GEN_AI_TOOL_NAME
GEN_AI_TOOL_CALL_ID: Final = _gen_ai.GEN_AI_TOOL_CALL_ID
GEN_AI_TOOL_TYPE: Final = _gen_ai.GEN_AI_TOOL_TYPE
GEN_AI_TOOL_DESCRIPTION: Final = _gen_ai.GEN_AI_TOOL_DESCRIPTION
GEN_AI_TOOL_CALL_ARGUMENTS: Final = _gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS
GEN_AI_TOOL_CALL_RESULT: Final = _gen_ai.GEN_AI_TOOL_CALL_RESULT
GEN_AI_INPUT_MESSAGES: Final = _gen_ai.GEN_AI_INPUT_MESSAGES
GEN_AI_OUTPUT_MESSAGES: Final = _gen_ai.GEN_AI_OUTPUT_MESSAGES
GEN_AI_USAGE_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_INPUT_TOKENS
GEN_AI_USAGE_OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
GEN_AI_TOKEN_TYPE: Final = _gen_ai.GEN_AI_TOKEN_TYPE
GEN_AI_REQUEST_TEMPERATURE: Final = _gen_ai.GEN_AI_REQUEST_TEMPERATURE
GEN_AI_REQUEST_MAX_TOKENS: Final = _gen_ai.GEN_AI_REQUEST_MAX_TOKENS
GEN_AI_SYSTEM: Final = _gen_ai.GEN_AI_SYSTEM  # deprecated: read, never written
GEN_AI_SYSTEM_INSTRUCTIONS: Final = _gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS
GEN_AI_USAGE_PROMPT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_PROMPT_TOKENS  # deprecated: read only
GEN_AI_USAGE_COMPLETION_TOKENS: Final = _gen_ai.GEN_AI_USAGE_COMPLETION_TOKENS  # deprecated: read only
GEN_AI_PROMPT: Final = _gen_ai.GEN_AI_PROMPT  # deprecated content key, also OpenLLMetry's prefix
GEN_AI_COMPLETION: Final = _gen_ai.GEN_AI_COMPLETION  # deprecated content key, also OpenLLMetry's prefix
GEN_AI_REQUEST_TOP_K: Final = _gen_ai.GEN_AI_REQUEST_TOP_K
GEN_AI_REQUEST_STREAM: Final = _gen_ai.GEN_AI_REQUEST_STREAM
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = _gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
GEN_AI_CONVERSATION_ID: Final = _gen_ai.GEN_AI_CONVERSATION_ID
GEN_AI_DATA_SOURCE_ID: Final = _gen_ai.GEN_AI_DATA_SOURCE_ID
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = _gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
GEN_AI_REQUEST_ENCODING_FORMATS: Final = _gen_ai.GEN_AI_REQUEST_ENCODING_FORMATS
GEN_AI_RETRIEVAL_QUERY_TEXT: Final = _gen_ai.GEN_AI_RETRIEVAL_QUERY_TEXT
GEN_AI_RETRIEVAL_DOCUMENTS: Final = _gen_ai.GEN_AI_RETRIEVAL_DOCUMENTS

# --- upstream GenAI values ---------------------------------------------------------------
OP_INVOKE_WORKFLOW: Final = _gen_ai.GenAiOperationNameValues.INVOKE_WORKFLOW.value
OP_INVOKE_AGENT: Final = _gen_ai.GenAiOperationNameValues.INVOKE_AGENT.value
OP_EXECUTE_TOOL: Final = _gen_ai.GenAiOperationNameValues.EXECUTE_TOOL.value
OP_CHAT: Final = _gen_ai.GenAiOperationNameValues.CHAT.value
OP_TEXT_COMPLETION: Final = _gen_ai.GenAiOperationNameValues.TEXT_COMPLETION.value
OP_GENERATE_CONTENT: Final = _gen_ai.GenAiOperationNameValues.GENERATE_CONTENT.value
OP_EMBEDDINGS: Final = _gen_ai.GenAiOperationNameValues.EMBEDDINGS.value
LLM_OPERATIONS: Final = frozenset((OP_CHAT, OP_TEXT_COMPLETION, OP_GENERATE_CONTENT, OP_EMBEDDINGS))
OP_RETRIEVAL: Final = _gen_ai.GenAiOperationNameValues.RETRIEVAL.value
# Defined by semantic-conventions-genai; the upstream Python package has no constant for it yet.
OP_PLAN: Final = "plan"
TOKEN_TYPE_INPUT: Final = _gen_ai.GenAiTokenTypeValues.INPUT.value
TOKEN_TYPE_OUTPUT: Final = _gen_ai.GenAiTokenTypeValues.COMPLETION.value
TOOL_TYPE_FUNCTION: Final = "function"

# --- GenAI events (log records): their names, and the body keys that hold content ----------
# (OpenLLMetry's, pydantic-ai's and the older openai-v2 events: a message's content, a tool call's
# arguments; the newer events carry gen_ai.input.messages & co. as attributes instead)
EVENT_NAME: Final = _event.EVENT_NAME
GEN_AI_EVENT_PREFIX: Final = "gen_ai."
EVENT_BODY_CONTENT_KEYS: Final = frozenset(("content", "arguments"))

# --- span names (GenAI conventions: "{operation} {name}") -----------------------------------
SPAN_WORKFLOW: Final = OP_INVOKE_WORKFLOW + " {}"
SPAN_AGENT: Final = OP_INVOKE_AGENT + " {}"
SPAN_TOOL: Final = OP_EXECUTE_TOOL + " {}"
SPAN_LLM: Final = "{} {}"
SPAN_ROUTE: Final = "route {}"
SPAN_PLAN: Final = OP_PLAN + " {}"
SPAN_RETRIEVAL: Final = OP_RETRIEVAL + " {}"
SPAN_EMBEDDINGS: Final = OP_EMBEDDINGS + " {}"

# --- gen_ai.provider.name when the caller names none: inferred from the model, else this ------
PROVIDER_UNKNOWN: Final = "unknown"
# Model-name prefixes of well-known providers, values as semantic-conventions-genai lists them.
PROVIDER_BY_MODEL_PREFIX: Final = (
    ("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"), ("chatgpt", "openai"),
    ("text-embedding-", "openai"), ("claude", "anthropic"), ("gemini", "gcp.gemini"),
    ("mistral", "mistral_ai"), ("codestral", "mistral_ai"), ("command", "cohere"),
    ("deepseek", "deepseek"), ("grok", "x_ai"), ("sonar", "perplexity"),
)  # fmt: skip

# --- routing: not standardised, so ours; gen_ai.* is reserved for the conventions --------------
ROUTE_SOURCE: Final = "otel_agents.route.source"
ROUTE_TARGET: Final = "otel_agents.route.target"
# The keys before 0.2 (proposal semantic-conventions-genai #98): written too with the
# legacy_route_keys option, for one release; readers accept both.
LEGACY_ROUTE_SOURCE: Final = "gen_ai.agent.handoff.source.name"
LEGACY_ROUTE_TARGET: Final = "gen_ai.agent.handoff.target.name"
ROUTE_CANDIDATES: Final = "otel_agents.route.candidates"
ROUTE_REASON: Final = "otel_agents.route.reason"
ROUTE_CONFIDENCE: Final = "otel_agents.route.confidence"

# --- cost and roll-ups: not standardised ----------------------------------------------------
COST_USD: Final = "otel_agents.cost.usd"
COST_UNKNOWN: Final = "otel_agents.cost.unknown"
COST_UNKNOWN_CALLS: Final = "otel_agents.cost.unknown_calls"
LLM_CALLS: Final = "otel_agents.llm.calls"
TOOL_CALLS: Final = "otel_agents.tool.calls"
# On a span that describes a model call another span already counts: that span's id (hex).
DUPLICATE_OF: Final = "otel_agents.llm.duplicate_of"

# --- run context (also W3C baggage keys) ------------------------------------------------------
RUN_ID: Final = "otel_agents.run.id"
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"
REQUEST_ID: Final = "otel_agents.request.id"
RUN_CONTEXT_KEYS: Final = (RUN_ID, SESSION_ID, USER_ID, REQUEST_ID, GEN_AI_CONVERSATION_ID)

# --- run bookkeeping for the local store (a run is a workflow or top-level agent span) -------
RUN_KIND: Final = "otel_agents.run.kind"
RUN_STATUS: Final = "otel_agents.run.status"
RUN_ITEMS_DISCOVERED: Final = "otel_agents.run.items.discovered"
RUN_ITEMS_SUCCEEDED: Final = "otel_agents.run.items.succeeded"
RUN_ITEMS_FAILED: Final = "otel_agents.run.items.failed"
RUN_INPUT_SUMMARY: Final = "otel_agents.run.input_summary"
RUN_OUTPUT_SUMMARY: Final = "otel_agents.run.output_summary"
RUN_METRICS: Final = "otel_agents.run.metrics"
RUN_METADATA_PREFIX: Final = "otel_agents.run.metadata."
# The conventions define no workflow description; gen_ai.agent.description is the agent's.
WORKFLOW_DESCRIPTION: Final = "otel_agents.workflow.description"
RUN_INPUT_PREVIEW: Final = "otel_agents.run.input_preview"
RUN_OUTPUT_PREVIEW: Final = "otel_agents.run.output_preview"
RUN_ERROR_SUMMARY: Final = "otel_agents.run.error_summary"
RUN_EVENT_PAYLOAD: Final = "otel_agents.run.event.payload"
# Custom run statuses (otel_agents.run.status) that also mark the run span as an error.
RUN_STATUS_OK: Final = "ok"
RUN_STATUS_ERROR: Final = "error"
RUN_STATUS_ABANDONED: Final = "abandoned"
FAILED_STATUSES: Final = frozenset(
    {"error", "failed", "failure", "timeout", "timed_out", "aborted", "crashed", RUN_STATUS_ABANDONED}
)
# Human-readable previews (opt-in): the API writes up to PREVIEW_SOURCE characters so redaction sees a
# secret whole; the SDK cuts to PREVIEW_CHARS after redaction.
PREVIEW_CHARS: Final = 100
PREVIEW_SOURCE: Final = 356
PREVIEW_ELLIPSIS: Final = "..."
PREVIEW_KEYS: Final = frozenset({RUN_INPUT_PREVIEW, RUN_OUTPUT_PREVIEW})

# --- markers written by processors ------------------------------------------------------------
REDACTED_MARKER: Final = "[REDACTED:{}]"
TRUNCATED_MARKER: Final = "...[truncated {} chars]"
REDACTED_COUNT: Final = "otel_agents.redacted.count"
TRUNCATED_COUNT: Final = "otel_agents.truncated.count"
TOOL_ARGUMENTS_SUMMARY: Final = "otel_agents.tool.call.arguments_summary"
TOOL_RESULT_SUMMARY: Final = "otel_agents.tool.call.result_summary"
LLM_INPUT_SUMMARY: Final = "otel_agents.llm.input_summary"
LLM_OUTPUT_SUMMARY: Final = "otel_agents.llm.output_summary"
EVENT_LOGGER: Final = "otel_agents.events"
EVENT_STATUS: Final = "otel_agents.status"
RETRIEVAL_DOCUMENTS_SUMMARY: Final = "otel_agents.retrieval.documents_summary"
RETRIEVAL_QUERY_SUMMARY: Final = "otel_agents.retrieval.query_summary"

# --- metric names -----------------------------------------------------------------------------
# Upstream's GenAI metric names are read on first use (``__getattr__`` below): their module
# imports the metrics API, and with it logging and threading, which a CLI command never needs.
if TYPE_CHECKING:
    from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _gen_ai_metrics

    METRIC_CLIENT_OPERATION_DURATION: Final = _gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION
    METRIC_CLIENT_TOKEN_USAGE: Final = _gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE
    METRIC_CLIENT_TIME_TO_FIRST_CHUNK: Final = _gen_ai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
_UPSTREAM_METRICS: Final = {
    "METRIC_CLIENT_OPERATION_DURATION": "GEN_AI_CLIENT_OPERATION_DURATION",
    "METRIC_CLIENT_TOKEN_USAGE": "GEN_AI_CLIENT_TOKEN_USAGE",
    "METRIC_CLIENT_TIME_TO_FIRST_CHUNK": "GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK",
}
METRIC_WORKFLOW_DURATION: Final = "gen_ai.workflow.duration"
METRIC_AGENT_DURATION: Final = "gen_ai.invoke_agent.duration"
METRIC_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
METRIC_CALLS: Final = "otel_agents.calls"
METRIC_ERRORS: Final = "otel_agents.errors"
METRIC_ROUTE_DECISIONS: Final = "otel_agents.route.decisions"
METRIC_COST: Final = "otel_agents.cost"
METRIC_DROPPED: Final = "otel_agents.dropped"
METRIC_INTERNAL_ERRORS: Final = "otel_agents.internal_errors"
METRIC_REDACTIONS: Final = "otel_agents.redactions"

# --- label keys on derived metrics ----------------------------------------------------------
LABEL_REASON: Final = "otel_agents.reason"
LABEL_SITE: Final = "otel_agents.site"
LABEL_RULE: Final = "otel_agents.rule"
METRIC_OVERFLOW: Final = "otel.metric.overflow"
RUN_KIND_WORKFLOW: Final = "workflow"
RUN_KIND_AGENT: Final = "agent"

# --- other libraries' dialects: read by the normaliser, never written (docs/foreign-spans.md) ---
GEN_AI_USAGE_TOTAL_TOKENS: Final = "gen_ai.usage.total_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"  # anthropic SDK
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: Final = "gen_ai.usage.cache_read_input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_OLD: Final = "gen_ai.usage.cache_creation_input_tokens"
GEN_AI_USAGE_REASONING_TOKENS_OLD: Final = "gen_ai.usage.reasoning_tokens"
GEN_AI_TOOL_CALL_ARGUMENTS_OLD: Final = "gen_ai.tool.arguments"
# OpenLLMetry (traceloop)
LLM_REQUEST_TYPE: Final = "llm.request.type"
LLM_USAGE_TOTAL_TOKENS: Final = "llm.usage.total_tokens"
LLM_USAGE_PROMPT_TOKENS: Final = "llm.usage.prompt_tokens"
LLM_USAGE_COMPLETION_TOKENS: Final = "llm.usage.completion_tokens"
LLM_PROMPTS: Final = "llm.prompts"
LLM_COMPLETIONS: Final = "llm.completions"
TRACELOOP_SPAN_KIND: Final = "traceloop.span.kind"
TRACELOOP_ENTITY_NAME: Final = "traceloop.entity.name"
TRACELOOP_ENTITY_INPUT: Final = "traceloop.entity.input"
TRACELOOP_ENTITY_OUTPUT: Final = "traceloop.entity.output"
TRACELOOP_WORKFLOW_NAME: Final = "traceloop.workflow.name"
# OpenInference (Arize)
OI_SPAN_KIND: Final = "openinference.span.kind"
OI_MODEL_NAME: Final = "llm.model_name"
OI_PROVIDER: Final = "llm.provider"
OI_SYSTEM: Final = "llm.system"
OI_TOKENS_PROMPT: Final = "llm.token_count.prompt"
OI_TOKENS_COMPLETION: Final = "llm.token_count.completion"
OI_TOKENS_CACHE_READ: Final = "llm.token_count.prompt_details.cache_read"
OI_TOKENS_CACHE_WRITE: Final = "llm.token_count.prompt_details.cache_write"
OI_TOKENS_REASONING: Final = "llm.token_count.completion_details.reasoning"
OI_AGENT_NAME: Final = "agent.name"
OI_TOOL_NAME: Final = "tool.name"
OI_INPUT_VALUE: Final = "input.value"
OI_OUTPUT_VALUE: Final = "output.value"
OI_INPUT_MESSAGES: Final = "llm.input_messages"
OI_OUTPUT_MESSAGES: Final = "llm.output_messages"
OI_PROMPT_TEMPLATE: Final = "llm.prompt_template"
OI_TOOL_PARAMETERS_VALUE: Final = "tool_call.function.arguments"
OI_DOCUMENT_CONTENT: Final = "document.content"
OI_EMBEDDING_TEXT: Final = "embedding.text"
HANDOFF_FROM: Final = "gen_ai.handoff.from_agent"  # de-facto (OpenLLMetry, contrib openai-agents)
HANDOFF_TO: Final = "gen_ai.handoff.to_agent"
HANDOFF_SPAN_PREFIX: Final = "handoff to "  # openai-agents' hand-off span name, via OpenInference
# pydantic-ai / logfire
PYDANTIC_AI_AGENT_NAME: Final = "agent_name"
PYDANTIC_AI_REASONING_TOKENS: Final = "gen_ai.usage.details.reasoning_tokens"
PYDANTIC_AI_ALL_MESSAGES: Final = "pydantic_ai.all_messages"
PYDANTIC_AI_FINAL_RESULT: Final = "final_result"
PYDANTIC_AI_REQUEST_PARAMETERS: Final = "model_request_parameters"  # may carry the instructions
PYDANTIC_AI_TOOL_ARGUMENTS: Final = "tool_arguments"
PYDANTIC_AI_TOOL_RESPONSE: Final = "tool_response"
LOGFIRE_MESSAGES: Final = "events"
# third-party content switches the distro sets to match our default (see docs/foreign-spans.md)
ENV_TRACELOOP_TRACE_CONTENT: Final = "TRACELOOP_TRACE_CONTENT"
ENV_OPENINFERENCE_HIDE: Final = (
    "OPENINFERENCE_HIDE_INPUTS",
    "OPENINFERENCE_HIDE_OUTPUTS",
    "OPENINFERENCE_HIDE_INPUT_MESSAGES",
    "OPENINFERENCE_HIDE_OUTPUT_MESSAGES",
    "OPENINFERENCE_HIDE_INPUT_TEXT",
    "OPENINFERENCE_HIDE_OUTPUT_TEXT",
    "OPENINFERENCE_HIDE_INPUT_IMAGES",
    "OPENINFERENCE_HIDE_EMBEDDINGS_TEXT",
    "OPENINFERENCE_HIDE_PROMPTS",
    "OPENINFERENCE_HIDE_CHOICES",
    "OPENINFERENCE_HIDE_RETRIEVAL_DOCUMENTS",
)

# --- environment variables ------------------------------------------------------------------
ENV_CAPTURE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
ENV_SEMCONV_OPT_IN: Final = "OTEL_SEMCONV_STABILITY_OPT_IN"
OPT_IN_GEN_AI_LATEST: Final = "gen_ai_latest_experimental"
OPT_IN_HTTP: Final = "http"
# What the distro and configure() set when the user has not: stable HTTP keys and metrics from the
# contrib HTTP instrumentations, the latest GenAI conventions from the contrib GenAI ones.
DEFAULT_OPT_IN: Final = f"{OPT_IN_HTTP},{OPT_IN_GEN_AI_LATEST}"

# --- the tracer / meter / logger scope ------------------------------------------------------
SCOPE_NAME: Final = "otel_agents"
# Our Flask request spans: a scope of their own, so the chain stamps them as it does other libraries'.
FLASK_SCOPE_NAME: Final = "otel_agents.flask"
# FastAPI's own request spans (FastAPI 0.165+ telemetry).
FASTAPI_SCOPE_NAME: Final = "fastapi"
# The last core semantic-conventions release that defines GenAI (semantic-conventions-genai
# refers to it for server.*, error.*); the GenAI repository publishes no schema of its own.
SCHEMA_URL: Final = _Schemas.V1_41_1.value

# --- alerts: state changes as log records (docs/alerts.md) ------------------------------------
ALERT_EVENT: Final = "otel_agents.alert.state_change"
ALERT_NAME: Final = "otel_agents.alert.name"
ALERT_STATE: Final = "otel_agents.alert.state"
ALERT_PREVIOUS_STATE: Final = "otel_agents.alert.previous_state"
ALERT_SEVERITY: Final = "otel_agents.alert.severity"
ALERT_FINGERPRINT: Final = "otel_agents.alert.fingerprint"
ALERT_VALUE: Final = "otel_agents.alert.value"
ALERT_THRESHOLD: Final = "otel_agents.alert.threshold"
ALERT_SOURCE: Final = "otel_agents.alert.source"
ALERT_SUMMARY: Final = "otel_agents.alert.summary"
ALERT_LABEL_PREFIX: Final = "otel_agents.alert.label."
ALERT_SCOPE: Final = "otel_agents.alerts"

# --- operational metrics recorded through otel_agents.metrics (docs/metrics.md) --------------
METRIC_RATE_LIMIT_REMAINING: Final = "otel_agents.rate_limit.remaining"
METRIC_RATE_LIMIT_LIMIT: Final = "otel_agents.rate_limit.limit"
METRIC_RATE_LIMIT_RESET_TIME: Final = "otel_agents.rate_limit.reset_time"
METRIC_RATE_LIMIT_HITS: Final = "otel_agents.rate_limit.hits"
METRIC_COMPONENT_ERRORS: Final = "otel_agents.component.errors"
LABEL_RATE_LIMIT_PLATFORM: Final = "otel_agents.rate_limit.platform"
LABEL_RATE_LIMIT_TYPE: Final = "otel_agents.rate_limit.type"
LABEL_COMPONENT: Final = "otel_agents.component"
# --- HTTP server metrics: the only labels kept (all chosen by the server, none by the client) ----
HTTP_SERVER_INSTRUMENTS: Final = "http.server.*"
HTTP_SERVER_METRIC_KEYS: Final = frozenset(
    {
        _http.HTTP_REQUEST_METHOD,  # the contrib maps unknown methods to _OTHER
        _http.HTTP_RESPONSE_STATUS_CODE,
        _http.HTTP_ROUTE,  # the route template, never the path
        _url.URL_SCHEME,
        _network.NETWORK_PROTOCOL_NAME,
        _network.NETWORK_PROTOCOL_VERSION,
        _error.ERROR_TYPE,
        # The same, as the older HTTP conventions the contrib still emits by default.
        _http_old.HTTP_METHOD,
        _http_old.HTTP_STATUS_CODE,
        _http_old.HTTP_SCHEME,
        _http_old.HTTP_FLAVOR,
    }
)


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name on this module

    def __getattr__(name: str) -> str:
        upstream = _UPSTREAM_METRICS.get(name)
        if upstream is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

        value: str = getattr(gen_ai_metrics, upstream)
        globals()[name] = value
        return value
