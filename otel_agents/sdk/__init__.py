"""Floor 3, the SDK pipeline that ``configure()`` builds: options, processors, batching, exporters.

Loaded only when an application configures (``otel_agents.configure``). It may import the API
layer and the store, never the launcher glue, the integrations or the CLI. Its modules are private.
"""

from otel_agents.sdk._log_scrub import install as scrub_diagnostics

# First: the check below and the SDK's own imports warn about bad environment values, quoting them.
scrub_diagnostics()

from otel_agents.sdk._env_check import drop_bad_sdk_variables  # noqa: E402 - after the scrub

# Before any module here imports opentelemetry.sdk, which raises on some bad variables at import.
drop_bad_sdk_variables()

from otel_agents.api._threads import signals_blocked  # noqa: E402 - after the variables are checked

# The SDK's logs module builds a Resource when it is imported, and its detectors run on pool
# threads, which inherit this thread's signal mask: with SIGTERM open they could take a SIGTERM
# meant for the main thread (a plain script then slept through it, about 1 run in 20 under load).
with signals_blocked():
    import opentelemetry.sdk._logs  # noqa: F401
