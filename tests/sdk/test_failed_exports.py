"""A failed export frees its batch at once: no reference cycle keeps spans alive, RSS stays bounded."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_agents.api import _counters as stats
from otel_agents.sdk._batching import SpanExportQueue
from otel_agents.sdk._failed_exports import clear_frames, note, releasing
from otel_agents.sdk._options import Options
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_failed_otlp_export_frees_its_batch_without_the_garbage_collector(
    no_gc: None, protocol: str
) -> None:
    """With the collector down, the spans of a failed export are freed by refcount, not by a later GC."""
    from otel_agents.sdk._exporter_setup import otlp_exporter

    stats.reset()
    options = Options(
        otlp_endpoint=f"http://127.0.0.1:{_closed_port()}", export_timeout=0.3, otlp_protocol=protocol
    )
    queue = SpanExportQueue(otlp_exporter(options, "traces"), name="spans.t", schedule_delay=0.01)
    tracer = TracerProvider().get_tracer("t")
    refs = []
    for i in range(20):
        span = tracer.start_span(f"s{i}", attributes={"blob": "x" * 4096})
        span.end()
        refs.append(weakref.ref(span))
        queue.on_end(span)
        del span
    assert queue.force_flush(5000)
    assert stats.drops()["spans.t.export_failed"] == 20
    alive = sum(ref() is not None for ref in refs)
    assert alive == 0, f"{alive} of 20 spans still referenced after the failed export"
    queue.shutdown(2)


def test_only_finished_frames_are_cleared() -> None:
    """Clearing stops at the first running frame: the caller's own locals survive, the callee's go."""
    kept = "still mine"

    def fail() -> None:
        big = bytearray(10)  # noqa: F841 - the local a cleared frame must no longer hold
        raise OSError("refused")

    def call() -> OSError:
        try:
            fail()
        except OSError as exc:
            return exc
        raise AssertionError("unreachable")

    exc = call()
    tb = exc.__traceback__
    assert tb is not None and tb.tb_next is not None
    callee = tb.tb_next.tb_frame
    assert "big" in callee.f_locals
    clear_frames(exc)
    assert "big" not in callee.f_locals
    assert kept == "still mine"


def test_note_outside_an_export_keeps_nothing() -> None:
    """An exception noted on a thread that is not exporting is not held (metrics, user code)."""
    exc = OSError("x")
    before = sys.getrefcount(exc)
    note(exc)
    with releasing():
        pass
    assert sys.getrefcount(exc) == before


def test_span_metrics_are_recorded_once_many_wait() -> None:
    """Span metrics waiting for collection are recorded once ``drain_at`` of them wait."""
    from opentelemetry.sdk.metrics import MeterProvider

    metrics = SpanMetricsProcessor(MeterProvider().get_meter("m"), drain_at=3)
    metrics._pending.extend([((), 0, 0, None, (False, False))] * 2)  # type: ignore[list-item]
    drained: list[int] = []
    metrics.drain = lambda: drained.append(len(metrics._pending)) or 0  # type: ignore[method-assign]
    metrics.drain_if_many()
    assert drained == []
    metrics._pending.append(((), 0, 0, None, (False, False)))  # type: ignore[arg-type]
    metrics.drain_if_many()
    assert drained == [3]


def _collector_down(seconds: float) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_AGENTS_HOME"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"oa-rss-{os.getpid()}")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.reliability_bench",
            "--child",
            "collector_down",
            "--seconds",
            str(seconds),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_rss_stays_bounded_with_megabyte_values_and_the_collector_down() -> None:
    """15 s of 1 MB values at 1,000 spans/s to a refused port: RSS grows at most 48 MiB, at most
    20 MiB of it in the second half (the queues fill early; a leak keeps growing), every span counted."""
    result = _collector_down(15)
    growth, first = result["rss_growth_mib"], result["rss_growth_first_half_mib"]
    assert result["spans"] >= 2000, result
    assert growth <= 48, result
    assert growth - first <= 20, result
    assert result["dropped_counted"] >= result["spans"], result  # the warm-up span is counted too
    assert result["shutdown_s"] <= 6, result
