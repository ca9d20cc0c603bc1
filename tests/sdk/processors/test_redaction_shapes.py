"""Redaction of the shapes a fault-injection run found leaking: event names, nested extras, whole values."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import otel_agents as oa
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
