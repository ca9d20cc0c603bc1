"""The truncation rewriter: caps every string value at a length, with a marker saying how much went."""

from __future__ import annotations

import re
from typing import Final

from otel_agents.api import _semconv as semconv

# A token the cut went through is dropped whole when shorter than this. A longer one is kept: at
# this length the start of any secret shape is long enough for redaction to recognise it (the JWT
# rule also matches one cut short), and blobs (base64 data, long ids) keep their prefix.
BLOB: Final = 64
# Characters a key, token or encoded secret is made of.
_TRAILING_TOKEN: Final = re.compile(r"[\w+/=.~%-]*$")
# Digit groups of a card number cut mid-way ("4111 1111 11").
_TRAILING_DIGITS: Final = re.compile(r"(?:\d{1,6}[ -])+$")
# What a truncated value ends with; the redactor rewrites what comes before it.
MARKER_RE: Final = re.compile(re.escape(semconv.TRUNCATED_MARKER).replace(r"\{\}", r"\d+") + "$")


def safe_cut(text: str, limit: int) -> str:
    """``text[:limit]`` minus a short token, or digit groups, that the cut went through."""
    kept = text[:limit]
    window = kept[-BLOB:]
    token = _TRAILING_TOKEN.search(window)
    if token is not None and (token.start() > 0 or len(window) < BLOB):
        kept = kept[: len(kept) - len(window) + token.start()]
    digits = _TRAILING_DIGITS.search(kept[-BLOB:])
    if digits is not None:
        kept = kept[: len(kept) - len(kept[-BLOB:]) + digits.start()]
    return kept


class Truncator:
    """Rewriter: cut strings longer than ``max_length`` characters and say how many were cut.

    It runs before redaction, so redaction only ever reads ``max_length`` characters; the cut backs
    off to a token boundary so that no secret is split into a part redaction would not recognise.
    """

    count_attribute: str | None = semconv.TRUNCATED_COUNT
    # Cheap enough for the ending thread: the chain runs it there for spans holding much text.
    eager = True

    def __init__(self, max_length: int) -> None:
        if max_length < 16:
            raise ValueError(f"max_length must be at least 16, got {max_length}")
        self.max_length = max_length

    def __call__(self, key: str, value: str) -> str:
        if len(value) <= self.max_length:
            return value
        kept = safe_cut(value, self.max_length)
        return kept + semconv.TRUNCATED_MARKER.format(len(value) - len(kept))
