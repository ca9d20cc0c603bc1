"""Content switches: util-genai's values, third-party switches aligned, duplicate instrumentations warned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from otel_agents.api import _semconv as semconv
from otel_agents.api._switches import capture_in_events
from otel_agents.sdk import _content_switches
from otel_agents.sdk._options import resolve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no_content", False),
        ("SPAN_ONLY", True),
        ("Event_Only", False),
        ("span_and_event", True),
        ("true", True),
        ("FALSE", False),
    ],
)
def test_capture_accepts_util_genai_values(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    """OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT takes util-genai's enum, in any case."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_CONTENT, value)
    assert resolve().capture_content is expected


@pytest.mark.parametrize(
    ("argument", "variables", "expected"),
    [
        (None, {}, False),
        (None, {semconv.ENV_CAPTURE_CONTENT: "Event_Only"}, True),
        (None, {semconv.ENV_CAPTURE_CONTENT: "span_only"}, False),
        (None, {semconv.ENV_CAPTURE_CONTENT: "span_and_event"}, True),
        (None, {semconv.ENV_CAPTURE_CONTENT: "sometimes", "OTEL_AGENTS_CAPTURE_CONTENT": "true"}, True),
        (False, {semconv.ENV_CAPTURE_CONTENT: "event_only"}, False),
        ("event_only", {}, True),
        ("span_only", {semconv.ENV_CAPTURE_CONTENT: "event_only"}, False),
        (True, {}, True),
    ],
)
def test_content_in_other_libraries_events_follows_the_argument_else_util_genais_reading(
    monkeypatch: pytest.MonkeyPatch, argument: object, variables: dict[str, str], expected: bool
) -> None:
    """Events may keep content as the argument says (util-genai's values included), else as the
    first valid variable says in util-genai's terms (event_only yes, span_only no)."""
    for name in (semconv.ENV_CAPTURE_CONTENT, "OTEL_AGENTS_CAPTURE_CONTENT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    env = (semconv.ENV_CAPTURE_CONTENT, "OTEL_AGENTS_CAPTURE_CONTENT")
    assert capture_in_events(argument, env) is expected


def test_capture_rejects_other_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A value that is neither a bool nor util-genai's warns and leaves capture off."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_CONTENT, "sometimes")
    assert resolve().capture_content is False
    assert "span_only" in caplog.text


def test_third_party_switches_follow_ours_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset switches are aligned with our capture default; a switch the user set is left alone."""
    monkeypatch.delenv(semconv.ENV_TRACELOOP_TRACE_CONTENT, raising=False)
    for name in semconv.ENV_OPENINFERENCE_HIDE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENINFERENCE_HIDE_OUTPUTS", "false")
    done = _content_switches.align(False)
    assert os.environ[semconv.ENV_TRACELOOP_TRACE_CONTENT] == "false"
    assert os.environ["OPENINFERENCE_HIDE_INPUTS"] == "true"
    assert os.environ["OPENINFERENCE_HIDE_OUTPUTS"] == "false"
    assert "OPENINFERENCE_HIDE_OUTPUTS" not in done


def test_openllmetry_builds_no_content_by_default(
    make_pipeline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After configure(), OpenLLMetry's own switch says no content (it reads TRACELOOP_TRACE_CONTENT)."""
    utils = pytest.importorskip("opentelemetry.instrumentation.openai.utils")
    monkeypatch.delenv(semconv.ENV_TRACELOOP_TRACE_CONTENT, raising=False)
    make_pipeline()  # type: ignore[operator]
    assert utils.should_send_prompts() is False
