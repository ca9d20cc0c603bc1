"""Thin shims with the APIs of the internal monitoring libraries otel-agents replaces, one module each."""
