"""An agent app for the alerting and verify tests: its tool fails while the flag file exists.

ALERTING_APP_SLEEP_MS makes each tool call take that long (a slower version for verify).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import otel_agents as oa


class LookupFailed(RuntimeError):
    """The tool's backend is down."""


def main() -> int:
    flag = Path(os.environ.get("ALERTING_APP_FAIL_FLAG", "/nonexistent/otel-agents-flag"))
    pause = float(os.environ.get("ALERTING_APP_SLEEP_MS", "0")) / 1000
    telemetry = oa.configure(service_name="agent-alerts", metric_export_interval=1, schedule_delay=0.2)
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        failing = flag.exists()
        with contextlib.suppress(LookupFailed), oa.agent("planner"), oa.tool("lookup"):
            if pause:
                time.sleep(pause)
            if failing:
                raise LookupFailed("backend down")
        time.sleep(0.1)
    telemetry.shutdown(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
