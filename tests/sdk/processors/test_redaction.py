"""Redaction: secret keys and secret-looking values become a marker before any exporter, never echoed."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

import otel_agents as oa
from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._redaction import Redactor, marker

SECRETS = {
    "api_key": "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
    "aws_key": "AKIAIOSFODNN7EXAMPLE",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "card_number": "4111 1111 1111 1111",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
}


@pytest.mark.parametrize("rule", sorted(SECRETS))
def test_secret_values_are_replaced_under_any_key(rule: str) -> None:
    """A secret-looking value is replaced by a marker naming its rule, with the text around kept."""
    secret = SECRETS[rule]
    out = Redactor()("notes", f"before {secret} after")
    assert secret not in out
    assert out == f"before {marker(rule)} after"


def test_bearer_and_url_credentials_keep_their_context() -> None:
    """Only the credential part of a bearer header or URL is replaced."""
    r = Redactor()
    assert r("h", "Bearer abcdefghijklmnop") == f"Bearer {marker('bearer')}"
    assert r("u", "https://bob:s3cretpw@db.example/x") == f"https://{marker('url_credentials')}@db.example/x"


def test_key_value_pairs_inside_text() -> None:
    """``password=...`` and JSON ``"token": "..."`` inside free text lose their value, up to the next pair."""
    r = Redactor()
    assert (
        r("msg", "login failed password=hunter2 user=bob")
        == f"login failed password={marker('key_value')} user=bob"
    )
    assert "abc123xyz" not in r("body", '{"token": "abc123xyz", "n": 1}')


def test_card_numbers_must_pass_luhn() -> None:
    """Digit runs that fail the Luhn check (ids, timestamps) are left alone."""
    assert Redactor()("n", "order 4111 1111 1111 1112") == "order 4111 1111 1111 1112"


@pytest.mark.parametrize(
    "value",
    [
        "demo-20261122-133303-ab12",  # a date-time id whose digits pass the Luhn check
        "start_ns=1795354386880939706",  # a nanosecond timestamp that passes it too
        "20261122133303",
    ],
)
def test_dates_and_timestamps_are_not_card_numbers(value: str) -> None:
    """Long digit runs without a card network's prefix are never redacted, Luhn-valid or not."""
    assert Redactor()("session.id", value) == value


def test_mastercard_2_series_is_a_card() -> None:
    """A Luhn-valid number in Mastercard's 2221-2720 range is redacted."""
    assert Redactor()("n", "pay 2223000048400011") == f"pay {marker('card_number')}"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db.password",
        "http.request.header.authorization",
        "api_key",
        "X-Api-Key",
        "cookie",
        "client_secret",
    ],
)
def test_secret_keys_redact_whole_value(key: str) -> None:
    """Any string under a secret-looking key is replaced whatever it looks like."""
    assert Redactor()(key, "plain") == marker("secret_key")


@pytest.mark.parametrize(
    "key",
    [semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.GEN_AI_TOKEN_TYPE, "author", "max_tokens", "session.id"],
)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    """Keys that merely contain a secret word as part of another word are not redacted."""
    assert Redactor()(key, "plain") == "plain"


def test_allow_callback_and_extra_patterns() -> None:
    """An allow-list callback keeps chosen values; extra patterns add rules of their own."""
    r = Redactor(
        extra_patterns=[r"ACME-\d{6}"], extra_keys=["ssn"], allow=lambda k, v: k == "test.fixture_key"
    )
    assert r("test.fixture_key", SECRETS["api_key"]) == SECRETS["api_key"]
    assert r("note", "ticket ACME-123456") == f"ticket {marker('custom')}"
    assert r("user.ssn", "123") == marker("secret_key")


def test_allow_callback_that_raises_fails_closed(lenient: None) -> None:
    """An allow callback that raises redacts (fails closed) and is counted."""

    def allow(key: str, value: str) -> bool:
        raise RuntimeError("bug")

    stats.reset()
    assert Redactor(allow=allow)("password", "x") == marker("secret_key")
    assert stats.errors()["redaction.allow_callback"] == 1


