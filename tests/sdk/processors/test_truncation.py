"""Truncation: long string values are capped with a marker saying how much was cut."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._truncation import BLOB, MARKER_RE, Truncator, marker_start, safe_cut


def test_long_values_are_cut_with_marker() -> None:
    """A value over the limit keeps its head and says how many characters went."""
    out = Truncator(100)("k", "a" * 250)
    assert out == "a" * 100 + semconv.TRUNCATED_MARKER.format(150)


def test_short_values_are_returned_unchanged() -> None:
    """A value within the limit is returned as the same object."""
    value = "short"
    assert Truncator(100)("k", value) is value


def test_too_small_limit_is_rejected_at_configure() -> None:
    """configure() rejects a nonsensical attribute length limit with a clear message."""
    with pytest.raises(ValueError, match="max_attribute_length"):
        oa.configure(max_attribute_length=0)


def test_configured_limit_applies_to_spans_and_sequences(make_pipeline: Any) -> None:
    """Span attributes, sequence items and event attributes are capped to the configured length."""
    pipeline = make_pipeline(max_attribute_length=64)
    with oa.tool("t") as t:
        t.set_attribute("long", "x" * 1000)
        t.set_attribute("list", ["y" * 1000, "ok"])
        t.add_event("e", {"body": "z" * 1000})
    span = pipeline.span("execute_tool t")
    assert span.attributes["long"].startswith("x" * 64 + "...[truncated 936")
    assert span.attributes["list"][1] == "ok"
    assert len(span.attributes["list"][0]) < 100
    assert len(span.events[0].attributes["body"]) < 100
    assert span.attributes[semconv.TRUNCATED_COUNT] == 3


def test_truncation_hostile_input_never_raises() -> None:
    """Huge and multi-byte strings are cut without error."""
    t = Truncator(16)
    for value in ["é" * 10_000_000, "\U0001f600" * 100, ""]:
        assert len(t("k", value)) <= 16 + 40


def _reference_cut(text: str, limit: int) -> str:
    """safe_cut as first written: searches anchored at the end, quadratic in the window."""
    kept = text[:limit]
    window = kept[-BLOB:]
    token = re.search(r"[\w+/=.~%-]*\Z", window)
    assert token is not None
    if token.start() > 0 or len(window) < BLOB:
        kept = kept[: len(kept) - len(window) + token.start()]
    digits = re.search(r"(?:\d{1,6}[ -])+\Z", kept[-BLOB:])
    if digits is not None:
        kept = kept[: len(kept) - len(kept[-BLOB:]) + digits.start()]
    return kept


def test_the_cut_backs_off_as_the_end_anchored_searches_do() -> None:
    """On thousands of texts of tokens, digit groups, separators and other scripts, the cut keeps
    what the end-anchored searches it replaces keep, at every limit."""
    rnd = random.Random(20261202)
    pieces = (
        "a",
        "Z9",
        "sk-",
        "/",
        "=",
        ".",
        "~",
        "%",
        "-",
        " ",
        "1234",
        "4111 ",
        "12-",
        "\n",
        "é",
        ",",
        "_",
    )
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 60))) for _ in range(4000)]
    texts += ["x" * n for n in range(60, 140)] + ["4111 1111 1111 " * 8]
    mismatches = [
        (text, limit)
        for text in texts
        for limit in (16, 17, 40, 63, 64, 65, 100)
        if safe_cut(text, limit) != _reference_cut(text, limit)
    ]
    assert not mismatches, mismatches[:3]


def test_the_marker_is_found_only_where_it_ends_the_value() -> None:
    """The marker's start is where the end-anchored marker pattern matches, or -1 when it does not."""
    marker = semconv.TRUNCATED_MARKER.format(12)
    cases = [
        "body" + marker,
        marker,
        marker + marker,
        "...[truncated x" + marker,
        "body" + marker + "tail",
        "body...[truncated  chars]",
        "body...[truncated 12 chars]\n",
        semconv.TRUNCATED_MARKER.split("{")[0] * 3,
        "",
    ]
    for value in cases:
        found = MARKER_RE.search(value)
        assert marker_start(value) == (found.start() if found else -1), value


def test_long_sequences_keep_their_first_items_in_spans_and_logs(make_pipeline: Any) -> None:
    """A span's 1M-int list and 5,000-string list keep their first MAX_SEQUENCE_ITEMS items, each cut
    counted, and the span is exported (it was dropped at the full queue); log lists are cut too."""
    import logging

    from opentelemetry import trace

    from otel_agents.api import _counters as stats
    from otel_agents.sdk.processors._rewrite import MAX_SEQUENCE_ITEMS

    stats.reset()
    pipeline = make_pipeline(logs=True)
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("big") as span:
        span.set_attribute("nums", list(range(1_000_000)))
        span.set_attribute("words", [f"w{i}" for i in range(5_000)])
        span.set_attribute("few", [1, 2, 3])
    logging.getLogger("app.lists").warning("listed", extra={"ids": list(range(5_000))})
    (exported,) = [s for s in pipeline.spans() if s.name == "big"]
    assert exported.attributes["nums"] == tuple(range(MAX_SEQUENCE_ITEMS))
    assert exported.attributes["words"] == tuple(f"w{i}" for i in range(MAX_SEQUENCE_ITEMS))
    assert exported.attributes["few"] == (1, 2, 3)
    assert exported.attributes[semconv.TRUNCATED_COUNT] == 2
    assert stats.drops() == {}
    (record,) = [
        r.log_record for r in pipeline.logs_exporter.get_finished_logs() if r.log_record.body == "listed"
    ]
    assert len(record.attributes["ids"]) == MAX_SEQUENCE_ITEMS
