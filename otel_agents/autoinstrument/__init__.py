"""Floor 4, the launcher glue: the distro, configurator and variables ``opentelemetry-instrument`` loads.

Reached through the entry points in ``pyproject.toml``; its modules are private.
"""
