"""``python -m otel_agents.cli``: the same as the ``otel-agents`` console script."""

from __future__ import annotations

import sys

from otel_agents.cli import main

sys.exit(main())
