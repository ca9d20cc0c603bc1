"""Floor 3, the SDK pipeline that ``configure()`` builds: options, processors, batching, exporters.

Loaded only when an application configures (``otel_agents.configure``). It may import the API
layer and the store, never the launcher glue, the integrations or the CLI. Its modules are private.
"""
