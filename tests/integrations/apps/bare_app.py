"""A FastAPI app with no otel-agents setup at all: only the launcher instruments it."""

from __future__ import annotations

from fastapi import FastAPI

import otel_agents as oa

app = FastAPI()


@app.get("/ping")
async def ping(request_id: str = "") -> dict[str, str]:
    with oa.run_context(request_id=request_id or None), oa.agent("pinger"), oa.tool("pong") as t:
        t.set_result("pong")
    return {"pong": request_id}
