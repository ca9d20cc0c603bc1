"""A FastAPI service under setup_monitoring that runs an old README example inside a request."""

from __future__ import annotations

import runpy
from pathlib import Path

from fastapi import FastAPI

from otel_agents.integrations.fastapi import setup_monitoring

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

app = FastAPI()
setup_monitoring(app, service_name="compat-readme-runner")


@app.post("/run/{name}")
def run(name: str) -> dict[str, str]:
    """Run ``examples/{name}_readme.py`` unchanged, in this served process."""
    runpy.run_path(str(EXAMPLES / f"{name}_readme.py"), run_name="__main__")
    return {"ran": name}
