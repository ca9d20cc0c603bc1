"""The one options dataclass: argument > ``OTEL_*`` > ``OTEL_AGENTS_*`` > default, validated."""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otel_agents.api._switches import parse_capture

_log = logging.getLogger("otel_agents")

EXPORTERS: Final = ("auto", "otlp", "otlp_proto_http", "otlp_proto_grpc", "store", "console", "none")
# The specification's pull exporter for metrics: the process's Prometheus reader.
METRICS_EXPORTERS: Final = (*EXPORTERS, "prometheus")
PROTOCOLS: Final = ("http/protobuf", "grpc")
SIGNALS: Final = ("traces", "metrics", "logs")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


# --- parsers: each raises ValueError with a message fit to show the user -----------------------


def _system_metrics(value: object) -> bool:
    enabled = _bool(value)
    if enabled:
        from otel_agents.sdk import _system_metrics as system

        if not system.available():
            raise ValueError(system.missing_message())
    return enabled


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("expected true or false")


def _positive(kind: type[int] | type[float], scale: float = 1.0) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"expected a positive {kind.__name__}")
        try:
            number = kind(float(value)) if isinstance(value, (str, int, float)) else None
        except (TypeError, ValueError, OverflowError):
            number = None
        if kind is int and number is not None and isinstance(value, (str, float)) and number != float(value):
            # 4096.5 (or "4096.5") was cut to 4096 without a word.
            raise ValueError("expected a positive int (a whole number)")
        if number is None:
            raise ValueError(f"expected a positive {kind.__name__}") from None
        if not number > 0 or not math.isfinite(number):
            raise ValueError(f"expected a positive {kind.__name__}")
        return kind(number * scale) if scale != 1.0 else number

    return parse


def _url(value: object) -> str:
    """An OTLP base URL: http:// or https://, a host, an optional valid port."""
    text = _text(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host, such as http://localhost:4318")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise ValueError("the URL's port is not a number from 1 to 65535") from None
    return text


def valid_url(value: str | None) -> bool:
    """True when ``value`` would pass as an OTLP endpoint."""
    if not value:
        return False
    try:
        _url(value)
    except ValueError:
        return False
    return True


def _at_least(minimum: int) -> Callable[[object], int]:
    positive = _positive(int)

    def parse(value: object) -> int:
        number = int(positive(value))
        if number < minimum:
            raise ValueError(f"expected an integer of at least {minimum}")
        return number

    return parse


def _choice(choices: Sequence[str], aliases: Mapping[str, str] | None = None) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = value.strip().lower() if isinstance(value, str) else value
        if isinstance(text, str):
            text = (aliases or {}).get(text, text)
            if text in choices:
                return text
        raise ValueError(f"expected one of {', '.join(choices)}")

    return parse


def _exporter_names(choices: Sequence[str]) -> Callable[[object], tuple[str, ...]]:
    def parse(value: object) -> tuple[str, ...]:
        names = _strings(value)
        if not names:
            raise ValueError(f"expected one or more (comma-separated) of {', '.join(choices)}")
        for name in names:
            if name.lower() not in choices:
                raise ValueError(f"unknown exporter {name!r}: expected one or more of {', '.join(choices)}")
        return tuple(name.lower() for name in names)

    return parse


_exporter_list = _exporter_names(EXPORTERS)


def _path(value: object) -> Path:
    if isinstance(value, Path):
        return value.expanduser()
    return Path(_text(value)).expanduser()


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        # An empty key fragment is in every key: redact_keys=[""] redacted every value and name.
        if not all(v.strip() for v in value):
            raise ValueError("expected a list of non-empty strings")
        return tuple(value)
    raise ValueError("expected a list of strings")


def _patterns(value: object) -> tuple[str | re.Pattern[str], ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError("expected a list of regular expressions")
    for pattern in value:
        if not isinstance(pattern, re.Pattern):
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return tuple(value)


def _callable_or_none(value: object) -> Any:
    if value is not None and not callable(value):
        raise ValueError("expected a callable (key, value) -> bool")
    return value


def _instances(kind: type) -> Callable[[object], tuple[Any, ...]]:
    def parse(value: object) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, kind) for v in value):
            raise ValueError(f"expected a list of {kind.__name__}")
        return tuple(value)

    return parse