def test_spans_events_status_and_logs_are_redacted_before_export(pipeline: Any) -> None:
    """Span attributes, exception events, status and log records reach exporters redacted and counted."""
    secret = SECRETS["api_key"]
    with pytest.raises(ValueError), oa.tool("t") as t:
        t.set_attribute("http.request.header.authorization", "Bearer abcdefghijklmnop")
        t.set_attribute("note", f"key is {secret}")
        logging.getLogger("app").warning("calling with %s", secret)
        raise ValueError(f"rejected key {secret}")
    span = pipeline.span("execute_tool t")
    exported = repr(span.to_json())
    assert secret not in exported
    assert "abcdefghijklmnop" not in exported
    assert span.attributes[semconv.REDACTED_COUNT] >= 4
    assert marker("api_key") in span.status.description
    logs = pipeline.logs()
    bodies = [str(rec.log_record.body) for rec in logs]
    assert any(marker("api_key") in b for b in bodies)
    assert not any(secret in b for b in bodies)
    assert stats.redactions()["api_key"] >= 3


def test_no_secret_means_same_span_object(pipeline: Any) -> None:
    """A span with nothing to redact or truncate is passed on as is, not rebuilt."""
    with oa.tool("t") as t:
        t.set_attribute("note", "nothing to see")
    assert semconv.REDACTED_COUNT not in pipeline.span("execute_tool t").attributes


def test_redaction_hostile_input_never_raises() -> None:
    """Empty, huge, binary-looking and pathological strings never make the redactor raise."""
    r = Redactor()
    for value in [
        "",
        "\x00" * 10,
        "9" * 100_000,
        "sk-" * 10_000,
        "Bearer " * 5000,
        "-----BEGIN PRIVATE KEY-----" * 100,
        "é" * 1000,
    ]:
        out = r("k", value)
        assert isinstance(out, str)
    assert re.search("sk-", r("k", "sk-" + "a" * 30)) is None


def test_list_values_in_log_records_are_redacted(pipeline: Any) -> None:
    """A list of strings passed as a log extra has its secrets redacted like a tuple would."""
    secret = SECRETS["api_key"]
    logging.getLogger("app").warning("keys", extra={"candidates": ["ok", f"key {secret}"]})
    (record,) = [r for r in pipeline.logs() if r.log_record.body == "keys"]
    assert secret not in repr(dict(record.log_record.attributes))


# Pieces of every rule's shapes, their near misses and the characters their boundaries turn on.
_FRAGMENTS = (
    "password",
    "PassPhrase",
    "pwd",
    "client_secret",
    "Token",
    "authorization",
    "set-cookie",
    "credentials",
    "signature",
    "jwt",
    "apiKey",
    "bearer ",
    "Basic ",
    "=",
    ":",
    " = ",
    '"',
    "'",
    '\\"',
    ",",
    ";",
    "&",
    "}",
    "\n",
    " ",
    "  ",
    "sk-",
    "sk-proj-",
    "glpat-",
    "ghp_",
    "github_pat_",
    "xoxb-",
    "AIza",
    "AKIA",
    "ASIA",
    "eyJ",
    "eyJhbGciOiJIUzI1NiJ9",
    ".",
    "://",
    "@",
    "bob:pw",
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOP0123",
    "0123456789",
    "4111",
    "1111",
    "-",
    "_",
    "-----BEGIN RSA PRIVATE KEY-----",
    "\u0130",
    "\u212a",
    "\u017f",
    "\u0661\u0662\u0663",
    "x",
)


