"""The alert rule file: parsing and validating YAML into frozen rules, one clear error per mistake."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

EXPR_TYPES: Final = ("error_rate", "latency", "cost_per_hour", "calls", "dropped", "metric")
OF_KINDS: Final = ("workflow", "agent", "tool", "model")
AGGREGATIONS: Final = ("last", "max", "min", "mean", "increase", "rate")
SEVERITIES: Final = ("info", "warning", "critical")
NOTIFIER_TYPES: Final = ("webhook", "slack", "python")
_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_DURATION_RE: Final = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RULE_KEYS: Final = frozenset(
    {"name", "expr", "threshold", "window", "for", "cooldown", "severity", "labels", "annotations", "notify"}
)
_EXPR_KEYS: Final = frozenset(
    {
        "type",
        "of",
        "name",
        "quantile",
        "service",
        "metric",
        "labels",
        "aggregation",
        "by",
        "prometheus",
        "reason",
    }
)
# A regex both Python and Prometheus (RE2) read alike: no look-arounds, back-references or flags.
_NOT_RE2: Final = re.compile(r"\(\?(?!:)|\\[1-9]")


# The Prometheus template subset both engines render in annotations (see docs/alerts.md).
LABEL_TEMPLATE: Final = re.compile(r"\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
VALUE_TEMPLATE: Final = re.compile(
    r"\{\{\s*\$value\s*(?:\|\s*(humanizePercentage|humanize|printf\s+\"([^\"]*)\")\s*)?\}\}"
)


class RuleError(ValueError):
    """A rule file that cannot be used: says which file, which rule and which field."""

    def __init__(self, path: str, rule: str | None, field_name: str | None, message: str) -> None:
        where = path
        if rule is not None:
            where += f": rule {rule!r}"
        if field_name is not None:
            where += f": field {field_name!r}"
        super().__init__(f"{where}: {message}")
        self.path, self.rule, self.field = path, rule, field_name


@dataclass(frozen=True)
class Expr:
    """What a rule measures: one of :data:`EXPR_TYPES` with its parameters."""

    type: str
    of: str | None = None
    name: str | None = None
    quantile: float = 0.95
    service: str | None = None
    metric: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    aggregation: str = "last"
    by: tuple[str, ...] = ()
    prometheus: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Threshold:
    """Fires above ``above``, below ``below``, or outside ``[low, high]``."""

    above: float | None = None
    below: float | None = None
    outside: tuple[float, float] | None = None

    def breached(self, value: float) -> bool:
        """True when ``value`` is on the alerting side."""
        if self.above is not None:
            return value > self.above
        if self.below is not None:
            return value < self.below
        assert self.outside is not None
        return value < self.outside[0] or value > self.outside[1]

    def describe(self) -> str:
        """``> 0.1``, ``< 5`` or ``outside [1, 2]``."""
        if self.above is not None:
            return f"> {self.above:g}"
        if self.below is not None:
            return f"< {self.below:g}"
        assert self.outside is not None
        return f"outside [{self.outside[0]:g}, {self.outside[1]:g}]"


@dataclass(frozen=True)
class NotifierSpec:
    """A notification target named in the file's ``notifiers`` section."""

    name: str
    type: str
    url: str | None = None
    target: str | None = None
    timeout: float = 5.0
    retries: int = 3
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One alert rule."""

    name: str
    expr: Expr
    threshold: Threshold
    window_s: float = 300.0
    for_s: float = 0.0
    cooldown_s: float = 0.0
    severity: str = "warning"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """Every rule and notifier of one file."""

    path: str
    rules: tuple[Rule, ...]
    notifiers: Mapping[str, NotifierSpec]


def parse_duration(text: object) -> float:
    """Seconds for ``500ms``, ``30s``, ``5m``, ``1h``, ``1d`` (or a bare number of seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool) and text >= 0:
        return float(text)
    if isinstance(text, str):
        m = _DURATION_RE.match(text.strip())
        if m:
            return float(m[1]) * _UNIT_S[m[2]]
    raise ValueError(f"expected a duration such as 30s, 5m or 1h, got {text!r}")


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rule file; :class:`RuleError` names the file, rule and field at fault."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise RuleError(
            str(path), None, None, "reading rule files needs PyYAML: pip install 'otel-agents[alerts]'"
        ) from None
    text_path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(text_path, None, None, f"cannot read the file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RuleError(text_path, None, None, f"not valid YAML{where}") from None
    return parse_rules(data, text_path)


def parse_rules(data: object, path: str = "<rules>") -> RuleSet:
    """Validate already-parsed YAML data (a mapping with ``rules`` and optional ``notifiers``)."""
    if not isinstance(data, dict):
        raise RuleError(path, None, None, "expected a mapping with a 'rules' list")
    unknown = sorted(set(data) - {"rules", "notifiers"})
    if unknown:
        raise RuleError(path, None, unknown[0], "unknown top-level key (expected rules, notifiers)")
    notifiers = _notifiers(data.get("notifiers") or {}, path)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleError(path, None, "rules", "expected a non-empty list of rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rule = _rule(raw, i, path, notifiers)
        if rule.name in seen:
            raise RuleError(path, rule.name, "name", "two rules have this name")
        seen.add(rule.name)
        rules.append(rule)
    return RuleSet(path, tuple(rules), notifiers)


def _rule(raw: object, index: int, path: str, notifiers: Mapping[str, NotifierSpec]) -> Rule:
    label = f"#{index + 1}"
    if not isinstance(raw, dict):
        raise RuleError(path, label, None, "expected a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise RuleError(path, label, "name", "expected a name of letters, digits and underscores")

    def fail(field_name: str, message: str) -> RuleError:
        return RuleError(path, name, field_name, message)

    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown field (expected one of {', '.join(sorted(_RULE_KEYS))})")
    expr = _expr(raw.get("expr"), fail)
    threshold = _threshold(raw.get("threshold"), fail)
    durations = {}
    for key, default in (("window", 300.0), ("for", 0.0), ("cooldown", 0.0)):
        try:
            durations[key] = parse_duration(raw[key]) if key in raw else default
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    if durations["window"] <= 0:
        raise fail("window", "must be longer than zero")
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise fail("severity", f"expected one of {', '.join(SEVERITIES)}")
    notify = raw.get("notify", [])
    if isinstance(notify, str):
        notify = [notify]
    if not isinstance(notify, list) or not all(isinstance(n, str) for n in notify):
        raise fail("notify", "expected a list of notifier names")
    for target in notify:
        if target not in notifiers:
            raise fail("notify", f"no notifier named {target!r} in the 'notifiers' section")
    return Rule(
        name=name,
        expr=expr,
        threshold=threshold,
        window_s=durations["window"],
        for_s=durations["for"],
        cooldown_s=durations["cooldown"],
        severity=severity,
        labels=_str_map(raw.get("labels"), "labels", fail, keys=_NAME_RE),
        annotations=_annotations(raw.get("annotations"), fail),
        notify=tuple(notify),
    )


def _expr(raw: object, fail: Any) -> Expr:
    if not isinstance(raw, dict):
        raise fail("expr", f"expected a mapping with a 'type' ({', '.join(EXPR_TYPES)})")
    unknown = sorted(set(raw) - _EXPR_KEYS)
    if unknown:
        raise fail(f"expr.{unknown[0]}", "unknown field")
    kind = raw.get("type")
    if kind not in EXPR_TYPES:
        raise fail("expr.type", f"expected one of {', '.join(EXPR_TYPES)}")
    of = raw.get("of")
    if kind in ("error_rate", "latency", "calls"):
        if of not in OF_KINDS:
            raise fail("expr.of", f"expected one of {', '.join(OF_KINDS)}")
    elif of is not None:
        raise fail("expr.of", f"not used by type {kind}")
    for key in ("name", "service", "metric", "prometheus", "reason"):
        if key in raw and not (isinstance(raw[key], str) and raw[key]):
            raise fail(f"expr.{key}", "expected a non-empty string")
    if "reason" in raw:
        if kind != "dropped":
            raise fail("expr.reason", "only a dropped expression takes a reason")
        _reason_pattern(raw["reason"], fail)
    quantile = raw.get("quantile", 0.95)
    if kind == "latency":
        if not isinstance(quantile, (int, float)) or isinstance(quantile, bool) or not 0 < quantile < 1:
            raise fail("expr.quantile", "expected a number between 0 and 1")
    elif "quantile" in raw:
        raise fail("expr.quantile", "only latency takes a quantile")
    aggregation = raw.get("aggregation", "last")
    if kind == "metric":
        if "metric" not in raw:
            raise fail("expr.metric", "a metric expression needs the metric's name")
        if aggregation not in AGGREGATIONS:
            raise fail("expr.aggregation", f"expected one of {', '.join(AGGREGATIONS)}")
    else:
        for key in ("metric", "aggregation", "labels", "by"):
            if key in raw:
                raise fail(f"expr.{key}", f"only a metric expression takes {key!r}")
    by = raw.get("by", [])
    if not isinstance(by, list) or not all(isinstance(b, str) and _LABEL_RE.match(b) for b in by):
        raise fail("expr.by", "expected a list of label names")
    return Expr(
        type=kind,
        of=of,
        name=raw.get("name"),
        quantile=float(quantile),
        service=raw.get("service"),
        metric=raw.get("metric"),
        labels=_str_map(raw.get("labels"), "expr.labels", fail, keys=_LABEL_RE),
        aggregation=aggregation,
        by=tuple(by),
        prometheus=raw.get("prometheus"),
        reason=raw.get("reason"),
    )


def _reason_pattern(pattern: str, fail: Any) -> None:
    """Refuse a ``reason`` regex that does not compile, or that Prometheus would read differently."""
    if _NOT_RE2.search(pattern):
        raise fail(
            "expr.reason",
            "look-arounds, back-references and inline flags are not in Prometheus' regex syntax",
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        raise fail("expr.reason", f"not a regular expression: {exc}") from None


def _number(value: object, field_name: str, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(field_name, f"expected a number, got {value!r}")
    return float(value)


def _threshold(raw: object, fail: Any) -> Threshold:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise fail("threshold", "expected exactly one of above: N, below: N, outside: [LOW, HIGH]")
    [(key, value)] = raw.items()
    if key == "above":
        return Threshold(above=_number(value, "threshold.above", fail))
    if key == "below":
        return Threshold(below=_number(value, "threshold.below", fail))
    if key == "outside":
        if not isinstance(value, list) or len(value) != 2:
            raise fail("threshold.outside", "expected [LOW, HIGH]")
        low, high = (_number(v, "threshold.outside", fail) for v in value)
        if low >= high:
            raise fail("threshold.outside", "LOW must be below HIGH")
        return Threshold(outside=(low, high))
    raise fail(f"threshold.{key}", "expected above, below or outside")


def _str_map(raw: object, field_name: str, fail: Any, *, keys: re.Pattern[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(field_name, "expected a mapping of names to strings")
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str) or not keys.match(k):
            raise fail(field_name, f"invalid name {k!r}")
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise fail(f"{field_name}.{k}", "expected a string")
        out[k] = str(v)
    return out


def _annotations(raw: object, fail: Any) -> dict[str, str]:
    """Annotations whose templates stay inside the subset both engines render (promtool rejects the rest)."""
    out = _str_map(raw, "annotations", fail, keys=_NAME_RE)
    for key, text in out.items():
        rest = VALUE_TEMPLATE.sub("", LABEL_TEMPLATE.sub("", text))
        if "{{" in rest or "}}" in rest:
            raise fail(
                f"annotations.{key}",
                "unsupported template: use {{ $labels.NAME }} or {{ $value }}"
                ' (optionally | humanize, | humanizePercentage or | printf "%.2f")',
            )
    return out


def _notifiers(raw: object, path: str) -> dict[str, NotifierSpec]:
    if not isinstance(raw, dict):
        raise RuleError(path, None, "notifiers", "expected a mapping of names to notifiers")
    out: dict[str, NotifierSpec] = {}
    for name, spec in raw.items():
        where = f"notifiers.{name}"
        if not isinstance(spec, dict):
            raise RuleError(path, None, where, "expected a mapping with a 'type'")
        kind = spec.get("type")
        if kind not in NOTIFIER_TYPES:
            raise RuleError(path, None, f"{where}.type", f"expected one of {', '.join(NOTIFIER_TYPES)}")
        url = spec.get("url")
        target = spec.get("callable")
        if kind in ("webhook", "slack") and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            raise RuleError(path, None, f"{where}.url", "expected an http:// or https:// URL")
        if kind == "python" and not (isinstance(target, str) and ":" in target):
            raise RuleError(path, None, f"{where}.callable", "expected 'package.module:function'")
        timeout = spec.get("timeout", 5.0)
        retries = spec.get("retries", 3)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise RuleError(path, None, f"{where}.timeout", "expected a positive number of seconds")
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
            raise RuleError(path, None, f"{where}.retries", "expected a whole number from 0 to 20")
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise RuleError(path, None, f"{where}.headers", "expected a mapping of strings")
        out[str(name)] = NotifierSpec(
            name=str(name),
            type=kind,
            url=url,
            target=target,
            timeout=float(timeout),
            retries=retries,
            headers=headers,
        )
    return out
