"""Truncation: long string values are capped with a marker saying how much was cut."""

from __future__ import annotations

from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._truncation import Truncator


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
