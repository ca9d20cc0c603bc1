"""Redaction of the shapes a fault-injection run found leaking: event names, nested extras, whole values, log bodies."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.trace import Link

import otel_agents as oa
from otel_agents.api._values import to_json
from otel_agents.sdk.processors._redaction import Redactor, marker

PASSWORD = "alpha1 bravo1 charlie1"
WORDS = PASSWORD.split()
KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
AWS = "AKIAIOSFODNN7EXAMPLE"


def _leaks(text: str) -> list[str]:
    return [w for w in (*WORDS, KEY, AWS) if w in text]


def test_span_event_names_are_redacted(pipeline: Any) -> None:
    """A secret in an event's name is replaced before export, like one in its attributes."""
    with oa.tool("t") as t:
        t.add_event(f"retry with {KEY}", {"n": 1})
    (event,) = pipeline.span("execute_tool t").events
    assert KEY not in event.name
    assert marker("api_key") in event.name
    assert event.attributes["n"] == 1


def test_nested_dicts_in_log_extra_are_redacted(pipeline: Any) -> None:
    """Secrets nested in a log record's ``extra`` dicts are redacted, by key and by value."""
    logging.getLogger("app").warning(
        "ctx", extra={"ctx": {"password": PASSWORD, "k": AWS, "inner": {"note": f"use {KEY}"}}}
    )
    (record,) = [r for r in pipeline.logs() if r.log_record.body == "ctx"]
    assert _leaks(repr(dict(record.log_record.attributes))) == []


@pytest.mark.parametrize(
    "text",
    [
        '{"password": "alpha1 bravo1 charlie1"}',
        '{"password":"alpha1 bravo1 charlie1","n":1}',
        "{'password': 'alpha1 bravo1 charlie1'}",
        '{"args": "{\\"password\\": \\"alpha1 bravo1 charlie1\\"}"}',
        '{"password": "alpha1, \\"bravo1\\" charlie1"}',
        "password=alpha1 bravo1 charlie1",
        "login failed password=alpha1 bravo1 charlie1 user=bob",
        "password: alpha1,bravo1,charlie1",
        "password='alpha1 bravo1 charlie1'",
        'password="alpha1 bravo1 charlie1',
        "userPassword=alpha1 bravo1 charlie1",
        "db.rootPassword: alpha1 bravo1 charlie1",
        "openaiApiKey=alpha1 bravo1 charlie1",
    ],
)
def test_a_password_with_spaces_commas_or_quotes_goes_whole(text: str) -> None:
    """Every word of a password goes, however the value is quoted or embedded."""
    out = Redactor()("message", text)
    assert _leaks(out) == [], out
    assert marker("key_value") in out


@pytest.mark.parametrize(
    "key", ["userPassword", "dbPassword", "openaiApiKey", "db.rootPassword", "DBPassword"]
)
def test_camel_case_and_dotted_secret_keys(key: str) -> None:
    """camelCase, PascalCase and dotted keys naming a secret have their values redacted."""
    assert Redactor()(key, "plain value") == marker("secret_key")


@pytest.mark.parametrize("capture", [False, True])
def test_camel_case_keys_redacted_with_capture_on_or_off(make_pipeline: Any, capture: bool) -> None:
    """Attributes and tool arguments under camelCase secret keys never reach an exporter."""
    captured = make_pipeline(capture_content=capture)
    with oa.tool("t", arguments={"userPassword": PASSWORD, "openaiApiKey": KEY}) as t:
        t.set_attribute("dbPassword", PASSWORD)
        t.set_attribute("db.rootPassword", PASSWORD)
    span = captured.span("execute_tool t")
    assert _leaks(repr(dict(span.attributes))) == []


def test_redacting_twice_changes_nothing() -> None:
    """A value already redacted is left as it is and not counted again."""
    r = Redactor()
    once = r("m", "password=alpha1 bravo1 and Authorization: Bearer abcdefghijkl")
    assert r("m", once) is once


def test_secrets_in_attribute_keys_are_redacted(pipeline: Any) -> None:
    """A secret pasted into an attribute key (of any value type) is replaced in the key itself."""
    for _ in range(2):  # the second span takes the remembered fast path
        with oa.tool("t") as t:
            t.set_attribute(f"note {KEY}", 1)
            t.set_attribute(f"text {AWS}", "plain")
    for span in pipeline.spans():
        assert _leaks(repr(dict(span.attributes))) == []
        assert f"note {marker('api_key')}" in span.attributes


@pytest.mark.parametrize(
    "url",
    [
        "http://h/x?q=%7B%22password%22%3A+%22alpha1+bravo1+charlie1%22%7D",
        'http://h/x?q={"password":+"alpha1+bravo1+charlie1"}',
        "http://h/x?password=alpha1+bravo1+charlie1&page=2",
    ],
)
def test_percent_encoded_and_plus_spaced_secrets_are_redacted(url: str) -> None:
    """A password in a URL's query is found through percent-escapes and '+' spaces."""
    out = Redactor()("http.url", url)
    assert _leaks(out) == [], out


class _Carrier:
    """An object logged as a body: exporters send its ``str()``."""

    def __str__(self) -> str:
        return f"carrier {KEY}"


