"""Options: argument > OTEL_* > OTEL_AGENTS_* > default; bad variables warn, bad arguments raise."""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from pathlib import Path

import pytest

from otel_agents.sdk._options import SPEC, Options, resolve
from otel_agents.sdk._options_doc import render


def test_defaults() -> None:
    """With nothing set, the documented defaults apply and the exporter is the local store."""
    options = resolve()
    assert options.capture_content is False
    assert options.shutdown_timeout == 5.0
    assert options.max_attribute_length == 4096
    assert options.exporters_for("traces") == ("store",)


def test_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    """An argument beats OTEL_*, which beats OTEL_AGENTS_*, which beats the default."""
    monkeypatch.setenv("OTEL_AGENTS_SERVICE_NAME", "from-agents-env")
    assert resolve().service_name == "from-agents-env"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-otel-env")
    assert resolve().service_name == "from-otel-env"
    assert resolve(service_name="from-arg").service_name == "from-arg"


def test_standard_variables_in_milliseconds_are_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_BSP_SCHEDULE_DELAY and OTEL_METRIC_EXPORT_INTERVAL (ms) become seconds."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "10000")
    options = resolve()
    assert options.schedule_delay == 0.25
    assert options.metric_export_interval == 10.0


def test_capture_content_from_upstream_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upstream GenAI capture switch turns content capture on."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    assert resolve().capture_content is True


def test_otlp_endpoint_selects_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal's own OTLP endpoint makes ``auto`` export that signal over OTLP; the general one every signal."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
    options = resolve()
    assert [options.exporters_for(s) for s in ("traces", "metrics", "logs")] == [
        ("otlp",),
        ("store",),
        ("store",),
    ]
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert resolve().exporters_for("metrics") == ("otlp",)


def test_bad_environment_value_warns_and_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed variable is ignored with a warning naming it; the next source applies."""
    monkeypatch.setenv("OTEL_AGENTS_SHUTDOWN_TIMEOUT", "soon")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    monkeypatch.setenv("OTEL_AGENTS_EXPORTER", "console")
    with caplog.at_level(logging.WARNING, logger="otel_agents"):
        options = resolve()
    assert options.shutdown_timeout == 5.0
    assert options.exporter == ("console",)
    assert "OTEL_AGENTS_SHUTDOWN_TIMEOUT" in caplog.text
    assert "OTEL_TRACES_EXPORTER" in caplog.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("shutdown_timeout", -1),
        ("shutdown_timeout", float("nan")),
        ("exporter", "kafka"),
        ("otlp_protocol", "http/json"),
        ("capture_content", "maybe"),
        ("redact_patterns", ["(unclosed"]),
        ("redact_allow", "not callable"),
        ("max_queue_size", True),
        ("service_name", ""),
        ("redact_keys", [""]),
        ("redact_keys", ["token", "  "]),
        ("baggage_hosts", [""]),
        ("max_attribute_length", 4096.5),
        ("max_queue_size", "100.5"),
    ],
)
def test_bad_argument_raises_clearly(name: str, value: object) -> None:
    """A bad argument raises ValueError naming the option and the problem."""
    with pytest.raises(ValueError, match=re.escape(f"configure({name}=")):
        resolve(**{name: value})


def test_unknown_option_raises() -> None:
    """A misspelt option is a TypeError, not silently ignored."""
    with pytest.raises(TypeError, match="servce_name"):
        resolve(servce_name="x")


def test_home_expands_user() -> None:
    """``home`` accepts a string with ~ and becomes an absolute Path."""
    assert resolve(home="~/x").home == Path("~/x").expanduser()


def test_the_options_table_in_the_docs_is_generated_from_the_code() -> None:
    """docs/configuration.md carries exactly the table made from each option's own description."""
    names = [f.name for f in fields(Options)]
    assert names == list(SPEC)
    assert all(spec.doc and spec.parse for spec in SPEC.values())
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    assert render(doc) == doc, "run `make docs` to regenerate docs/configuration.md"
    for name in names:
        assert f"| `{name}` |" in doc, name
        for env in SPEC[name].env:
            assert f"`{env}`" in doc, env


def test_each_signal_reads_its_own_exporter_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_TRACES/METRICS/LOGS_EXPORTER decide for their signal only; unset ones follow ``exporter``."""
    monkeypatch.setenv("OTEL_AGENTS_EXPORTER", "console")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp, console")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    options = resolve()
    assert options.exporters_for("traces") == ("otlp", "console")
    assert options.exporters_for("metrics") == ()
    assert options.exporters_for("logs") == ("console",)


def test_exporter_argument_beats_the_per_signal_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure(exporter=...) decides every signal, unless a per-signal argument is also given."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "console")
    options = resolve(exporter="none", logs_exporter=["otlp"])
    assert options.exporters_for("traces") == ()
    assert options.exporters_for("metrics") == ()
    assert options.exporters_for("logs") == ("otlp",)


def test_per_signal_protocol_falls_back_to_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_EXPORTER_OTLP_TRACES_PROTOCOL sets traces only; the others take OTEL_EXPORTER_OTLP_PROTOCOL."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    options = resolve()
    assert [options.protocol_for(s) for s in ("traces", "metrics", "logs")] == [
        "http/protobuf",
        "grpc",
        "grpc",
    ]
    assert resolve(otlp_protocol="http/protobuf").protocol_for("metrics") == "http/protobuf"


def test_unknown_exporter_in_a_list_warns_and_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """OTEL_TRACES_EXPORTER=otlp,zipkin is ignored with a warning naming zipkin; ``exporter`` applies."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp,zipkin")
    with caplog.at_level(logging.WARNING, logger="otel_agents"):
        options = resolve()
    assert "zipkin" in caplog.text
    assert options.exporters_for("traces") == ("store",)
