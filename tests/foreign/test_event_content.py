"""GenAI libraries' events (log records) and retrieval spans keep no content while capture is off."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from tests.foreign.conftest import CODEWORD, Run
from tests.foreign.test_openai_v2 import _calls

openai = pytest.importorskip("openai")
openai_v2 = pytest.importorskip("opentelemetry.instrumentation.openai_v2")
ollm_openai = pytest.importorskip("opentelemetry.instrumentation.openai")
genai_handler = pytest.importorskip("opentelemetry.util.genai.handler")


def _fresh_util_genai() -> None:
    # util-genai keeps one handler per process, bound to the providers in force when it was made.
    if hasattr(genai_handler.get_telemetry_handler, "_default_handler"):
        delattr(genai_handler.get_telemetry_handler, "_default_handler")


@pytest.fixture
def run_all_sinks(make_pipeline: Any, tmp_path: Path, otlp_receiver: Any) -> Iterator[Any]:
    """Factory: a pipeline writing to the store, in-memory exporters and OTLP/HTTP at once."""
    made: list[Run] = []

    def make(**options: Any) -> Run:
        _fresh_util_genai()
        home = tmp_path / "home"
        captured = make_pipeline(
            exporter=("store", "otlp"), otlp_endpoint=otlp_receiver.endpoint, home=home, **options
        )
        made.append(Run(captured, home))
        return made[-1]

    yield make
    _fresh_util_genai()


def _sinks(run: Run, receiver: Any) -> dict[str, str]:
    """Everything each sink received, as text."""
    run.shutdown()
    return {
        "spans": repr(
            [(dict(s.attributes or {}), s.events) for s in run.captured.spans_exporter.get_finished_spans()]
        ),
        "logs": repr(
            [
                (r.log_record.body, dict(r.log_record.attributes or {}))
                for r in run.captured.logs_exporter.get_finished_logs()
            ]
        ),
        "store": run.store_text(),
        "otlp logs": repr(receiver.logs),
        "otlp spans": repr(receiver.spans()),
    }


def _leaks(run: Run, receiver: Any) -> set[str]:
    """The sinks in which the codeword turned up."""
    return {name for name, text in _sinks(run, receiver).items() if CODEWORD in text}


def _calls_under(instrumentor: Any, url: str, scope: Any, run: Run) -> None:
    """Two calls (one streamed) to ``url`` with ``instrumentor`` on, inside ``scope``, then a flush."""
    instrumentor.instrument()
    try:
        with scope:
            _calls(url)
        run.flush()
    finally:
        instrumentor.uninstrument()


@pytest.mark.parametrize("mode", ["span_and_event", "event_only"])
def test_openai_v2_events_carry_no_content_when_the_argument_turns_capture_off(
    run_all_sinks: Any, fake_openai: Any, otlp_receiver: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """util-genai's events keep their usage but lose the messages in every sink when configure(capture_content=False) overrides the variable."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_CONTENT, mode)
    run = run_all_sinks(capture_content=False)
    _calls_under(openai_v2.OpenAIInstrumentor(), fake_openai(None).url, oa.agent("support"), run)
    events = [
        r.log_record
        for r in run.captured.logs_exporter.get_finished_logs()
        if r.log_record.event_name == "gen_ai.client.inference.operation.details"
    ]
    assert len(events) == 2
    assert all(e.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 11 for e in events)
    assert not any(semconv.GEN_AI_INPUT_MESSAGES in e.attributes for e in events)
    assert _leaks(run, otlp_receiver) == set()


def test_openai_v2_events_keep_content_the_variable_asks_for_events_only(
    run_all_sinks: Any, fake_openai: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With event_only set and no argument, the events keep the messages and the spans do not."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_CONTENT, "event_only")
    run = run_all_sinks()
    _calls_under(openai_v2.OpenAIInstrumentor(), fake_openai(None).url, contextlib.nullcontext(), run)
    logs = repr([dict(r.log_record.attributes or {}) for r in run.captured.logs_exporter.get_finished_logs()])
    assert CODEWORD in logs
    spans = repr([dict(s.attributes or {}) for s in run.captured.spans()])
    assert CODEWORD not in spans
    run.shutdown()


def test_openllmetry_events_carry_no_content_when_its_own_switch_is_on(
    run_all_sinks: Any, fake_openai: Any, otlp_receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenLLMetry's message and choice events lose their content with TRACELOOP_TRACE_CONTENT=true and capture off."""
    monkeypatch.setenv(semconv.ENV_TRACELOOP_TRACE_CONTENT, "true")
    run = run_all_sinks()
    instrumentor = ollm_openai.OpenAIInstrumentor(use_attributes=False)
    _calls_under(instrumentor, fake_openai(None).url, oa.workflow("ask"), run)
    records = [r.log_record for r in run.captured.logs_exporter.get_finished_logs()]
    choices = [r for r in records if r.event_name == "gen_ai.choice"]
    assert len(choices) == 2
    assert all(r.body["finish_reason"] == "stop" and "content" not in r.body["message"] for r in choices)
    assert [r for r in records if r.event_name == "gen_ai.user.message"]
    assert _leaks(run, otlp_receiver) == set()


def test_util_genai_retrieval_span_keeps_no_query_or_documents_while_capture_is_off(
    run_all_sinks: Any, otlp_receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A util-genai retrieval span set to carry its query and documents (span_only) has neither once the argument turns capture off."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_CONTENT, "span_only")
    run = run_all_sinks(capture_content=False)
    handler = genai_handler.get_telemetry_handler()
    with handler.retrieval(data_source_id="kb", provider="chroma") as retrieval:
        retrieval.query_text = f"where is {CODEWORD}"
        retrieval.documents = [{"id": "d1", "content": f"{CODEWORD} lives here"}]
    run.flush()
    (span,) = [s for s in run.captured.spans() if s.name == "retrieval kb"]
    assert span.attributes[semconv.GEN_AI_OPERATION_NAME] == semconv.OP_RETRIEVAL
    assert semconv.GEN_AI_RETRIEVAL_QUERY_TEXT not in span.attributes
    assert _leaks(run, otlp_receiver) == set()


def test_util_genai_retrieval_span_keeps_its_query_when_capture_is_on(
    run_all_sinks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With capture on (span_only), the retrieval span keeps the query it was given."""
    monkeypatch.setenv(semconv.ENV_CAPTURE_CONTENT, "span_only")
    run = run_all_sinks()
    handler = genai_handler.get_telemetry_handler()
    with handler.retrieval(data_source_id="kb") as retrieval:
        retrieval.query_text = f"where is {CODEWORD}"
    run.flush()
    (span,) = [s for s in run.captured.spans() if s.name == "retrieval kb"]
    assert span.attributes[semconv.GEN_AI_RETRIEVAL_QUERY_TEXT] == f"where is {CODEWORD}"
    run.shutdown()
