"""The Flask twin of ``agent_service.py``: the same ``POST /run`` workflow, ``GET /health``, ``GET /metrics``.

Run it:  flask --app examples/flask_service.py run --port 8000
or:  gunicorn --chdir examples -w 2 -b 127.0.0.1:8000 flask_service:app
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from opentelemetry import trace

import otel_agents as oa
from otel_agents.integrations.checks import database_check
from otel_agents.integrations.flask import setup_monitoring

log = logging.getLogger("flask_service")
log.setLevel(logging.INFO)

app = Flask("flask_service")
monitoring = setup_monitoring(app, service_name=os.environ.get("OTEL_SERVICE_NAME") or "flask-service")
monitoring.health.add("database", database_check("sqlite:///:memory:"), timeout=1.0)


@monitoring.health.check("workflow", timeout=1.0)
def workflow_ready() -> str:
    """The agents below need nothing external, so they are always ready."""
    return "agents loaded"


class ToolFailed(RuntimeError):
    """The simulated tool failure ``fail_tool`` asks for."""


def run_workflow(body: dict[str, Any], run_id: str) -> tuple[str, str]:
    """Route the question to an agent, which calls a (simulated) LLM and one tool."""
    question, note = str(body.get("question", "")), str(body.get("note", ""))
    with oa.workflow("support_run") as run:
        run.set_input({"question": question})
        with oa.agent("router"):
            target = "writer" if "write" in question.lower() else "researcher"
            oa.route(
                "router",
                target=target,
                candidates=["researcher", "writer"],
                reason="keyword match",
                confidence=0.9,
            )
        with oa.agent(target):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                call.record_usage(input_tokens=120 + len(question), output_tokens=42)
            with oa.tool("lookup_customer", arguments={"question": question, "note": note}) as t:
                t.set_attribute("app.tool.note", note)
                if body.get("fail_tool"):
                    raise ToolFailed("lookup_customer failed on request")
                t.set_result({"hits": 3})
        answer = f"{target} answered: {question[:40]}"
        run.set_result({"answer": answer})
        log.info("run %s routed to %s", run_id, target)
        return target, answer


@app.post("/run")
def run() -> ResponseReturnValue:
    """Run the workflow under the caller's run context; the response names the trace."""
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict) or not isinstance(body.get("question"), str):
        return jsonify({"error": "question (a string) is required"}), 422
    run_id = str(body.get("run_id") or uuid.uuid4().hex)
    with oa.run_context(run_id=run_id, session_id=body.get("session_id"), user_id=body.get("user_id")) as ids:
        trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
        reply = {"run_id": run_id, "trace_id": trace_id, "request_id": ids.request_id}
        try:
            target, answer = run_workflow(body, run_id)
        except ToolFailed as exc:
            return jsonify({**reply, "error": str(exc)}), 502
    return jsonify({**reply, "route": target, "answer": answer})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
