"""One scope object shared by concurrent tasks, and async generator agents a consumer abandons."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

import otel_agents as oa


def test_one_agent_object_entered_by_concurrent_tasks(
    pipeline: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Each concurrent entry of one ``oa.agent()`` object gets its own span and context token."""
    shared = oa.agent("shared")

    async def task(i: int) -> None:
        async with shared:
            await asyncio.sleep(random.uniform(0, 0.02))
            with oa.tool(f"t{i}"):
                await asyncio.sleep(random.uniform(0, 0.02))

    async def main() -> None:
        await asyncio.gather(*(task(i) for i in range(20)))

    caplog.set_level(logging.ERROR, logger="opentelemetry.context")
    random.seed(7)
    asyncio.run(main())
    assert not [r for r in caplog.records if "Failed to detach context" in r.getMessage()]
    spans = pipeline.spans()
    agents = {s.context.span_id: s for s in spans if s.name == "invoke_agent shared"}
    tools = [s for s in spans if s.name.startswith("execute_tool t")]
    assert len(agents) == 20 and len(tools) == 20
    # Every tool sits under an agent span of its own.
    assert len({t.parent.span_id for t in tools}) == 20
    assert all(t.parent.span_id in agents for t in tools)


def test_an_abandoned_async_generator_agent_is_not_an_error(pipeline: Any) -> None:
    """A consumer cancelled mid-stream (a client gone) ends the agent span without an error status."""

    @oa.agent("streamer")
    async def stream() -> AsyncIterator[int]:
        for i in range(100):
            yield i
            await asyncio.sleep(0.01)

    async def consume() -> None:
        async for _ in stream():
            pass

    async def main() -> None:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    span = pipeline.span("invoke_agent streamer")
    assert span.status.status_code.name != "ERROR", span.status
    assert not [e for e in span.events if e.name == "exception"]
