"""Every span name, attribute key, metric name and value this package emits, in one place."""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import deployment_attributes as _deployment
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv._incubating.attributes import http_attributes as _http_old
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes as _error
from opentelemetry.semconv.attributes import http_attributes as _http
from opentelemetry.semconv.attributes import network_attributes as _network
from opentelemetry.semconv.attributes import service_attributes as _service
from opentelemetry.semconv.attributes import url_attributes as _url

# --- upstream general attribute keys ---------------------------------------------------------
ERROR_TYPE: Final = _error.ERROR_TYPE
SERVICE_NAME: Final = _service.SERVICE_NAME
SERVICE_VERSION: Final = _service.SERVICE_VERSION
SERVICE_INSTANCE_ID: Final = _service.SERVICE_INSTANCE_ID
DEPLOYMENT_ENVIRONMENT_NAME: Final = _deployment.DEPLOYMENT_ENVIRONMENT_NAME

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

# --- upstream GenAI values ---------------------------------------------------------------
OP_INVOKE_WORKFLOW: Final = _gen_ai.GenAiOperationNameValues.INVOKE_WORKFLOW.value
OP_INVOKE_AGENT: Final = _gen_ai.GenAiOperationNameValues.INVOKE_AGENT.value
OP_EXECUTE_TOOL: Final = _gen_ai.GenAiOperationNameValues.EXECUTE_TOOL.value
OP_CHAT: Final = _gen_ai.GenAiOperationNameValues.CHAT.value
TOKEN_TYPE_INPUT: Final = _gen_ai.GenAiTokenTypeValues.INPUT.value
TOKEN_TYPE_OUTPUT: Final = _gen_ai.GenAiTokenTypeValues.COMPLETION.value
TOOL_TYPE_FUNCTION: Final = "function"

# --- span names (GenAI conventions: "{operation} {name}") -----------------------------------
SPAN_WORKFLOW: Final = OP_INVOKE_WORKFLOW + " {}"
SPAN_AGENT: Final = OP_INVOKE_AGENT + " {}"
SPAN_TOOL: Final = OP_EXECUTE_TOOL + " {}"
SPAN_LLM: Final = "{} {}"
SPAN_ROUTE: Final = "route {}"

# --- routing: not standardised; source/target follow proposal semantic-conventions-genai #98
ROUTE_SOURCE: Final = "gen_ai.agent.handoff.source.name"
ROUTE_TARGET: Final = "gen_ai.agent.handoff.target.name"
ROUTE_CANDIDATES: Final = "otel_agents.route.candidates"
ROUTE_REASON: Final = "otel_agents.route.reason"
ROUTE_CONFIDENCE: Final = "otel_agents.route.confidence"

# --- cost and roll-ups: not standardised ----------------------------------------------------
COST_USD: Final = "otel_agents.cost.usd"
COST_UNKNOWN: Final = "otel_agents.cost.unknown"
COST_UNKNOWN_CALLS: Final = "otel_agents.cost.unknown_calls"
LLM_CALLS: Final = "otel_agents.llm.calls"
TOOL_CALLS: Final = "otel_agents.tool.calls"

# --- run context (also W3C baggage keys) ------------------------------------------------------
RUN_ID: Final = "otel_agents.run.id"
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"
REQUEST_ID: Final = "otel_agents.request.id"
RUN_CONTEXT_KEYS: Final = (RUN_ID, SESSION_ID, USER_ID, REQUEST_ID)

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

# --- metric names -----------------------------------------------------------------------------
METRIC_CLIENT_OPERATION_DURATION: Final = _gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION
METRIC_CLIENT_TOKEN_USAGE: Final = _gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE
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

# --- environment variables ------------------------------------------------------------------
ENV_CAPTURE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# --- the tracer / meter / logger scope ------------------------------------------------------
SCOPE_NAME: Final = "otel_agents"

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
