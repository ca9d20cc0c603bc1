"""The preview rewriter: cuts opt-in input/output previews to 100 characters after redaction."""

from __future__ import annotations

from otel_agents.api import _semconv as semconv


class PreviewCutter:
    """Rewriter: cut preview attributes to ``PREVIEW_CHARS`` characters, marking the cut with "..."."""

    count_attribute: str | None = None

    def __call__(self, key: str, value: str) -> str:
        if key not in semconv.PREVIEW_KEYS or len(value) <= semconv.PREVIEW_CHARS:
            return value
        return value[: semconv.PREVIEW_CHARS] + semconv.PREVIEW_ELLIPSIS
