"""otel_agents.metrics: counters, gauges, histograms, timers, rate limits and component errors over the OTel API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from otel_agents import metrics as om
from otel_agents.api import _semconv as semconv


def points(pipeline: Any, name: str) -> list[Any]:
    return list(pipeline.metric_points(name))


def by_labels(pipeline: Any, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    return {tuple(sorted(p.attributes.items())): p for p in points(pipeline, name)}


def test_counter_gauge_histogram(pipeline: Any) -> None:
    """The three instruments record under their names, units and labels."""
    closed = om.counter("business.tickets.closed", unit="{ticket}")
    closed.add(2, {"queue": "billing"})
    closed.add(3, {"queue": "billing"})
    closed.add(1, {"queue": "tech"})
    om.gauge("business.answer_quality").set(0.82, {"agent": "support"})
    scores = om.histogram("business.csat", buckets=(1, 2, 3, 4, 5))
    for score in (5, 4, 5, 2):
        scores.record(score)
    counts = {k: p.value for k, p in by_labels(pipeline, "business.tickets.closed").items()}
    assert counts == {(("queue", "billing"),): 5, (("queue", "tech"),): 1}
    [quality] = points(pipeline, "business.answer_quality")
    assert quality.value == 0.82 and dict(quality.attributes) == {"agent": "support"}
    [csat] = points(pipeline, "business.csat")
    assert csat.count == 4 and csat.sum == 16 and list(csat.explicit_bounds) == [1, 2, 3, 4, 5]


def test_timer_as_context_manager_and_decorators(pipeline: Any) -> None:
    """A timer records seconds; a raising block is recorded with its error.type; async works too."""
    with om.timer("report.build", labels={"kind": "daily"}):
        time.sleep(0.02)

    @om.timer("report.send")
    def send(fail: bool) -> str:
        if fail:
            raise TimeoutError("smtp")
        return "sent"

    @om.timer("report.fetch")
    async def fetch() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert send(False) == "sent"
    with pytest.raises(TimeoutError):
        send(True)
    assert asyncio.run(fetch()) == 7
    [built] = points(pipeline, "report.build")
    assert built.count == 1 and built.sum >= 0.02 and dict(built.attributes) == {"kind": "daily"}
    sent = by_labels(pipeline, "report.send")
    assert set(sent) == {(), ((semconv.ERROR_TYPE, "TimeoutError"),)}
    [fetched] = points(pipeline, "report.fetch")
    assert fetched.sum >= 0.01


def test_rate_limits_by_platform_and_type(pipeline: Any) -> None:
    """remaining, limit and reset time are gauges and hits a counter, by platform and limit type."""
    reset = time.time() + 60
    om.rate_limit("openai", "requests", remaining=12, limit=500, reset_at=reset)
    om.rate_limit("openai", "tokens", remaining=9000, limit=30000)
    om.rate_limit_hit("openai", "requests")
    om.rate_limit_hit("openai", "requests", 2)
    key = ((semconv.LABEL_RATE_LIMIT_PLATFORM, "openai"), (semconv.LABEL_RATE_LIMIT_TYPE, "requests"))
    tokens = ((semconv.LABEL_RATE_LIMIT_PLATFORM, "openai"), (semconv.LABEL_RATE_LIMIT_TYPE, "tokens"))
    remaining = by_labels(pipeline, semconv.METRIC_RATE_LIMIT_REMAINING)
    assert remaining[key].value == 12 and remaining[tokens].value == 9000
    assert by_labels(pipeline, semconv.METRIC_RATE_LIMIT_LIMIT)[key].value == 500
    assert by_labels(pipeline, semconv.METRIC_RATE_LIMIT_RESET_TIME)[key].value == pytest.approx(reset)
    assert tokens not in by_labels(pipeline, semconv.METRIC_RATE_LIMIT_RESET_TIME)
    assert by_labels(pipeline, semconv.METRIC_RATE_LIMIT_HITS)[key].value == 3


def test_errors_labelled_by_component(pipeline: Any) -> None:
    """error() counts by otel_agents.component and error.type, from an exception, a class or a string."""
    om.error("crm", TimeoutError("slow"))
    om.error("crm", TimeoutError)
    om.error("scheduler", "missed_run")
    om.error("scheduler")
    got = {k: p.value for k, p in by_labels(pipeline, semconv.METRIC_COMPONENT_ERRORS).items()}
    assert got == {
        ((semconv.ERROR_TYPE, "TimeoutError"), (semconv.LABEL_COMPONENT, "crm")): 2,
        ((semconv.ERROR_TYPE, "missed_run"), (semconv.LABEL_COMPONENT, "scheduler")): 1,
        ((semconv.LABEL_COMPONENT, "scheduler"),): 1,
    }


def test_bad_definitions_fail_loudly_and_recording_never_raises(pipeline: Any, lenient: None) -> None:
    """An empty name or unsorted buckets raise at definition; a bad value at record time is swallowed."""
    with pytest.raises(ValueError, match="metric name"):
        om.counter("")
    with pytest.raises(ValueError, match="buckets"):
        om.histogram("x", buckets=(3, 1))
    om.counter("business.weird").add("lots")  # type: ignore[arg-type]
    om.gauge("business.weird_gauge").set(object())  # type: ignore[arg-type]


def test_without_configure_the_helpers_are_no_ops() -> None:
    """Helpers work (as no-ops) in a library that never configured the SDK."""
    om.counter("business.nothing").add(1)
    om.rate_limit("x", "y", remaining=1)
    with om.timer("business.nothing.timed"):
        pass


def test_values_and_labels_the_metrics_api_cannot_take_are_left_out_and_counted(pipeline: Any) -> None:
    """A value that is no finite number (or a negative one for a counter or histogram), and a
    label that is not text, a bool or a finite number, are left out and counted as drops, not
    reported as internal errors; the valid values and labels of the same calls are recorded."""
    from otel_agents.api import _counters as stats

    stats.reset()
    bad_values = [-1, float("nan"), float("inf"), "5", None, True]
    labels = {"queue": "billing", "none": None, "list": [1], 3: "x", "huge": 10**30, "nan": float("nan")}
    closed = om.counter("business.hostile.closed")
    scores = om.histogram("business.hostile.score")
    depth = om.gauge("business.hostile.depth")
    for value in (*bad_values, 2):
        closed.add(value, labels)  # type: ignore[arg-type]
        scores.record(value, labels)  # type: ignore[arg-type]
    for value in (float("nan"), "deep", None, -4):
        depth.set(value, labels)  # type: ignore[arg-type]
    om.rate_limit("p", "t", remaining="lots")  # type: ignore[arg-type]
    om.rate_limit_hit("p", "t", n=-3)
    om.counter("business.hostile.big").add(10**30)
    [count] = points(pipeline, "business.hostile.closed")
    assert count.value == 2 and dict(count.attributes) == {"queue": "billing"}
    [score] = points(pipeline, "business.hostile.score")
    assert score.count == 1 and score.sum == 2
    [gauge] = points(pipeline, "business.hostile.depth")
    assert gauge.value == -4 and dict(gauge.attributes) == {"queue": "billing"}
    assert [p.value for p in points(pipeline, "business.hostile.big")] == [1e30]
    assert stats.errors() == {}
    drops = stats.drops()
    # Six bad values for each of the counter and histogram, three for the gauge, two rate-limit calls.
    assert drops["metrics.invalid_value"] == 6 + 6 + 3 + 2
    # Five bad labels on each of the three calls that were recorded.
    assert drops["metrics.invalid_label"] == 5 * 3
