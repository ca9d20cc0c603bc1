"""Floor 3, the SDK pipeline that ``configure()`` builds: options, processors, batching, exporters.

Loaded only when an application configures (``otel_agents.configure``). It may import the API
layer and the store, never the launcher glue, the integrations or the CLI. Its modules are private.
"""

from otel_agents.sdk._env_check import drop_bad_sdk_variables

# Before any module here imports opentelemetry.sdk, which raises on some bad variables at import.
drop_bad_sdk_variables()
