"""Makes OpenInference's LangChain spans the current OTel span while each langchain/langgraph step runs.

OpenInference's LangChain tracer parents its spans by run id and never attaches them to the OTel
context, so a span another library starts inside a tool or a node (an HTTP call, a SQL query, an
``oa.llm``) has the caller's context as parent: the tool's span and its agent name are lost, most
visibly for langgraph's ToolNode, whose tools run on a worker thread. langchain-core and langgraph
run every step's code in a copied ``contextvars`` context that their ``_set_config_context`` fills
(the copy is what crosses into the worker thread); we wrap that function so the copy also holds
the span of the step's run. Nothing is attached to the caller's own context.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import threading
from collections.abc import Callable
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace

from otel_agents.api._guard import contained

__all__ = ["propagate_context"]

# Modules whose ``_set_config_context`` runs inside the copied context of every step.
PATCHED_MODULES: Final = ("langchain_core.runnables.config", "langgraph._internal._runnable")
_MARK: Final = "__otel_agents_context__"
# The callback handler OpenInference's LangChain instrumentation adds to every callback manager.
TRACER_PACKAGE: Final = "openinference.instrumentation.langchain"
TRACER_CLASS: Final = "OpenInferenceTracer"
_lock = threading.Lock()


def _is_tracer(handler: object) -> bool:
    # By name: importing OpenInference here would make it a dependency of the package.
    kind = type(handler)
    return kind.__name__ == TRACER_CLASS and kind.__module__.startswith(TRACER_PACKAGE)


def _run_span(config: Any) -> Any:
    """The OpenInference span of the run whose children ``config`` configures, or None."""
    callbacks = config.get("callbacks") if isinstance(config, dict) else None
    run_id = getattr(callbacks, "parent_run_id", None)
    if run_id is None:
        return None
    for handler in getattr(callbacks, "handlers", ()):
        if _is_tracer(handler):
            return handler.get_span(run_id)
    return None


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def set_config_context(config: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(config, *args, **kwargs)
        try:
            span = _run_span(config)
            if span is not None:
                # In the step's copied context, discarded with it: no detach needed.
                otel_context.attach(trace.set_span_in_context(span))
        except Exception as exc:
            if not contained("integrations.langchain.context", exc):
                raise
        return result

    setattr(set_config_context, _MARK, original)
    return set_config_context


def propagate_context() -> bool:
    """Make each langchain/langgraph step's OpenInference span current while the step runs (once per
    process); False, doing nothing, when langchain-core or openinference-instrumentation-langchain
    is not installed. ``opentelemetry-instrument`` calls it after loading the instrumentations."""
    if importlib.util.find_spec(TRACER_PACKAGE.split(".", 1)[0]) is None:
        return False
    try:
        importlib.import_module(TRACER_PACKAGE)
    except ImportError:
        return False
    patched = False
    with _lock:
        for name in PATCHED_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            original = getattr(module, "_set_config_context", None)
            if original is None or not callable(original):
                continue
            if not hasattr(original, _MARK):
                module._set_config_context = _wrap(original)  # type: ignore[attr-defined]
            patched = True
    return patched
