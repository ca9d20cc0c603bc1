"""The JSON results file every bench writes with ``--json PATH``: figures plus when and where."""

from __future__ import annotations

import datetime
import json
import os
import platform
import socket
from importlib import metadata
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """What the figures were measured on: host, CPU model and count, load, Python, OTel SDK."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:
        load = None
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_1min": load,
        "python": platform.python_version(),
        "otel_sdk": metadata.version("opentelemetry-sdk"),
    }


def write(path: Path | str | None, bench: str, figures: dict[str, Any], **extra: Any) -> None:
    """Write ``figures`` for ``bench`` to ``path`` (nothing when ``path`` is None)."""
    if path is None:
        return
    record = {
        "bench": bench,
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": figures,
        **extra,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
