"""The issue's quickstart: a small multi-agent workflow through the public API, printed to the console."""

from __future__ import annotations

import otel_agents as oa


def main() -> None:
    telemetry = oa.configure(service_name="lead-sync", exporter="console")
    with oa.run_context(run_id="r-42", session_id="s-1", user_id="u-7"), oa.workflow("lead_sync"):
        with oa.agent("planner"):
            oa.route(
                "planner",
                target="researcher",
                candidates=["researcher", "writer"],
                reason="needs facts",
                confidence=0.82,
            )
        with oa.agent("researcher"):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                call.record_usage(input_tokens=812, output_tokens=64)
            with oa.tool("web_search", arguments={"q": "acme"}) as t:
                t.set_result({"hits": 3})
    telemetry.shutdown()


if __name__ == "__main__":
    main()
