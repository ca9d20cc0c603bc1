"""A plain script that configures otel-agents itself and runs one agent with a tool."""

from __future__ import annotations

import otel_agents as oa


def main() -> None:
    first = oa.configure()
    second = oa.configure()
    assert first is second
    with oa.run_context(run_id="script-run"), oa.agent("solo"), oa.tool("echo", arguments={"x": 1}) as t:
        t.set_result({"ok": True})
    print("configured-once", first.resource.attributes.get("service.name"), flush=True)


if __name__ == "__main__":
    main()
