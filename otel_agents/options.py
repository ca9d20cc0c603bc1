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

from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

_log = logging.getLogger("otel_agents")

EXPORTERS: Final = ("auto", "otlp", "store", "console", "none")
PROTOCOLS: Final = ("http/protobuf", "grpc")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True, kw_only=True)
class Options:
    """Everything ``configure()`` accepts; see docs/configuration.md for each field."""

    service_name: str | None = None
    service_version: str | None = None
    environment: str | None = None
    instance_id: str | None = None
    exporter: str = "auto"
    otlp_endpoint: str | None = None
    otlp_protocol: str = "http/protobuf"
    export_timeout: float = 5.0
    home: Path | None = None
    capture_content: bool = False
    max_attribute_length: int = 4096
    redact: bool = True
    redact_patterns: tuple[str | re.Pattern[str], ...] = ()
    redact_keys: tuple[str, ...] = ()
    redact_allow: Callable[[str, str], bool] | None = None
    shutdown_timeout: float = 5.0
    max_queue_size: int = 2048
    max_export_batch_size: int = 512
    schedule_delay: float = 1.0
    metric_export_interval: float = 60.0
    logs: bool = True
    log_events: bool = False
    span_processors: tuple[SpanProcessor, ...] = field(default=(), compare=False)
    span_exporters: tuple[SpanExporter, ...] = field(default=(), compare=False)
    metric_readers: tuple[MetricReader, ...] = field(default=(), compare=False)
    log_exporters: tuple[LogRecordExporter, ...] = field(default=(), compare=False)

    @property
    def otlp_configured(self) -> bool:
        """True when any OTLP endpoint is set, by argument or by a standard variable."""
        if self.otlp_endpoint:
            return True
        return any(
            os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}ENDPOINT")
            for signal in ("", "TRACES_", "METRICS_", "LOGS_")
        )

    @property
    def resolved_exporter(self) -> str:
        """``exporter`` with ``auto`` decided: OTLP when an endpoint is set, else the local store."""
        if self.exporter != "auto":
            return self.exporter
        return "otlp" if self.otlp_configured else "store"


# --- parsers: each raises ValueError with a message fit to show the user -----------------------


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
        if number is None:
            raise ValueError(f"expected a positive {kind.__name__}") from None
        if not number > 0 or not math.isfinite(number):
            raise ValueError(f"expected a positive {kind.__name__}")
        return kind(number * scale) if scale != 1.0 else number

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


def _path(value: object) -> Path:
    if isinstance(value, Path):
        return value.expanduser()
    return Path(_text(value)).expanduser()


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
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


# field -> (environment variables in precedence order, parser)
SPEC: Final[dict[str, tuple[tuple[str, ...], Callable[[object], Any]]]] = {
    "service_name": (("OTEL_SERVICE_NAME", "OTEL_AGENTS_SERVICE_NAME"), _text),
    "service_version": (("OTEL_AGENTS_SERVICE_VERSION",), _text),
    "environment": (("OTEL_AGENTS_ENVIRONMENT",), _text),
    "instance_id": (("OTEL_AGENTS_INSTANCE_ID",), _text),
    "exporter": (
        ("OTEL_TRACES_EXPORTER", "OTEL_AGENTS_EXPORTER"),
        _choice(EXPORTERS, {"otlp_proto_http": "otlp", "otlp_proto_grpc": "otlp"}),
    ),
    "otlp_endpoint": (("OTEL_EXPORTER_OTLP_ENDPOINT",), _text),
    "otlp_protocol": (
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_AGENTS_OTLP_PROTOCOL"),
        _choice(PROTOCOLS),
    ),
    "export_timeout": (("OTEL_AGENTS_EXPORT_TIMEOUT",), _positive(float)),
    "home": (("OTEL_AGENTS_HOME",), _path),
    "capture_content": (
        ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_AGENTS_CAPTURE_CONTENT"),
        _bool,
    ),
    "max_attribute_length": (
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_AGENTS_MAX_ATTRIBUTE_LENGTH"),
        _positive(int),
    ),
    "redact": (("OTEL_AGENTS_REDACT",), _bool),
    "redact_patterns": ((), _patterns),
    "redact_keys": (("OTEL_AGENTS_REDACT_KEYS",), _strings),
    "redact_allow": ((), _callable_or_none),
    "shutdown_timeout": (("OTEL_AGENTS_SHUTDOWN_TIMEOUT",), _positive(float)),
    "max_queue_size": (("OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_AGENTS_MAX_QUEUE_SIZE"), _positive(int)),
    "max_export_batch_size": (("OTEL_BSP_MAX_EXPORT_BATCH_SIZE",), _positive(int)),
    "schedule_delay": (("OTEL_BSP_SCHEDULE_DELAY",), _positive(float)),
    "metric_export_interval": (("OTEL_METRIC_EXPORT_INTERVAL",), _positive(float)),
    "logs": (("OTEL_AGENTS_LOGS",), _bool),
    "log_events": (("OTEL_AGENTS_LOG_EVENTS",), _bool),
    "span_processors": ((), _instances(SpanProcessor)),
    "span_exporters": ((), _instances(SpanExporter)),
    "metric_readers": ((), _instances(MetricReader)),
    "log_exporters": ((), _instances(LogRecordExporter)),
}

# Standard variables given in milliseconds; our fields are seconds.
_MILLISECOND_ENV: Final = frozenset({"OTEL_BSP_SCHEDULE_DELAY", "OTEL_METRIC_EXPORT_INTERVAL"})


def resolve(**arguments: Any) -> Options:
    """Build ``Options``: a bad argument raises ``ValueError``; a bad variable warns and is ignored."""
    names = {f.name for f in fields(Options)}
    unknown = sorted(set(arguments) - names)
    if unknown:
        raise TypeError(f"configure() got unknown option(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, (env_names, parse) in SPEC.items():
        if name in arguments and arguments[name] is not None:
            try:
                values[name] = parse(arguments[name])
            except ValueError as exc:
                raise ValueError(f"configure({name}={arguments[name]!r}): {exc}") from None
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
            values[name] = parsed
            break
    options = Options(**values)
    if options.max_export_batch_size > options.max_queue_size:
        options = replace(options, max_export_batch_size=options.max_queue_size)
    return options
