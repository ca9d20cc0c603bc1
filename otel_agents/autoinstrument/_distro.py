"""``opentelemetry-instrument`` entry points: the otel-agents distro, configurator and a start-up check."""

from __future__ import annotations

import logging
import os
from typing import Any, Final

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_CONFIGURATOR,
    OTEL_PYTHON_DISTRO,
)
from opentelemetry.util._importlib_metadata import EntryPoint

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._switches import parse_capture
from otel_agents.integrations._setup import env_excluded_urls, excluded_url_patterns
from otel_agents.sdk import _content_switches

_log = logging.getLogger("otel_agents")

ENTRY_POINT_NAME: Final = "otel_agents"
PROMETHEUS_ENV: Final = "OTEL_AGENTS_PROMETHEUS"
MONITORING_PATHS: Final = ("/health", "/metrics")
_FALSE: Final = frozenset({"0", "false", "no", "off"})
# Distributions that instrument one provider's client: two of one provider make every call two spans.
PROVIDER_OF_DIST: Final = {
    "opentelemetry-instrumentation-openai-v2": "openai",
    "opentelemetry-instrumentation-openai": "openai",
    "openinference-instrumentation-openai": "openai",
    "opentelemetry-instrumentation-anthropic": "anthropic",
    "openinference-instrumentation-anthropic": "anthropic",
}
# Client libraries that emit their own spans from this major version on (no instrumentor needed).
NATIVE_SPANS: Final = {"anthropic": 2}
_loaded: list[str] = []


def instrumentor_defaults(name: str) -> dict[str, Any]:
    """Our defaults for one contrib instrumentor; a standard variable the user set always wins."""
    defaults: dict[str, Any] = {}
    if name in ("fastapi", "flask") and not env_excluded_urls(name.upper()):
        defaults["excluded_urls"] = ",".join(excluded_url_patterns(MONITORING_PATHS))
    if name == "fastapi":
        # One span per request instead of three: the ASGI send/receive spans carry no agent data.
        defaults["exclude_spans"] = ["receive", "send"]
    if name == "logging" and "OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION" not in os.environ:
        # configure() already attached a log handler: a second one would export every record twice.
        defaults["enable_log_auto_instrumentation"] = False
    return defaults


class AgentsDistro(BaseDistro):  # type: ignore[misc]
    """Selects our configurator and tunes the contrib instrumentors the launcher loads."""

    def _configure(self, **kwargs: Any) -> None:
        # The launcher loads the first configurator it finds unless this names one.
        os.environ.setdefault(OTEL_PYTHON_CONFIGURATOR, ENTRY_POINT_NAME)
        # Before any instrumentor loads: the contrib HTTP instrumentations then emit the stable
        # http.* keys and http.server.request.duration, the GenAI ones the latest conventions.
        os.environ.setdefault(semconv.ENV_SEMCONV_OPT_IN, semconv.DEFAULT_OPT_IN)
        # Before any instrumentor loads: some read their content switch once, when instrumenting.
        _content_switches.align(_capture_from_env())

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
        """Instrument with our defaults under the caller's arguments."""
        super().load_instrumentor(entry_point, **{**instrumentor_defaults(entry_point.name), **kwargs})
        dist = getattr(entry_point, "dist", None)
        _loaded.append(dist.name if dist is not None else entry_point.name)


class AgentsConfigurator:
    """Builds the otel-agents pipeline exactly as ``otel_agents.configure()`` would, from the environment."""

    def configure(self, **kwargs: Any) -> None:
        """Called once by the launcher before the application's code is imported."""
        from otel_agents.autoinstrument._asgi_flush import flush_at_lifespan_shutdown
        from otel_agents.integrations import prometheus
        from otel_agents.sdk._configure import configure
        from otel_agents.sdk._options import sdk_disabled
        from otel_agents.sdk._sigterm import flush_on_sigterm

        readers = []
        wanted = os.environ.get(PROMETHEUS_ENV, "").strip().lower() not in _FALSE
        if wanted and not sdk_disabled() and prometheus.available():
            # Meter readers are fixed when the provider is built: /metrics needs it from the start.
            readers.append(prometheus.reader())
        telemetry = configure(metric_readers=readers)
        # uvicorn ends by re-raising SIGTERM with the default action, which skips atexit; in a
        # gunicorn UvicornWorker that default action is all there is, so flush at lifespan shutdown.
        flush_on_sigterm(telemetry)
        flush_at_lifespan_shutdown()


@never_raise("distro.verify")
def verify() -> None:
    """Warn when the launcher ran another distro's configurator: our processors are then not active."""
    from otel_agents.sdk._configure import current

    if current() is None:
        _log.warning(
            "otel_agents: opentelemetry-instrument did not configure otel-agents (another distro or "
            "configurator was chosen: %s=%r, %s=%r). Set %s=%s and %s=%s, or uninstall "
            "opentelemetry-distro.",
            OTEL_PYTHON_DISTRO,
            os.environ.get(OTEL_PYTHON_DISTRO),
            OTEL_PYTHON_CONFIGURATOR,
            os.environ.get(OTEL_PYTHON_CONFIGURATOR),
            OTEL_PYTHON_DISTRO,
            ENTRY_POINT_NAME,
            OTEL_PYTHON_CONFIGURATOR,
            ENTRY_POINT_NAME,
        )


def _capture_from_env() -> bool:
    try:
        return parse_capture(os.environ.get(semconv.ENV_CAPTURE_CONTENT, "false"))
    except ValueError:
        return False


def duplicate_instrumentations(loaded: list[str]) -> dict[str, list[str]]:
    """Providers instrumented more than once: by the loaded distributions, and by native spans."""
    from importlib.metadata import PackageNotFoundError, version

    by_provider: dict[str, list[str]] = {}
    for dist in loaded:
        provider = PROVIDER_OF_DIST.get(dist)
        if provider is not None:
            by_provider.setdefault(provider, []).append(dist)
    for package, major in NATIVE_SPANS.items():
        try:
            installed = int(version(package).split(".", 1)[0])
        except (PackageNotFoundError, ValueError):
            continue
        if installed >= major:
            by_provider.setdefault(package, []).append(f"{package} (native spans)")
    return {p: sorted(set(d)) for p, d in by_provider.items() if len(set(d)) > 1}


# Its spans are never made current; integrations.langchain makes them current in their steps.
LANGCHAIN_DIST: Final = "openinference-instrumentation-langchain"


@never_raise("distro.after_instrument")
def after_instrument() -> None:
    """Make OpenInference's LangChain spans current in their steps when it was loaded; warn when two
    instrumentations of one provider are active: each call becomes two spans."""
    if any(dist.lower().replace("_", "-") == LANGCHAIN_DIST for dist in _loaded):
        from otel_agents.integrations.langchain import propagate_context

        propagate_context()
    for provider, dists in duplicate_instrumentations(_loaded).items():
        _log.warning(
            "otel_agents: %d instrumentations of %s are active (%s): every %s call is recorded twice. "
            "otel-agents counts each call once (the extra span is marked %s), but the libraries' own "
            "gen_ai.client.* metrics double. Uninstall one, or disable it with "
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS.",
            len(dists),
            provider,
            ", ".join(dists),
            provider,
            semconv.DUPLICATE_OF,
        )
