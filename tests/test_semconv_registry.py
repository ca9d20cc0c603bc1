"""Our own keys are published in semconv/registry (Weaver's format) and stay in step with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import otel_agents as oa
from otel_agents.api import _semconv as semconv

REGISTRY = Path(__file__).parents[1] / "semconv" / "registry"
# Names in the semconv module that are not attribute keys or metric names.
NOT_KEYS = {
    "SCOPE_NAME",
    "FLASK_SCOPE_NAME",
    "EVENT_LOGGER",
    "ALERT_SCOPE",
    "ALERT_EVENT",
}  # scopes, an event name
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "double": (float, int),
    "boolean": (bool,),
    "string[]": (tuple, list),
}


def _registry() -> dict[str, Any]:
    return yaml.safe_load((REGISTRY / "otel_agents.yaml").read_text())  # type: ignore[no-any-return]


def _ours() -> tuple[set[str], set[str]]:
    """(attribute keys, metric names) the semconv module defines under otel_agents.*."""
    attributes, metrics = set(), set()
    for name, value in vars(semconv).items():
        if not name.isupper() or name in NOT_KEYS or not isinstance(value, str):
            continue
        if not value.startswith("otel_agents."):
            continue
        if name.startswith("METRIC_"):
            metrics.add(value)
        else:
            attributes.add(value.rstrip("."))  # a prefix is a template key
    return attributes, metrics


def test_every_key_in_the_code_is_in_the_registry_and_the_reverse() -> None:
    """Each otel_agents.* key and metric in api/_semconv.py is in the registry file, and nothing else is."""
    registry = _registry()
    assert registry["file_format"] == "definition/2"
    keys = {a["key"] for a in registry["attributes"]}
    names = {m["name"] for m in registry["metrics"]}
    attributes, metrics = _ours()
    assert keys == attributes, (sorted(attributes - keys), sorted(keys - attributes))
    assert names == metrics, (sorted(metrics - names), sorted(names - metrics))


def test_every_entry_has_type_brief_and_stability() -> None:
    """Attributes name a type, brief and stability; metrics an instrument, unit, brief and stability."""
    registry = _registry()
    keys = {a["key"] for a in registry["attributes"]}
    for attribute in registry["attributes"]:
        assert attribute["type"] and attribute["brief"].strip(), attribute
        assert attribute["stability"] in ("development", "stable"), attribute
    for metric in registry["metrics"]:
        assert metric["instrument"] in ("counter", "histogram", "updowncounter", "gauge"), metric
        assert metric["unit"] and metric["brief"].strip() and metric["stability"], metric
        for ref in metric.get("attributes", []):
            # Our keys must be defined here; the rest are upstream's.
            key = ref["ref"]
            assert key in keys or key.startswith(("gen_ai.", "error.")), key


def _declared(key: str, registry: dict[str, Any]) -> dict[str, Any] | None:
    for attribute in registry["attributes"]:
        if attribute["key"] == key or (
            str(attribute["type"]).startswith("template[") and key.startswith(attribute["key"] + ".")
        ):
            return attribute  # type: ignore[no-any-return]
    return None


@pytest.mark.parametrize("capture", [False, True])
def test_what_we_emit_matches_the_registry(make_pipeline: Any, capture: bool) -> None:
    """Every otel_agents.* attribute on the spans a full workload exports is registered, with its type."""
    pipeline = make_pipeline(capture_content=capture)
    with oa.run_context(run_id="r", session_id="s", request_id="q"), oa.workflow("w", description="d") as run:
        run.set_input({"q": 1})
        run.set_items(discovered=2, succeeded=1, failed=1)
        run.set_metrics({"m": 1})
        run.set_metadata(git_branch="main")
        with oa.agent("a"):
            oa.route("a", target="b", candidates=["b", "c"], reason="best", confidence=0.5)
            with oa.llm("gpt-4o") as call:
                call.record_usage(input_tokens=1, output_tokens=1)
                call.set_messages(input=[{"role": "user"}], output=[{"role": "assistant"}])
            with oa.llm("house-model") as call:
                call.record_usage(input_tokens=1, output_tokens=1)
            with oa.tool("t", arguments={"api_key": "sk-" + "x1" * 20}) as t:
                t.set_result("x" * 10_000)
            with oa.retrieval("kb", query="q") as r:
                r.set_documents([{"id": "d", "score": 1.0}])
        run.set_result("done")
    registry = _registry()
    seen = 0
    for span in pipeline.spans():
        for key, value in span.attributes.items():
            if not key.startswith("otel_agents."):
                continue
            declared = _declared(key, registry)
            assert declared is not None, key
            kind = declared["type"]
            if isinstance(kind, dict):  # an enum
                assert value in {m["value"] for m in kind["members"]}, (key, value)
            else:
                inner = kind[len("template[") : -1] if kind.startswith("template[") else kind
                assert isinstance(value, _TYPES[inner]), (key, value, kind)
            seen += 1
    assert seen > 20
