"""The same rules as Prometheus alerting rules, over the metric names the collector's exporter writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from otel_agents.alerts._evaluate import SERVICE_LABEL, label_name
from otel_agents.alerts._rules import Expr, Rule, RuleSet
from otel_agents.api import _semconv as semconv

# The collector's prometheus exporter: dots become underscores, counters get _total, units suffixes.
CALLS: Final = label_name(semconv.METRIC_CALLS) + "_total"
ERRORS: Final = label_name(semconv.METRIC_ERRORS) + "_total"
COST: Final = label_name(semconv.METRIC_COST) + "_USD_total"
DROPPED: Final = label_name(semconv.METRIC_DROPPED) + "_total"
OPERATION: Final = label_name(semconv.GEN_AI_OPERATION_NAME)
REASON: Final = label_name(semconv.LABEL_REASON)
JOB: Final = "job"
_DURATION: Final = {
    "workflow": label_name(semconv.METRIC_WORKFLOW_DURATION) + "_seconds_bucket",
    "agent": label_name(semconv.METRIC_AGENT_DURATION) + "_seconds_bucket",
    "tool": label_name(semconv.METRIC_TOOL_DURATION) + "_seconds_bucket",
    "model": label_name(semconv.METRIC_CLIENT_OPERATION_DURATION) + "_seconds_bucket",
}
_OPERATION: Final = {
    "workflow": semconv.OP_INVOKE_WORKFLOW,
    "agent": semconv.OP_INVOKE_AGENT,
    "tool": semconv.OP_EXECUTE_TOOL,
}
_NAME_LABEL: Final = {
    "workflow": label_name(semconv.GEN_AI_WORKFLOW_NAME),
    "agent": label_name(semconv.GEN_AI_AGENT_NAME),
    "tool": label_name(semconv.GEN_AI_TOOL_NAME),
    "model": label_name(semconv.GEN_AI_REQUEST_MODEL),
}


def duration(seconds: float) -> str:
    """A Prometheus duration: ``1h``, ``5m``, ``30s`` or ``500ms``."""
    ms = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _selector(matchers: list[str]) -> str:
    return "{" + ", ".join(matchers) + "}" if matchers else ""


def _span_matchers(expr: Expr, *, with_operation: bool = True) -> list[str]:
    assert expr.of is not None
    matchers = []
    if with_operation:
        if expr.of == "model":
            ops = "|".join(_OPERATION.values())
            matchers.append(f'{OPERATION}!~"{ops}"')
        else:
            matchers.append(f"{OPERATION}={_quote(_OPERATION[expr.of])}")
    if expr.name is not None:
        matchers.append(f"{_NAME_LABEL[expr.of]}={_quote(expr.name)}")
    return matchers


def _service(expr: Expr) -> list[str]:
    # job is service.namespace/service.name, or service.name alone.
    return [f'{JOB}=~"(.+/)?{_escape_regex(expr.service)}"'] if expr.service is not None else []


def _escape_regex(text: str) -> str:
    special = set(".^$*+?()[]{}|\\")
    return "".join("\\\\" + c if c in special else c for c in text)


def _with_service(promql: str) -> str:
    """Give the result a ``service`` label, as the local engine's, taken from ``job``."""
    return f'label_replace({promql}, "{SERVICE_LABEL}", "$1", "{JOB}", "(?:.+/)?(.+)")'


def expression(expr: Expr, window_s: float) -> str:
    """The PromQL for an expression (before its threshold)."""
    w = duration(window_s)
    if expr.type in ("error_rate", "calls", "latency"):
        assert expr.of is not None
        name_label = _NAME_LABEL[expr.of]
        by = f"{JOB}, {name_label}"
        if expr.type == "latency":
            # The duration histograms carry the operation only for LLM calls' shared metric.
            matchers = _span_matchers(expr, with_operation=expr.of == "model") + _service(expr)
            sel = _selector(matchers)
            inner = f"sum by ({by}, le) (rate({_DURATION[expr.of]}{sel}[{w}]))"
            return _with_service(f"histogram_quantile({expr.quantile:g}, {inner})")
        sel = _selector(_span_matchers(expr) + _service(expr))
        if expr.type == "calls":
            return _with_service(f"sum by ({by}) (increase({CALLS}{sel}[{w}]))")
        return _with_service(
            f"(sum by ({by}) (rate({ERRORS}{sel}[{w}])) / sum by ({by}) (rate({CALLS}{sel}[{w}])))"
        )
    if expr.type == "cost_per_hour":
        sel = _selector(_service(expr))
        return _with_service(f"sum by ({JOB}) (rate({COST}{sel}[{w}])) * 3600")
    if expr.type == "dropped":
        reason = [f"{REASON}=~{_quote(expr.reason)}"] if expr.reason is not None else []
        sel = _selector(_service(expr) + reason)
        return _with_service(f"sum by ({JOB}, {REASON}) (increase({DROPPED}{sel}[{w}]))")
    return _metric(expr, w)


def _metric(expr: Expr, w: str) -> str:
    assert expr.metric is not None
    name = expr.prometheus or label_name(expr.metric)
    if expr.aggregation in ("increase", "rate") and expr.prometheus is None and not name.endswith("_total"):
        name += "_total"
    matchers = [f"{label_name(k)}={_quote(v)}" for k, v in expr.labels.items()] + _service(expr)
    sel = _selector(matchers)
    by_labels = [JOB if b == SERVICE_LABEL else label_name(b) for b in expr.by]
    by = f" by ({', '.join(by_labels)})" if by_labels else ""
    inner = {
        "last": f"sum{by} ({name}{sel})",
        "max": f"max{by} (max_over_time({name}{sel}[{w}]))",
        "min": f"min{by} (min_over_time({name}{sel}[{w}]))",
        "mean": f"avg{by} (avg_over_time({name}{sel}[{w}]))",
        "increase": f"sum{by} (increase({name}{sel}[{w}]))",
        "rate": f"sum{by} (rate({name}{sel}[{w}]))",
    }[expr.aggregation]
    return _with_service(inner) if SERVICE_LABEL in expr.by else inner


def alerting_rule(rule: Rule) -> dict[str, Any]:
    """One Prometheus alerting rule (cooldown and notify belong to Alertmanager's routing)."""
    e = expression(rule.expr, rule.window_s)
    t = rule.threshold
    if t.above is not None:
        promql = f"{e} > {t.above:g}"
    elif t.below is not None:
        promql = f"{e} < {t.below:g}"
    else:
        assert t.outside is not None
        promql = f"{e} < {t.outside[0]:g} or {e} > {t.outside[1]:g}"
    out: dict[str, Any] = {"alert": rule.name, "expr": promql}
    if rule.for_s:
        out["for"] = duration(rule.for_s)
    out["labels"] = {**rule.labels, "severity": rule.severity}
    if rule.annotations:
        out["annotations"] = dict(rule.annotations)
    return out


def to_prometheus(rules: RuleSet, group: str = "otel-agents") -> str:
    """A Prometheus rule file (YAML) with every rule in one group."""
    import yaml

    doc = {"groups": [{"name": group, "rules": [alerting_rule(r) for r in rules.rules]}]}
    source = Path(rules.path).name
    header = f"# Generated by `otel-agents alerts export --prometheus` from {source}; do not edit.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, width=1000, allow_unicode=True)
