"""Other GenAI libraries' content switches, set to match our content capture where the user has not."""

from __future__ import annotations

import os

from otel_agents.api import _semconv as semconv


def align(capture_content: bool) -> dict[str, str]:
    """Set OpenLLMetry's and OpenInference's switches the user left unset; returns what was set.

    Our normaliser removes content keys from their spans anyway; with the switches set, the
    libraries do not even build the content (less work, and nothing in their own events or logs).
    """
    wanted = {semconv.ENV_TRACELOOP_TRACE_CONTENT: "true" if capture_content else "false"}
    for name in semconv.ENV_OPENINFERENCE_HIDE:
        wanted[name] = "false" if capture_content else "true"
    done = {}
    for name, value in wanted.items():
        if name not in os.environ:
            os.environ[name] = value
            done[name] = value
    return done
