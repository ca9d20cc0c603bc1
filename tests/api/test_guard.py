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


def test_a_call_with_arguments_that_do_not_fit_is_the_apps_mistake_not_ours(
    lenient: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A span factory or handle setter given a keyword it does not take says so, naming the keyword
    and what happens instead, and counts it apart from internal errors."""
    import otel_agents as oa

    stats.reset()
    with (
        caplog.at_level(logging.WARNING, logger="otel_agents"),
        oa.workflow("w", metadta={"a": 1}) as run,  # type: ignore[call-arg]
    ):
        run.set_result("x", extra=1)  # type: ignore[call-arg]
        run.set_result("x", extra=2)  # type: ignore[call-arg]
    assert stats.errors() == {"api.workflow.bad_call": 1, "api.set_result.bad_call": 2}
    messages = [r.getMessage() for r in caplog.records]
    assert any("workflow() was given an unexpected keyword argument 'metadta'" in m for m in messages)
    assert any("plain span instead" in m for m in messages)
    assert any("set_result() was given an unexpected keyword argument 'extra'" in m for m in messages)
    assert not any("internal error" in m for m in messages)


def test_a_keyword_that_is_no_identifier_is_not_named() -> None:
    """A keyword that could be data (a key pasted from a mapping) is described, never echoed."""
    from otel_agents.api._guard import misuse

    def fn(*, name: str = "n") -> None:
        return None

    secret = "sk-proj-" + "A1b2C3d4" * 4
    try:
        fn(**{secret: 1})  # type: ignore[arg-type]
    except TypeError as exc:
        what = misuse(fn, (), {secret: 1}, exc)
    assert what == "an unexpected keyword argument"


def test_a_type_error_inside_our_code_stays_an_internal_error(lenient: None) -> None:
    """A TypeError from inside a call whose arguments fit is counted as an internal error."""
    stats.reset()

    @never_raise("test.inner")
    def broken(value: int) -> None:
        raise TypeError("inner bug")

    broken(1)
    assert stats.errors() == {"test.inner": 1}
