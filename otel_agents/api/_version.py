"""The package version, kept apart so the API layer can name its instrumentation scope."""

__version__ = "0.1.0"
