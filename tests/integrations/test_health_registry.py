"""The health registry in-process: outcomes, timeouts and hostile checks, sync and async paths."""

from __future__ import annotations

import asyncio
import threading

import pytest

from otel_agents.integrations.health import FAIL, PASS, HealthRegistry, describe


def _by_name(registry: HealthRegistry, use_async: bool) -> dict[str, tuple[str, str]]:
    report = asyncio.run(registry.run_async()) if use_async else registry.run()
    return {c.name: (c.status, c.message) for c in report.checks}


@pytest.mark.parametrize("use_async", [False, True])
def test_outcomes_map_to_pass_and_fail(use_async: bool) -> None:
    """None, True and a message pass; False and an exception fail with the exception type named."""
    health = HealthRegistry()
    health.add("none", lambda: None)
    health.add("true", lambda: True)
    health.add("message", lambda: "ready")
    health.add("false", lambda: False)

    @health.check()
    def broken() -> None:
        raise OSError("disk gone")

    @health.check("async_ok")
    async def async_ok() -> str:
        return "async ready"

    results = _by_name(health, use_async)
    assert results["none"] == (PASS, "")
    assert results["true"] == (PASS, "")
    assert results["message"] == (PASS, "ready")
    assert results["async_ok"] == (PASS, "async ready")
    assert results["false"][0] == FAIL
    assert results["broken"] == (FAIL, "OSError: disk gone")


@pytest.mark.parametrize("use_async", [False, True])
def test_a_hanging_check_times_out_without_blocking_the_others(use_async: bool) -> None:
    """A check that never returns is reported as timed out after its own timeout while others still pass."""
    release = threading.Event()
    health = HealthRegistry()
    health.add("stuck", release.wait, timeout=0.2)
    health.add("fine", lambda: "ok", timeout=0.2)
    try:
        results = _by_name(health, use_async)
    finally:
        release.set()
    assert results["stuck"][0] == FAIL and "timed out" in results["stuck"][1]
    assert results["fine"] == (PASS, "ok")


def test_exception_messages_hide_url_credentials_and_survive_broken_str() -> None:
    """describe() strips user:password@ from URLs and falls back to the type when __str__ raises."""

    class Hostile(Exception):
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert "s3cr3t" not in describe(ConnectionError("redis://user:s3cr3t@cache:6379 refused"))
    assert describe(Hostile()) == "Hostile"
    assert len(describe(ValueError("x" * 10_000))) <= 200


def test_bad_registrations_raise_clearly() -> None:
    """Registering a non-callable or a non-positive timeout raises at registration, not at probe time."""
    health = HealthRegistry()
    with pytest.raises(TypeError):
        health.add("nope", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        health.add("zero", lambda: None, timeout=0)


def test_no_checks_is_healthy() -> None:
    """An empty registry reports healthy with status code 200."""
    report = HealthRegistry().run()
    assert report.healthy and report.status_code == 200 and report.body() == b'{"status":"pass","checks":[]}'


@pytest.mark.parametrize("use_async", [False, True])
def test_secrets_in_check_messages_are_redacted_before_health_shows_them(use_async: bool) -> None:
    """/health answers anyone who reaches it: an API key, a bearer token or a password in an
    exception or a returned message is redacted, and a long message is cut without half a key."""
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
    registry = HealthRegistry()

    def raises() -> None:
        raise ConnectionError(f"upstream refused key {key} (Authorization: Bearer abcdefghijklmnop)")

    registry.add("raises", raises)
    registry.add("returns", lambda: (False, f"db said: password=hunter2 for {key}"))
    registry.add("long", lambda: (False, "x " * 95 + key))
    checks = _by_name(registry, use_async)
    for name in ("raises", "returns", "long"):
        status, message = checks[name]
        assert status == FAIL
        for secret in (key, key[:12], "abcdefghijklmnop", "hunter2"):
            assert secret not in message, (name, message)
        assert len(message) <= 200
    assert "REDACTED" in checks["raises"][1] and "REDACTED" in checks["returns"][1]
