"""Run context on log records, and the SIGTERM flush hook's installation rules."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.sdk._sigterm import flush_on_sigterm


def test_log_records_carry_run_context_and_keep_their_own_attributes(pipeline: Any) -> None:
    """Log records emitted inside run_context and an agent carry the ids and agent name; the record's own attributes win."""
    log = logging.getLogger("tests.integrations.logs")
    log.setLevel(logging.INFO)
    with oa.run_context(run_id="r-log", request_id="q-log"), oa.agent("logger_agent"):
        log.info("plain")
        log.info("own", extra={"otel_agents.run.id": "explicit"})
    records = {r.log_record.body: r.log_record.attributes for r in pipeline.logs()}
    assert records["plain"]["otel_agents.run.id"] == "r-log"
    assert records["plain"]["otel_agents.request.id"] == "q-log"
    assert records["plain"]["gen_ai.agent.name"] == "logger_agent"
    assert records["own"]["otel_agents.run.id"] == "explicit"


def test_log_records_outside_a_run_are_untouched(pipeline: Any) -> None:
    """A log record emitted outside any run context gets no run-context attributes."""
    logging.getLogger("tests.integrations.logs").warning("alone")
    (record,) = [r.log_record for r in pipeline.logs() if r.log_record.body == "alone"]
    assert not any(k.startswith("otel_agents.") for k in (record.attributes or {}))


@pytest.fixture
def restore_sigterm() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_hook_respects_an_existing_handler(pipeline: Any, restore_sigterm: None) -> None:
    """The flush hook installs itself only where SIGTERM has its default action, never over someone else's handler."""

    def theirs(signum: int, frame: object) -> None:
        return None

    signal.signal(signal.SIGTERM, theirs)
    assert flush_on_sigterm(pipeline.telemetry) is False
    assert signal.getsignal(signal.SIGTERM) is theirs
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert flush_on_sigterm(pipeline.telemetry) is True
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, theirs)
