"""An agent service on FastAPI: ``POST /run`` runs a routed agent workflow; ``GET /health``, ``GET /metrics``.

Run it:  uvicorn agent_service:app --app-dir examples --port 8000
or under the launcher:  opentelemetry-instrument uvicorn agent_service:app --app-dir examples

The interface is stable (other tests depend on it):

POST /run  {"question": str, "note": str?, "run_id": str?, "session_id": str?, "user_id": str?,
            "fail_tool": bool?}
  -> 200 {"run_id", "route", "answer", "trace_id", "request_id"}
  -> 502 {"error", "run_id", "trace_id", "request_id"} when ``fail_tool`` is true
``note`` is echoed into the tool span's ``app.tool.note`` attribute: send a secret-looking value
(``sk-...``) to see redaction at work. No network calls, no API keys: the LLM call is simulated.
"""

from __future__ import annotations

import logging
import os
import uuid

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel

import otel_agents as oa
from otel_agents.integrations.checks import database_check
from otel_agents.integrations.fastapi import setup_monitoring

log = logging.getLogger("agent_service")
log.setLevel(logging.INFO)

app = FastAPI(title="agent-service")
monitoring = setup_monitoring(app, service_name=os.environ.get("OTEL_SERVICE_NAME") or "agent-service")
monitoring.health.add("database", database_check("sqlite:///:memory:"), timeout=1.0)


@monitoring.health.check("workflow", timeout=1.0)
def workflow_ready() -> str:
    """The agents below need nothing external, so they are always ready."""
    return "agents loaded"


class RunRequest(BaseModel):
    """The body of ``POST /run``."""

    question: str
    note: str = ""
    run_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    fail_tool: bool = False


class ToolFailed(RuntimeError):
    """The simulated tool failure ``fail_tool`` asks for."""


def run_workflow(body: RunRequest, run_id: str) -> tuple[str, str]:
    """Route the question to an agent, which calls a (simulated) LLM and one tool."""
    with oa.workflow("support_run") as run:
        run.set_input({"question": body.question})
        with oa.agent("router"):
            target = "writer" if "write" in body.question.lower() else "researcher"
            oa.route(
                "router",
                target=target,
                candidates=["researcher", "writer"],
                reason="keyword match",
                confidence=0.9,
            )
        with oa.agent(target):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                call.record_usage(input_tokens=120 + len(body.question), output_tokens=42)
            with oa.tool("lookup_customer", arguments={"question": body.question, "note": body.note}) as t:
                t.set_attribute("app.tool.note", body.note)
                if body.fail_tool:
                    raise ToolFailed("lookup_customer failed on request")
                t.set_result({"hits": 3})
        answer = f"{target} answered: {body.question[:40]}"
        run.set_result({"answer": answer})
        log.info("run %s routed to %s", run_id, target)
        return target, answer


@app.post("/run")
async def run(body: RunRequest) -> JSONResponse:
    """Run the workflow under the caller's run context; the response names the trace."""
    run_id = body.run_id or uuid.uuid4().hex
    with oa.run_context(run_id=run_id, session_id=body.session_id, user_id=body.user_id) as ids:
        trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
        reply = {"run_id": run_id, "trace_id": trace_id, "request_id": ids.request_id}
        try:
            target, answer = run_workflow(body, run_id)
        except ToolFailed as exc:
            return JSONResponse({**reply, "error": str(exc)}, status_code=502)
    return JSONResponse({**reply, "route": target, "answer": answer})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
