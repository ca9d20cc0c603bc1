"""never_raise: our exceptions are swallowed, logged once and counted in production, loud under tests."""

from __future__ import annotations

import logging

import pytest

from otel_agents.api import _counters as stats
from otel_agents.api._guard import never_raise


def test_swallows_logs_once_and_counts(lenient: None, caplog: pytest.LogCaptureFixture) -> None:
    """In production an internal error is swallowed, logged once per site without its message, and counted."""
    stats.reset()

    @never_raise("test.site", default=-1)
    def broken() -> int:
        raise RuntimeError("secret sk-should-not-be-logged")

    with caplog.at_level(logging.WARNING, logger="otel_agents"):
        assert broken() == -1
        assert broken() == -1
        with never_raise("test.site"):
            raise KeyError("x")
    assert stats.errors()["test.site"] == 3
    messages = [r.getMessage() for r in caplog.records if "test.site" in r.getMessage()]
    assert len(messages) <= 1
    assert "sk-should" not in caplog.text


def test_reraises_under_tests() -> None:
    """With the test-suite switch on, the same error propagates so bugs are loud."""
    with pytest.raises(RuntimeError), never_raise("test.loud"):
        raise RuntimeError("bug")


def test_base_exceptions_pass_through(lenient: None) -> None:
    """KeyboardInterrupt and SystemExit are never swallowed."""
    with pytest.raises(KeyboardInterrupt), never_raise("test.base"):
        raise KeyboardInterrupt