def _nested(value: object, levels: int) -> object:
    for _ in range(levels):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    "body",
    [
        [KEY, "ok"],
        (KEY,),
        [{"note": KEY}],
        {"a": [[KEY]]},
        _Carrier(),
        {"err": _Carrier()},
        [_Carrier()],
        _nested(KEY, 12),
        _nested([KEY], 7),
    ],
    ids=[
        "list",
        "tuple",
        "list-of-dicts",
        "nested-lists",
        "object",
        "object-in-dict",
        "object-in-list",
        "deeper-than-the-walk",
        "list-at-the-walks-depth",
    ],
)
def test_log_bodies_of_every_shape_the_logs_api_takes_are_redacted(pipeline: Any, body: object) -> None:
    """A secret in a log body sent through the OTel logs API is gone, whatever the body's shape."""
    pipeline.telemetry.logger_provider.get_logger("app").emit(LogRecord(body=body, attributes={"n": 1}))
    (record,) = pipeline.logs()
    # Rendered as the store and the OTLP exporters render it: objects as their str().
    assert KEY not in to_json(record.log_record.body)


def test_a_log_body_nested_past_the_walk_leaves_as_a_marker(pipeline: Any) -> None:
    """What lies deeper than redaction reads is replaced by a marker, never sent unread."""
    pipeline.telemetry.logger_provider.get_logger("app").emit(LogRecord(body=_nested("plain", 12)))
    (record,) = pipeline.logs()
    assert "plain" not in repr(record.log_record.body)
    assert "<nested too deep: dict>" in repr(record.log_record.body)


def test_a_bytes_log_body_leaves_as_its_size(pipeline: Any) -> None:
    """Bytes cannot be read for secrets: a bytes body is replaced by its size."""
    pipeline.telemetry.logger_provider.get_logger("app").emit(LogRecord(body=f"key {KEY}".encode()))
    (record,) = pipeline.logs()
    assert record.log_record.body == f"<bytes len={len(KEY) + 4}>"


@pytest.mark.parametrize("body", [None, 7, 2.5, True, "plain text", {"n": 1, "ok": "fine"}])
def test_log_bodies_without_secrets_keep_their_value(pipeline: Any, body: object) -> None:
    """Bodies with nothing to redact arrive as they were sent, of the same type."""
    pipeline.telemetry.logger_provider.get_logger("app").emit(LogRecord(body=body))
    (record,) = pipeline.logs()
    assert record.log_record.body == body and type(record.log_record.body) is type(body)


def test_link_attributes_are_redacted_on_every_span(pipeline: Any) -> None:
    """A secret in a link's attributes, given at a span's start or added later, ours or a foreign
    tracer's, is gone before export; the link itself stays."""
    tracer = pipeline.telemetry.tracer_provider.get_tracer("foreign")
    with tracer.start_as_current_span("target") as target:
        pass
    linked = target.get_span_context()
    with tracer.start_as_current_span("foreign", links=[Link(linked, {"note": f"key {KEY}"})]) as span:
        span.add_link(linked, {"list": [KEY, "ok"], "n": 1})
    with oa.tool("t") as t:
        t.span.add_link(linked, {"note": KEY})
    for name in ("foreign", "execute_tool t"):
        exported = pipeline.span(name)
        assert [link.context.span_id for link in exported.links] == [linked.span_id] * len(exported.links)
        assert KEY not in repr([dict(link.attributes or {}) for link in exported.links])
    assert pipeline.span("foreign").links[1].attributes["n"] == 1


def test_a_log_records_event_name_is_redacted(pipeline: Any) -> None:
    """The logs API's event name is text the caller chose: a secret in it is redacted."""
    pipeline.telemetry.logger_provider.get_logger("app").emit(LogRecord(body="b", event_name=f"retry {KEY}"))
    (record,) = pipeline.logs()
    assert KEY not in record.log_record.event_name and marker("api_key") in record.log_record.event_name


def test_a_log_records_severity_text_is_redacted(pipeline: Any) -> None:
    """The logs API takes any severity text: a secret in it is redacted like any other text."""
    logger = pipeline.telemetry.logger_provider.get_logger("app")
    logger.emit(LogRecord(body="b", severity_text=f"WARN {KEY}"))
    (record,) = pipeline.logs()
    assert record.log_record.severity_text == f"WARN {marker('api_key')}"


@pytest.mark.parametrize("source", ["otel", "logging"])
def test_a_secret_in_a_log_attribute_key_leaves_no_trace_of_its_old_spelling(
    pipeline: Any, source: str
) -> None:
    """A log attribute key holding a secret is renamed, and the old key is gone, not kept beside it."""
    if source == "otel":
        pipeline.telemetry.logger_provider.get_logger("app").emit(
            LogRecord(body="b", attributes={f"k {KEY}": 1, "kept": "v"})
        )
    else:
        logging.getLogger("app.keys").warning("b", extra={f"k {KEY}": 1, "kept": "v"})
    (record,) = pipeline.logs()
    attrs = dict(record.log_record.attributes)
    assert not _leaks(repr(attrs))
    assert attrs[f"k {marker('api_key')}"] == 1
    assert attrs["kept"] == "v"
