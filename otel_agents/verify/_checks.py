"""Verification checks and their reports: the comparison with a baseline, a table, JSON and JUnit XML."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree as ET

from otel_agents.verify._sources import Figures

PASS: Final = "pass"  # noqa: S105 - a check status
FAIL: Final = "fail"
INFO: Final = "info"
DEFAULT_RATIO: Final = 1.2
# An error rate may rise by this much absolute before the ratio matters (0 -> 0.4% is noise).
ERROR_RATE_SLACK: Final = 0.01


def _ms(v: float) -> str:
    return f"{v * 1000:.1f}ms"


def _percent(v: float) -> str:
    return f"{v * 100:.2f}%"


def _usd(v: float) -> str:
    return f"${v:.6f}"


_LABELS: Final[dict[str, tuple[str, Callable[[float], str]]]] = {
    "p95_latency_s": ("p95 latency", _ms),
    "error_rate": ("error rate", _percent),
    "cost_per_run_usd": ("cost per run", _usd),
}


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    target: str
    status: str
    value: str = ""
    baseline: str = ""
    limit: str = ""
    detail: str = ""

    @property
    def failed(self) -> bool:
        """True when this check fails the verification."""
        return self.status == FAIL

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def compare(
    current: Figures, baseline: Figures | None, ratio: float, target: str, against: str
) -> list[Check]:
    """p95 latency, error rate and cost per run of ``current`` against ``baseline`` x ``ratio``."""
    if current.runs <= 0:
        return [Check("performance", target, FAIL, detail="no runs in the window: nothing to judge")]
    checks = [Check("runs", target, INFO, value=f"{current.runs:g}")]
    if baseline is not None and baseline.runs <= 0:
        return [*checks, Check("performance", against, FAIL, detail="the baseline has no runs in the window")]
    for key, (label, fmt) in _LABELS.items():
        value = getattr(current, key)
        base = getattr(baseline, key) if baseline is not None else None
        if value is None:
            checks.append(Check(label, target, FAIL, detail="no data"))
            continue
        if base is None:
            checks.append(Check(label, target, INFO, value=fmt(value), detail="no baseline"))
            continue
        limit = base * ratio
        if key == "error_rate":
            limit = max(limit, base + ERROR_RATE_SLACK)
        ok = value <= limit
        detail = f"{value / base:.2f}x the baseline" if base > 0 else ""
        checks.append(
            Check(label, target, PASS if ok else FAIL, fmt(value), fmt(base), f"<= {fmt(limit)}", detail)
        )
    return checks


def table_rows(checks: Sequence[Check]) -> list[list[str]]:
    """Rows for the CLI table."""
    return [
        [c.name, c.target, c.status.upper(), c.value or "-", c.baseline or "-", c.limit or "-", c.detail]
        for c in checks
    ]


def write_junit(checks: Sequence[Check], path: Path) -> None:
    """A JUnit XML report: one test case per check, failures with their detail."""
    failures = sum(1 for c in checks if c.failed)
    suite = ET.Element(
        "testsuite", name="otel-agents verify", tests=str(len(checks)), failures=str(failures), errors="0"
    )
    for c in checks:
        case = ET.SubElement(suite, "testcase", classname=f"verify.{c.target}", name=c.name)
        text = ", ".join(
            part
            for part in (
                f"value {c.value}" if c.value else "",
                f"baseline {c.baseline}" if c.baseline else "",
                f"limit {c.limit}" if c.limit else "",
                c.detail,
            )
            if part
        )
        if c.failed:
            failure = ET.SubElement(case, "failure", message=text or c.name)
            failure.text = text
        elif text:
            ET.SubElement(case, "system-out").text = text
    suites = ET.Element("testsuites")
    suites.append(suite)
    path.write_bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True))
