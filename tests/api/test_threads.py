"""Our background threads never take SIGTERM or SIGINT, so the main thread's handlers run on time."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import pytest

import otel_agents as oa


def _blocked(native_id: int) -> int:
    for line in Path(f"/proc/self/task/{native_id}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigBlk line")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_pipeline_threads_block_the_process_signals(make_pipeline: Any) -> None:
    """Every thread configure() starts (ours and the SDK's metric reader) blocks SIGTERM and SIGINT."""
    before = {t.ident for t in threading.enumerate()}
    make_pipeline()
    with oa.agent("a"), oa.tool("t"):
        pass
    started = [t for t in threading.enumerate() if t.ident not in before and t.native_id is not None]
    assert started, "configure() started no thread to check"
    for thread in started:
        mask = _blocked(thread.native_id)  # type: ignore[arg-type]
        for sig in (signal.SIGTERM, signal.SIGINT):
            assert mask & (1 << (sig - 1)), (thread.name, sig)
    assert not _blocked(threading.main_thread().native_id) & (1 << (signal.SIGTERM - 1))  # type: ignore[arg-type]