@dataclass(frozen=True)
class OptionSpec:
    """One option's variables (in precedence order), its parser and the docs text beside it."""

    env: tuple[str, ...]
    parse: Callable[[object], Any]
    doc: str
    default_doc: str | None


def about(
    *,
    parse: Callable[[object], Any],
    doc: str,
    env: tuple[str, ...] = (),
    default_doc: str | None = None,
) -> dict[str, OptionSpec]:
    """Field metadata: an option's variables, parser and docs (docs/configuration.md is made from it)."""
    return {"option": OptionSpec(env=env, parse=parse, doc=doc, default_doc=default_doc)}


@dataclass(frozen=True, kw_only=True)
class Options:
    """Everything ``configure()`` accepts, each field with its variables, parser and description."""

    sdk_disabled: bool = field(
        default=False,
        metadata=about(
            env=("OTEL_SDK_DISABLED",),
            parse=_bool,
            doc=(
                "`true`: `configure()` builds nothing (no store, no threads, no files, no global "
                "providers); every span is the API's no-op"
            ),
        ),
    )
    service_name: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_SERVICE_NAME", "OTEL_AGENTS_SERVICE_NAME"),
            parse=_text,
            default_doc="from `OTEL_RESOURCE_ATTRIBUTES`, else `unknown_service`",
            doc="`service.name` on the resource",
        ),
    )
    service_version: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_AGENTS_SERVICE_VERSION",),
            parse=_text,
            default_doc="from `OTEL_RESOURCE_ATTRIBUTES`, else unset",
            doc="`service.version`",
        ),
    )
    environment: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_AGENTS_ENVIRONMENT",),
            parse=_text,
            default_doc="from `OTEL_RESOURCE_ATTRIBUTES`, else unset",
            doc="`deployment.environment.name`",
        ),
    )
    instance_id: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_AGENTS_INSTANCE_ID",),
            parse=_text,
            default_doc="from `OTEL_RESOURCE_ATTRIBUTES`, else a new UUID per process",
            doc="`service.instance.id`",
        ),
    )
    exporter: tuple[str, ...] = field(
        default=("auto",),
        metadata=about(
            env=("OTEL_AGENTS_EXPORTER",),
            parse=_exporter_list,
            default_doc="`auto`",
            doc=(
                "exporters for every signal, a list (`otlp,console`) or one of: `auto` (per signal: OTLP "
                "when the general or that signal's OTLP endpoint is set, else the local store), `otlp`, "
                "`otlp_proto_http`, `otlp_proto_grpc`, `store`, `console`, `none`; as an argument it "
                "also beats the per-signal variables below"
            ),
        ),
    )
    traces_exporter: tuple[str, ...] | None = field(
        default=None,
        metadata=about(
            env=("OTEL_TRACES_EXPORTER",),
            parse=_exporter_list,
            default_doc="`exporter`",
            doc="exporters for traces only (same values as `exporter`)",
        ),
    )
    metrics_exporter: tuple[str, ...] | None = field(
        default=None,
        metadata=about(
            env=("OTEL_METRICS_EXPORTER",),
            parse=_exporter_names(METRICS_EXPORTERS),
            default_doc="`exporter`",
            doc=(
                "exporters for metrics only: the values of `exporter`, or `prometheus` (the process's one "
                "Prometheus reader, served on `/metrics` by `setup_monitoring`; extra `prometheus`)"
            ),
        ),
    )
    logs_exporter: tuple[str, ...] | None = field(
        default=None,
        metadata=about(
            env=("OTEL_LOGS_EXPORTER",),
            parse=_exporter_list,
            default_doc="`exporter`",
            doc="exporters for logs only (same values as `exporter`)",
        ),
    )
    otlp_endpoint: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_EXPORTER_OTLP_ENDPOINT",),
            parse=_url,
            default_doc="unset",
            doc=(
                "base URL (`/v1/traces` etc. are appended for HTTP); as an argument it beats every "
                "endpoint variable, else the exporters read "
                "`OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT` before this one. Headers, "
                "compression, timeouts and TLS files: the standard variables, general and per signal, "
                "as the SDK exporters read them"
            ),
        ),
    )
    otlp_protocol: str = field(
        default="http/protobuf",
        metadata=about(
            env=("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_AGENTS_OTLP_PROTOCOL"),
            parse=_choice(PROTOCOLS),
            doc="or `grpc` (needs the `grpc` extra), for every signal",
        ),
    )
    otlp_traces_protocol: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",),
            parse=_choice(PROTOCOLS),
            default_doc="`otlp_protocol`",
            doc="the OTLP protocol for traces only",
        ),
    )
    otlp_metrics_protocol: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",),
            parse=_choice(PROTOCOLS),
            default_doc="`otlp_protocol`",
            doc="the OTLP protocol for metrics only",
        ),
    )
    otlp_logs_protocol: str | None = field(
        default=None,
        metadata=about(
            env=("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",),
            parse=_choice(PROTOCOLS),
            default_doc="`otlp_protocol`",
            doc="the OTLP protocol for logs only",
        ),
    )
    export_timeout: float = field(
        default=5.0,
        metadata=about(
            env=("OTEL_AGENTS_EXPORT_TIMEOUT",),
            parse=_positive(float),
            default_doc="`5.0` s",
            doc=(
                "per export request, and the periodic metric export's; as an argument it beats "
                "`OTEL_EXPORTER_OTLP_TIMEOUT`, its per-signal variants and `OTEL_METRIC_EXPORT_TIMEOUT` "
                "(ms), which otherwise beat this variable; at most 7 days, as every duration here"
            ),
        ),
    )
    home: Path | None = field(
        default=None,
        metadata=about(
            env=("OTEL_AGENTS_HOME",),
            parse=_path,
            default_doc="`~/.otel-agents`",
            doc="where the local store lives",
        ),
    )
    capture_content: bool = field(
        default=False,
        metadata=about(
            env=("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_AGENTS_CAPTURE_CONTENT"),
            parse=parse_capture,
            doc=(
                "record prompts, messages, tool arguments and results; when off they are summarised "
                "(type, size, key names), and removed from other libraries' spans and events "
                "([foreign-spans.md](foreign-spans.md)). Also takes util-genai's `no_content`, "
                "`span_only`, `event_only`, `span_and_event` (any case; spans carry content for "
                "`span_only` and `span_and_event`, other libraries' events for `event_only` and "
                "`span_and_event`)"
            ),
        ),
    )
    preview_content: bool = field(
        default=False,
        metadata=about(
            env=("OTEL_AGENTS_PREVIEW_CONTENT",),
            parse=_bool,
            doc=(
                "with capture off, also keep the first 100 characters of run inputs and outputs "
                "(`otel_agents.run.input_preview`), cut after redaction"
            ),
        ),
    )
    max_attribute_length: int = field(
        default=4096,
        metadata=about(
            env=("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_AGENTS_MAX_ATTRIBUTE_LENGTH"),
            parse=_at_least(16),
            doc=(
                "longer strings are cut with `...[truncated N chars]` before redaction reads them, at a "
                "token boundary (min 16); the SDK keeps at most 4x this (at least 16384) of any value "
                "from the moment it is set, so N counts from there"
            ),
        ),
    )
    redact: bool = field(
        default=True,
        metadata=about(
            env=("OTEL_AGENTS_REDACT",),
            parse=_bool,
            doc="redact secrets before any exporter (see [redaction.md](redaction.md))",
        ),
    )
    redact_patterns: tuple[str | re.Pattern[str], ...] = field(
        default=(),
        metadata=about(
            parse=_patterns,
            default_doc="none",
            doc="extra regular expressions whose matches are redacted",
        ),
    )
    redact_keys: tuple[str, ...] = field(
        default=(),
        metadata=about(
            env=("OTEL_AGENTS_REDACT_KEYS",),
            parse=_strings,
            default_doc="none",
            doc="extra key fragments (comma-separated in the variable) whose values are redacted",
        ),
    )
    baggage_hosts: tuple[str, ...] = field(
        default=(),
        metadata=about(
            env=("OTEL_AGENTS_BAGGAGE_HOSTS",),
            parse=_strings,
            default_doc="none",
            doc=(
                "hosts (comma-separated; `*.example.com` patterns, `*` for all) outgoing requests may "
                "send the run-context baggage keys to; other hosts get the `baggage` header without "
                "them. Spans and the in-process context keep them"
            ),
        ),
    )
    redact_allow: Callable[[str, str], bool] | None = field(
        default=None,
        metadata=about(
            parse=_callable_or_none,
            default_doc="none",
            doc="`callback(key, value) -> bool`; `True` keeps a value the rules would redact",
        ),
    )
    shutdown_timeout: float = field(
        default=5.0,
        metadata=about(
            env=("OTEL_AGENTS_SHUTDOWN_TIMEOUT",),
            parse=_positive(float),
            default_doc="`5.0` s",
            doc="total budget for `shutdown()` / `force_flush()`, also at process exit (at most 7 days)",
        ),
    )
    max_queue_size: int = field(
        default=2048,
        metadata=about(
            env=("OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_AGENTS_MAX_QUEUE_SIZE"),
            parse=_positive(int),
            doc=(
                "records queued per exporter, and spans queued for redaction; beyond it records are "
                "dropped and counted"
            ),
        ),
    )
    max_queue_bytes: int = field(
        default=8 * 1024 * 1024,
        metadata=about(
            env=("OTEL_AGENTS_MAX_QUEUE_BYTES",),
            parse=_at_least(64 * 1024),
            doc=(
                "bytes of text (names, string attributes, event attributes) queued per exporter, and "
                "spans queued for redaction; beyond it spans are dropped and counted (min 65536)"
            ),
        ),
    )
    max_export_batch_size: int = field(
        default=512,
        metadata=about(
            env=("OTEL_BSP_MAX_EXPORT_BATCH_SIZE",),
            parse=_positive(int),
            doc="spans per export call, at most (the local store takes 32 at a time unless it has a backlog)",
        ),
    )
    schedule_delay: float = field(
        default=1.0,
        metadata=about(
            env=("OTEL_BSP_SCHEDULE_DELAY",),
            parse=_positive(float),
            default_doc="`1.0` s",
            doc=(
                "least time between two exports of a partial batch (a full one goes at once); a span "
                "reaches its exporter within about twice this (at most 7 days)"
            ),
        ),
    )
    log_max_queue_size: int | None = field(
        default=None,
        metadata=about(
            env=("OTEL_BLRP_MAX_QUEUE_SIZE",),
            parse=_positive(int),
            default_doc="`max_queue_size`",
            doc="log records queued per exporter",
        ),
    )
    log_max_export_batch_size: int | None = field(
        default=None,
        metadata=about(
            env=("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",),
            parse=_positive(int),
            default_doc="`max_export_batch_size`",
            doc="log records per export call",
        ),
    )
    log_schedule_delay: float | None = field(
        default=None,
        metadata=about(
            env=("OTEL_BLRP_SCHEDULE_DELAY",),
            parse=_positive(float),
            default_doc="`schedule_delay`",
            doc=(
                "least time between two exports of a partial batch of log records (a full one goes at "
                "once; at most 7 days)"
            ),
        ),
    )
    metric_export_interval: float = field(
        default=60.0,
        metadata=about(
            env=("OTEL_METRIC_EXPORT_INTERVAL",),
            parse=_positive(float),
            default_doc="`60.0` s",
            doc="periodic metric export (at most 7 days)",
        ),
    )
    freeze_gc: bool = field(
        default=True,
        metadata=about(
            env=("OTEL_AGENTS_FREEZE_GC",),
            parse=_bool,
            doc=(
                "once the LLM price table has loaded (in the background, after `configure()`), call "
                "`gc.freeze()`: the objects alive then (the table's ~35k among them) move to the "
                "collector's permanent generation, so the app's full collections do not scan them "
                "(each one took ~25 ms longer, the p99 tail of a web app). Cycles that existed at "
                "that moment are then never collected; `false` if your app relies on that"
            ),
        ),
    )
    record_unsampled: bool = field(
        default=True,
        metadata=about(
            env=("OTEL_AGENTS_RECORD_UNSAMPLED",),
            parse=_bool,
            doc=(
                "spans the sampler (`OTEL_TRACES_SAMPLER`) drops are still recorded, unsampled, so the "
                "span-derived metrics, roll-ups, runs and stats count them; only their export as traces "
                "is dropped. `false`: the SDK's behaviour, cheaper, but metrics and stats undercount "
                "(see [performance.md](performance.md#head-sampling))"
            ),
        ),
    )
    legacy_route_keys: bool = field(
        default=False,
        metadata=about(
            env=("OTEL_AGENTS_LEGACY_ROUTE_KEYS",),
            parse=_bool,
            doc=(
                "route spans also carry the pre-0.2 keys `gen_ai.agent.handoff.source.name` / "
                "`.target.name` beside `otel_agents.route.source` / `.target` (kept for one release)"
            ),
        ),
    )
    logs: bool = field(
        default=True,
        metadata=about(
            env=("OTEL_AGENTS_LOGS",),
            parse=_bool,
            doc="bridge stdlib `logging` (root logger) into OTel log records",
        ),
    )
    log_events: bool = field(
        default=False,
        metadata=about(
            env=("OTEL_AGENTS_LOG_EVENTS",),
            parse=_bool,
            doc="also emit agent, tool and routing events as log records (logger `otel_agents.events`)",
        ),
    )
    system_metrics: bool = field(
        default=False,
        metadata=about(
            env=("OTEL_AGENTS_SYSTEM_METRICS",),
            parse=_system_metrics,
            doc="record process CPU, memory, threads and file descriptors (`process.*` metrics; extra"
            " `system-metrics`)",
        ),
    )
    span_processors: tuple[SpanProcessor, ...] = field(
        default=(),
        compare=False,
        metadata=about(
            parse=_instances(SpanProcessor),
            default_doc="none",
            doc=(
                "extra SDK span processors: `on_start` as usual, `on_end` on the ending thread after "
                "redaction (also for processors added later with `tracer_provider.add_span_processor`)"
            ),
        ),
    )
    span_exporters: tuple[SpanExporter, ...] = field(
        default=(),
        compare=False,
        metadata=about(
            parse=_instances(SpanExporter),
            default_doc="none",
            doc="extra span exporters (batched, after redaction)",
        ),
    )
    metric_exporters: tuple[MetricExporter, ...] = field(
        default=(),
        compare=False,
        metadata=about(
            parse=_instances(MetricExporter),
            default_doc="none",
            doc=(
                "extra push metric exporters, each read every `metric_export_interval` (the span "
                "histograms are aggregated in-process for them, see docs/performance.md)"
            ),
        ),
    )
    metric_readers: tuple[MetricReader, ...] = field(
        default=(),
        compare=False,
        metadata=about(
            parse=_instances(MetricReader),
            default_doc="none",
            doc="extra metric readers (for example a Prometheus reader)",
        ),
    )
    log_exporters: tuple[LogRecordExporter, ...] = field(
        default=(),
        compare=False,
        metadata=about(
            parse=_instances(LogRecordExporter),
            default_doc="none",
            doc="extra log exporters (batched, after redaction)",
        ),
    )

    @property
    def otlp_configured(self) -> bool:
        """True when any OTLP endpoint is set, by argument or by a standard variable."""
        if self.otlp_endpoint:
            return True
        # A variable that is no URL was warned about and does not count: the store takes over.
        return any(
            valid_url(os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}ENDPOINT"))
            for signal in ("", "TRACES_", "METRICS_", "LOGS_")
        )

    def exporters_for(self, signal: str) -> tuple[str, ...]:
        """The exporters of one signal (``traces``, ``metrics``, ``logs``), ``auto`` decided, in order."""
        names = getattr(self, f"{signal}_exporter") or self.exporter
        # auto: OTLP when an endpoint for this signal (its own or the general one) is set; a
        # variable that is no URL was warned about and does not count: the store takes over.
        otlp = bool(
            self.otlp_endpoint
            or valid_url(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
            or valid_url(os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"))
        )
        out: list[str] = []
        for name in names:
            if name == "auto":
                name = "otlp" if otlp else "store"  # noqa: PLW2901 - the decided name
            if name != "none" and name not in out:
                out.append(name)
        return tuple(out)

    def protocol_for(self, signal: str) -> str:
        """The OTLP protocol of one signal: its own setting, else ``otlp_protocol``."""
        own: str | None = getattr(self, f"otlp_{signal}_protocol")
        return own or self.otlp_protocol


# field -> its spec, in declaration order.
SPEC: Final[dict[str, OptionSpec]] = {f.name: f.metadata["option"] for f in fields(Options)}

# An option given as an argument also decides for its per-signal variants (argument > OTEL_*).
_GOVERNS: Final = {
    "exporter": tuple(f"{signal}_exporter" for signal in SIGNALS),
    "otlp_protocol": tuple(f"otlp_{signal}_protocol" for signal in SIGNALS),
}

# Standard variables given in milliseconds; our fields are seconds.
_MILLISECOND_ENV: Final = frozenset(
    {"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_METRIC_EXPORT_INTERVAL"}
)
# Durations, in seconds once read. Past a week none is meant (milliseconds given as seconds, most
# likely), and past what a lock's wait takes (time_t) a worker's wait raised and killed its thread:
# every span after it was lost while force_flush() still answered True.
_DURATIONS: Final = frozenset(
    {"export_timeout", "shutdown_timeout", "schedule_delay", "log_schedule_delay", "metric_export_interval"}
)
MAX_DURATION_S: Final = 7 * 86_400.0


def _too_long(name: str, seconds: object) -> str | None:
    """Why ``seconds`` is no value for duration option ``name``, or None when it is one."""
    if name in _DURATIONS and isinstance(seconds, float) and seconds > MAX_DURATION_S:
        return f"expected at most {MAX_DURATION_S:g} seconds (7 days)"
    return None


def _shown(value: object) -> str:
    """``repr(value)`` for an error message, short, and never raising (10**5000, a hostile __repr__)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - the value is the user's; the message must still be shown
        return f"<{type(value).__name__} object>"
    return text if len(text) <= 200 else text[:200] + "..."


def from_argument(options: Options, name: str) -> bool:
    """True when option ``name`` holds something its variables and default do not give: an argument.

    An argument equal to that value reads as not given (it changes nothing but the precedence over
    the standard variables that the SDK's exporters and readers read themselves).
    """
    spec = SPEC[name]
    value = next(f.default for f in fields(Options) if f.name == name)
    for env in spec.env:
        raw = os.environ.get(env)
        if not raw:
            continue
        try:
            parsed = spec.parse(raw)
        except ValueError:  # warned about by resolve()
            continue
        value = parsed / 1000 if env in _MILLISECOND_ENV else parsed
        break
    return bool(getattr(options, name) != value)


def sdk_disabled(argument: object = None) -> bool:
    """True when ``configure(sdk_disabled=argument)`` will build nothing (unset: ``OTEL_SDK_DISABLED``)."""
    raw = argument if argument is not None else os.environ.get("OTEL_SDK_DISABLED", "")
    try:
        return _bool(raw)
    except ValueError:  # warned about by configure(), which then builds the pipeline
        return False


def resolve(**arguments: Any) -> Options:
    """Build ``Options``: a bad argument raises ``ValueError``; a bad variable warns and is ignored."""
    names = {f.name for f in fields(Options)}
    unknown = sorted(set(arguments) - names)
    if unknown:
        raise TypeError(f"configure() got unknown option(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in SPEC.items():
        env_names, parse = spec.env, spec.parse
        if name in arguments and arguments[name] is not None:
            try:
                values[name] = parse(arguments[name])
            except ValueError as exc:
                raise ValueError(f"configure({name}={_shown(arguments[name])}): {exc}") from None
            if (why := _too_long(name, values[name])) is not None:
                raise ValueError(f"configure({name}={_shown(arguments[name])}): {why}")
            continue
        for env in env_names:
            raw = os.environ.get(env)
            if raw is None or raw == "":
                continue
            try:
                parsed = parse(raw)
            except ValueError as exc:
                _log.warning("otel_agents: ignoring %s=%r: %s", env, raw, exc)
                continue
            if env in _MILLISECOND_ENV:
                parsed = parsed / 1000
            if (why := _too_long(name, parsed)) is not None:
                _log.warning("otel_agents: ignoring %s=%r: %s", env, raw, why)
                continue
            values[name] = parsed
            break
    for general, specific in _GOVERNS.items():
        if arguments.get(general) is not None:
            for name in specific:
                if arguments.get(name) is None:
                    values.pop(name, None)
    options = Options(**values)
    if options.max_export_batch_size > options.max_queue_size:
        options = replace(options, max_export_batch_size=options.max_queue_size)
    return options
