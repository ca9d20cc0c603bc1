"""`otel-agents metrics`: lists any stored metric and summarises one over a window, filtered by labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli

from otel_agents import metrics as om


@pytest.fixture
def metric_home(tmp_path: Path, make_pipeline: Any) -> Path:
    """A store with a gauge, a histogram and a counter recorded through otel_agents.metrics, one collection each."""
    home = tmp_path / "store"
    captured = make_pipeline(exporter="store", home=home, service_name="bot", system_metrics=True)
    quality = om.gauge("business.answer_quality")
    csat = om.histogram("business.csat", buckets=(1, 2, 3, 4, 5))
    tickets = om.counter("business.tickets", unit="{ticket}")
    om.rate_limit("openai", "requests", remaining=40, limit=500)
    for value, score in ((0.5, 3), (0.9, 4), (0.7, 5)):
        quality.set(value, {"agent": "a"})
        quality.set(value / 10, {"agent": "b"})
        csat.record(score)
        tickets.add(2)
        assert captured.telemetry.force_flush(10)
    return home


def summary(home: Path, *args: str) -> list[dict[str, Any]]:
    result = run_cli("metrics", *args, "--json", home=home)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_lists_every_metric(metric_home: Path) -> None:
    """Without a name: each metric with its type, unit, series and points."""
    result = run_cli("metrics", home=metric_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:3] == ["NAME", "TYPE", "UNIT"]
    rows = {r["name"]: r for r in json.loads(run_cli("metrics", "--json", home=metric_home).stdout)}
    assert (
        rows["business.answer_quality"]["series"] == 2 and rows["business.answer_quality"]["type"] == "gauge"
    )
    assert rows["business.tickets"]["unit"] == "{ticket}" and rows["business.csat"]["type"] == "histogram"
    assert rows["business.tickets"]["services"] == ["bot"]


def test_gauge_statistics_filtered_and_grouped(metric_home: Path) -> None:
    """A gauge's values summarised exactly; --label keeps one series, --by splits them."""
    [a] = summary(metric_home, "business.answer_quality", "--label", "agent=a")
    assert a["count"] == 3 and a["min"] == 0.5 and a["max"] == 0.9
    assert (
        a["sum"] == pytest.approx(2.1) and a["mean"] == pytest.approx(0.7) and a["p50"] == pytest.approx(0.7)
    )
    assert a["p95"] == pytest.approx(0.88) and a["stddev"] == pytest.approx(0.163299, abs=1e-6)
    groups = summary(metric_home, "business.answer_quality", "--by", "agent")
    assert [(g["labels"], g["count"]) for g in groups] == [({"agent": "a"}, 3), ({"agent": "b"}, 3)]
    assert groups[1]["max"] == pytest.approx(0.09)


def test_histogram_and_counter_statistics(metric_home: Path) -> None:
    """A histogram's merged increments (exact count, sum, mean; bucket percentiles); a counter's increases."""
    [csat] = summary(metric_home, "business.csat")
    assert (csat["count"], csat["sum"], csat["mean"], csat["min"], csat["max"]) == (3, 12, 4, 3, 5)
    assert csat["p50"] == pytest.approx(3.5) and 4 < csat["p95"] <= 5
    [tickets] = summary(metric_home, "business.tickets")
    assert (
        tickets["type"] == "counter" and tickets["sum"] == 6 and tickets["count"] == 3 and tickets["max"] == 2
    )


def test_histogram_percentiles_stay_within_min_and_max(tmp_path: Path, make_pipeline: Any) -> None:
    """Values at the bottom of a wide bucket give a p50 and p95 between the min and the max."""
    home = tmp_path / "store"
    captured = make_pipeline(exporter="store", home=home, service_name="bot")
    tokens = om.histogram("business.tokens", buckets=(100, 1000, 10_000))
    for value in (1100, 1120, 1150, 1159, 150):
        tokens.record(value)
    assert captured.telemetry.force_flush(10)
    [row] = summary(home, "business.tokens")
    assert (row["min"], row["max"], row["count"]) == (150, 1159, 5)
    assert 1000 <= row["p50"] <= row["p95"] <= 1159, row
    assert row["stddev"] is not None and row["stddev"] < 1159


def test_window_and_errors(metric_home: Path) -> None:
    """A window before the points is empty; an unknown metric and a bad label are one-line errors."""
    assert summary(metric_home, "business.csat", "--since", "2d", "--until", "1d") == []
    unknown = run_cli("metrics", "business.nope", home=metric_home)
    assert unknown.returncode == 1 and "no metric named 'business.nope'" in unknown.stderr
    bad = run_cli("metrics", "business.csat", "--label", "agent", home=metric_home)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_the_documented_commands_run(metric_home: Path) -> None:
    """Each `otel-agents metrics` line in docs/metrics.md runs against a store and exits 0."""
    import shlex

    text = (Path(__file__).resolve().parents[2] / "docs/metrics.md").read_text()
    lines = [
        line.split("#")[0].strip() for line in text.splitlines() if line.startswith("otel-agents metrics")
    ]
    assert len(lines) == 4
    for line in lines:
        result = run_cli(*shlex.split(line)[1:], home=metric_home)
        assert result.returncode == 0, (line, result.stderr)
