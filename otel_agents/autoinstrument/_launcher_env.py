"""Variables ``opentelemetry-instrument`` offers as ``--agents_*`` flags; loading it selects our distro.

The launcher imports every ``opentelemetry_environment_variables`` module in its own process before
it execs the application, and picks the *first* distro and configurator it finds unless
``OTEL_PYTHON_DISTRO``/``OTEL_PYTHON_CONFIGURATOR`` name one. Entry point order follows the file
system, so with ``opentelemetry-distro`` also installed the choice would be arbitrary: defaulting
both variables here (a value the user set wins) makes otel-agents the deterministic choice.
"""

from __future__ import annotations

import os
from typing import Final

OTEL_AGENTS_HOME: Final = "OTEL_AGENTS_HOME"
OTEL_AGENTS_EXPORTER: Final = "OTEL_AGENTS_EXPORTER"
OTEL_AGENTS_ENVIRONMENT: Final = "OTEL_AGENTS_ENVIRONMENT"
OTEL_AGENTS_PROMETHEUS: Final = "OTEL_AGENTS_PROMETHEUS"

# Names of the launcher's own variables, kept out of this module's OTEL_* attributes: the launcher
# turns every such attribute into a command-line flag, and a duplicate flag would break it.
_DISTRO_VARIABLE: Final = "OTEL_PYTHON_DISTRO"
_CONFIGURATOR_VARIABLE: Final = "OTEL_PYTHON_CONFIGURATOR"
_ENTRY_POINT_NAME: Final = "otel_agents"

os.environ.setdefault(_DISTRO_VARIABLE, _ENTRY_POINT_NAME)
os.environ.setdefault(_CONFIGURATOR_VARIABLE, _ENTRY_POINT_NAME)
