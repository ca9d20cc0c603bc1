"""Every thread that importing and configuring otel-agents starts, the SDK's included, leaves SIGTERM to the main thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Records, for each thread started from the first import to the first span, whether SIGTERM was
# blocked in the starting thread (a new thread inherits that mask).
SCRIPT = """
import json, signal, threading
original = threading.Thread.start
open_starts = []
def start(self, *args):
    if signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, []):
        open_starts.append(self.name)
    original(self, *args)
threading.Thread.start = start
import otel_agents as oa
oa.configure(service_name="masks")
with oa.tool("step"):
    pass
print(json.dumps(open_starts))
"""


def test_no_thread_started_by_import_or_configure_can_take_sigterm(tmp_path: Path) -> None:
    """The SDK's resource-detector pool, started when its logs module is imported, is no exception:
    a SIGTERM it took would leave a plain script's main thread asleep."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, "OTEL_AGENTS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
