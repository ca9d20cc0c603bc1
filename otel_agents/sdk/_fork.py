"""After ``fork()``, give the child process its own ``service.instance.id`` on the existing providers."""

from __future__ import annotations

import os
import uuid
import weakref
from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise

if TYPE_CHECKING:
    from otel_agents.sdk._configure import Telemetry


def install(telemetry: Telemetry) -> None:
    """Renew the instance id in every child forked from now on (gunicorn ``--preload``, fork pools).

    An explicit ``instance_id`` is the user's choice and is kept.
    """
    if telemetry.options.instance_id or not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(telemetry)

    def after_in_child() -> None:
        alive = ref()
        if alive is not None and not alive.is_shutdown:
            renew_instance_id(alive)

    os.register_at_fork(after_in_child=after_in_child)


@never_raise("fork.renew_instance_id")
def renew_instance_id(telemetry: Telemetry) -> None:
    """Give ``telemetry``'s providers, and every tracer, meter and logger they made, a new instance id."""
    fresh = Resource({semconv.SERVICE_INSTANCE_ID: str(uuid.uuid4())})
    # The SDK's own after-fork hook (1.45+) refreshes process-dependent resources through this same
    # method; its hooks were registered first, so this merge comes last and wins.
    for provider in (telemetry.tracer_provider, telemetry.meter_provider, telemetry.logger_provider):
        provider._update_resource(fresh)
    telemetry.resource = telemetry.tracer_provider.resource
