"""Health checks fail closed: ``(False, message)`` fails with its message, odd return values fail."""

from __future__ import annotations

import asyncio

import pytest

from otel_agents.integrations.health import FAIL, PASS, HealthRegistry


@pytest.mark.parametrize("use_async", [False, True])
def test_ok_message_pairs_decide_and_show_their_message(use_async: bool) -> None:
    """``(False, "Redis unreachable")`` fails showing the message; ``(True, msg)`` passes; a dict fails."""
    health = HealthRegistry()
    health.add("redis", lambda: (False, "Redis unreachable"))
    health.add("queue", lambda: (True, "3 consumers"))
    health.add("odd", lambda: {"ok": True})

    @health.check("async_redis")
    async def async_redis() -> tuple[bool, str]:
        return False, "Redis unreachable"

    report = asyncio.run(health.run_async()) if use_async else health.run()
    results = {c.name: (c.status, c.message) for c in report.checks}
    assert results["redis"] == (FAIL, "Redis unreachable")
    assert results["async_redis"] == (FAIL, "Redis unreachable")
    assert results["queue"] == (PASS, "3 consumers")
    assert results["odd"][0] == FAIL
    assert report.status_code == 503
