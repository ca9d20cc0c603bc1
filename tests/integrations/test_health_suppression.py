"""Calls made inside health checks are probes: instrumented clients do not trace them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from opentelemetry.instrumentation.requests import RequestsInstrumentor

from otel_agents.integrations.health import HealthRegistry


@pytest.fixture
def instrumented_requests(pipeline: Any) -> Iterator[Any]:
    RequestsInstrumentor().instrument(tracer_provider=pipeline.telemetry.tracer_provider)
    yield pipeline
    RequestsInstrumentor().uninstrument()


def test_http_calls_inside_checks_are_not_traced(instrumented_requests: Any, upstream_http: str) -> None:
    """A requests call made by a sync or async check yields no span, while the same call outside a check does."""
    health = HealthRegistry()

    @health.check("sync_probe")
    def sync_probe() -> None:
        requests.get(upstream_http, timeout=5).raise_for_status()

    @health.check("async_probe")
    async def async_probe() -> None:
        await asyncio.to_thread(lambda: requests.get(upstream_http, timeout=5).raise_for_status())

    assert health.run().healthy
    assert asyncio.run(health.run_async()).healthy
    assert instrumented_requests.spans() == []
    requests.get(upstream_http, timeout=5)
    assert [s.name for s in instrumented_requests.spans()] == ["GET"]
