"""Runtime switches the API layer reads on every call; ``configure()`` sets them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from otel_agents.api import _semconv as semconv

_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass
class Switches:
    """What the API records beyond the always-on metadata."""

    capture_content: bool = os.environ.get(semconv.ENV_CAPTURE_CONTENT, "").strip().lower() in _TRUE
    log_events: bool = False
    preview_content: bool = False


switches = Switches()
