"""Span and log processors: run-context stamping, redaction, truncation, span metrics, and the fused chain."""