def _ungated(redactor: Redactor, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``redactor`` run every rule's regex over the whole value, as before any gate existed."""
    from otel_agents.sdk.processors import _redaction

    redactor._any = (re.compile(""), re.compile(""))
    monkeypatch.setattr(_redaction, "_passes", lambda gate, value, lower: True)
    monkeypatch.setattr(_redaction, "_enough_digits", lambda value: True)
    monkeypatch.setattr(
        _redaction,
        "_sub_cards",
        lambda rule, replacing, text: rule.sub(_redaction._Replacer(*replacing), text),
    )


def test_the_gates_never_change_what_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The literal, tail, separator and card-run gates only skip work: on thousands of values built
    from every rule's pieces, the redacted text is the one the bare rules give."""
    import random

    rnd = random.Random(20261201)
    values = ["".join(rnd.choice(_FRAGMENTS) for _ in range(rnd.randint(1, 24))) for _ in range(6000)]
    # Long values take the per-rule scans instead of the one search for every literal.
    values += [f"{'lorem ipsum ' * 50}{v}{' dolor' * 20}" for v in values[:2000]]
    gated = [Redactor()._redact("k", v) for v in values]
    bare = Redactor()
    _ungated(bare, monkeypatch)
    leaks = [
        (v, g)
        for v, g, b in zip(values, gated, (bare._redact("k", v) for v in values), strict=True)
        if g != b
    ]
    assert not leaks, leaks[:3]
    assert sum(g != v for v, g in zip(values, gated, strict=True)) > 1000  # the corpus does hit the rules


def test_card_numbers_are_found_in_long_text_as_in_short() -> None:
    """A card number deep in a long ASCII or non-ASCII value is redacted; digits that are no card stay."""
    filler = "lorem ipsum 1796148743094007917 dolor " * 100
    for text in (filler, filler + "\u00e9"):
        out = Redactor()("notes", f"{text} pay 4111-1111-1111-1111 now {text}")
        assert "4111-1111-1111-1111" not in out
        assert marker("card_number") in out
        assert "1796148743094007917" in out


def test_the_gates_read_alike_without_possessive_quantifiers() -> None:
    """The tails' possessive quantifiers lose no match: on values built from every rule's pieces,
    each tail finds what the same tail read greedy finds."""
    import random

    rnd = random.Random(3)
    values = ["".join(rnd.choice(_FRAGMENTS) for _ in range(rnd.randint(1, 24))) for _ in range(3000)]
    patterns = [
        find
        for _, _, _, gate in Redactor()._rules
        if gate is not None
        for _, _, find in gate[1]
        if find is not None
    ]
    assert any("++" in p.pattern or "*+" in p.pattern for p in patterns)
    for pattern in patterns:
        greedy = re.compile(pattern.pattern.replace("++", "+").replace("*+", "*").replace("}+", "}"))
        for value in values:
            for text in (value, value.lower()):
                found, plain = pattern.search(text), greedy.search(text)
                assert (found and found.span()) == (plain and plain.span()), (pattern.pattern, text)


class _Text(str):
    """A str subclass, as some libraries put in attributes (enum.StrEnum, their own text types)."""

    __slots__ = ()


class _Impostor(str):
    """A str subclass that claims to equal, and hash like, a value already seen clean."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash("nothing to see")

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False


@pytest.mark.parametrize("kind", [_Text, _Impostor])
def test_str_subclasses_are_redacted_wherever_they_enter(pipeline: Any, kind: type[str]) -> None:
    """A secret in a str subclass, in a value, a key, a list, an event, a name or a status, never leaves."""
    secret = SECRETS["api_key"]
    tracer = trace.get_tracer("some.library")
    for _ in range(2):  # the second time every plain text of the span is remembered clean
        with tracer.start_as_current_span("plain") as span:
            span.set_attribute("note", "nothing to see")
            span.set_attribute("tags", ("nothing to see",))
        with tracer.start_as_current_span(kind(f"call {secret}")) as span:
            span.set_attribute("note", kind(f"key is {secret}"))
            span.set_attribute(kind(f"x.{secret}"), "nothing to see")
            span.set_attribute("tags", (kind(f"key {secret}"),))
            span.add_event("e", {"note": kind(f"key {secret}")})
            span.set_status(Status(StatusCode.ERROR, kind(f"key {secret}")))
    exported = [s for s in pipeline.spans() if s.name != "plain"]
    assert len(exported) == 2
    for span in exported:
        text = repr(span.to_json()) + repr(dict(span.attributes or {})) + str(span.name)
        assert secret not in text
        assert span.attributes[semconv.REDACTED_COUNT] >= 5


def test_blank_extra_key_fragments_make_no_key_a_secret() -> None:
    """Blank entries among the extra key fragments are ignored: ordinary keys keep their values."""
    redactor = Redactor(extra_keys=["", "  ", "tenant_secret"])
    assert redactor("gen_ai.tool.name", "lookup") == "lookup"
    assert not redactor.is_secret_key("span.name")
    assert redactor.is_secret_key("x.tenant_secret")
