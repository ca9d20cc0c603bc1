"""FastAPI and Flask apps whose health checks fail in every way a check can: raise, hang, say False."""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI
from flask import Flask

from otel_agents.integrations.health import HealthRegistry

HANG_SECONDS = 30.0
TIMEOUT = 0.3


class HostileError(RuntimeError):
    """An exception whose message cannot be rendered."""

    def __str__(self) -> str:
        raise ValueError("no message for you")


def build_registry() -> HealthRegistry:
    health = HealthRegistry()

    @health.check("ok")
    def ok() -> str:
        return "fine"

    @health.check("raises")
    def raises() -> None:
        raise ConnectionError("db at postgresql://admin:hunter2@db:5432 refused")

    @health.check("hostile")
    def hostile() -> None:
        raise HostileError

    @health.check("says_false")
    def says_false() -> bool:
        return False

    @health.check("hangs", timeout=TIMEOUT)
    def hangs() -> None:
        time.sleep(HANG_SECONDS)

    @health.check("hangs_async", timeout=TIMEOUT)
    async def hangs_async() -> None:
        await asyncio.sleep(HANG_SECONDS)

    return health


fastapi_app = FastAPI()
flask_app = Flask("health_app")


def _setup() -> None:
    from otel_agents.integrations.fastapi import setup_monitoring as setup_fastapi
    from otel_agents.integrations.flask import setup_monitoring as setup_flask

    setup_fastapi(fastapi_app, service_name="health-app", health=build_registry())
    setup_flask(flask_app, service_name="health-app", health=build_registry())


_setup()
