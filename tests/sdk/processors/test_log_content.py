"""Content keys leave every log record, and content leaves GenAI events' bodies; nothing else changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.sdk.processors._log_content import ContentLogProcessor

SECRET = "PELICAN-7731"


def _emit(**record: Any) -> Any:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(ContentLogProcessor(SimpleLogRecordProcessor(exporter)))
    provider.get_logger("lib").emit(**record)
    (out,) = exporter.get_finished_logs()
    return out.log_record


def test_an_app_log_without_content_keys_passes_unchanged() -> None:
    """A plain log's text body and attributes, a generic key like ``events`` among them, are kept."""
    record = _emit(body=f"saw {SECRET}", attributes={"events": SECRET, "user": "ann"})
    assert record.body == f"saw {SECRET}"
    assert dict(record.attributes) == {"events": SECRET, "user": "ann"}


def test_content_keys_leave_any_log_record_and_its_text_body_stays() -> None:
    """Messages and OpenInference values in a plain log's attributes are removed; the message stays."""
    attrs = {semconv.GEN_AI_INPUT_MESSAGES: SECRET, semconv.OI_INPUT_VALUE: SECRET, "n": 1}
    record = _emit(body="calling the model", attributes=attrs)
    assert record.body == "calling the model"
    assert dict(record.attributes) == {"n": 1}


def test_a_genai_events_body_loses_content_and_arguments_and_keeps_its_structure() -> None:
    """A gen_ai.choice body keeps index, finish reason and tool-call ids and names, without content."""
    body = {
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": SECRET},
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": SECRET}}],
    }
    record = _emit(event_name="gen_ai.choice", body=body, attributes={semconv.LOGFIRE_MESSAGES: SECRET})
    assert record.body == {
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {"role": "assistant"},
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup"}}],
    }
    assert semconv.LOGFIRE_MESSAGES not in record.attributes


@pytest.mark.parametrize("body", [SECRET, [SECRET], b"raw " + SECRET.encode(), {"parts": [SECRET]}])
def test_text_that_is_no_fields_value_in_a_genai_event_is_dropped(body: Any) -> None:
    """A GenAI event's body as text, or text as a list's items, is dropped: it can only be the message."""
    record = _emit(event_name="gen_ai.user.message", body=body)
    assert SECRET not in repr(record.body)


def test_the_event_name_attribute_of_older_event_apis_counts_too() -> None:
    """A record named by an ``event.name`` attribute (the older events API) is a GenAI event as well."""
    record = _emit(
        body={"content": SECRET, "role": "user"}, attributes={semconv.EVENT_NAME: "gen_ai.user.message"}
    )
    assert record.body == {"role": "user"}


def test_a_body_nested_past_the_depth_bound_is_cut_there() -> None:
    """A GenAI body nested deeper than the bound keeps no value below it."""
    body: Any = SECRET
    for _ in range(40):
        body = {"x": body}
    record = _emit(event_name="gen_ai.user.message", body=body)
    assert SECRET not in repr(record.body)


class Hostile(Mapping[str, Any]):
    """A body that raises when read."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("no")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no")

    def __len__(self) -> int:
        return 1


def test_a_body_that_cannot_be_read_is_replaced_and_counted(lenient: None) -> None:
    """A GenAI event whose body raises is still delivered, its body replaced and the error counted once."""
    stats.reset()
    record = _emit(event_name="gen_ai.user.message", body=Hostile(), attributes={"k": "v"})
    assert "content removal failed" in record.body
    assert stats.errors()["processor.log_content.on_emit"] == 1
