"""Floor 1, the API layer: spans, handles, run context, values, semconv, pricing, guard; OTel API only.

A library may import this floor without configuring anything: no module here imports
``opentelemetry.sdk`` or any other floor of otel_agents (``make lint`` checks it). Its public names
are re-exported by ``otel_agents``; the modules themselves are private.
"""
