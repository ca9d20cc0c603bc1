"""The truncation rewriter: caps every string value at a length, with a marker saying how much went."""

from __future__ import annotations

import re
from typing import Final

from otel_agents.api import _semconv as semconv

# A token the cut went through is dropped whole when shorter than this. A longer one is kept: at
# this length the start of any secret shape is long enough for redaction to recognise it (the JWT
# rule also matches one cut short), and blobs (base64 data, long ids) keep their prefix.
BLOB: Final = 64
# Both are matched at the start of the reversed window: a search for the same run anchored at the
# end tries every start, each running to the end (about 2,000 steps over a 64-character token).
# Characters a key, token or encoded secret is made of.
_TOKEN_REVERSED: Final = re.compile(r"[\w+/=.~%-]*")
# Digit groups of a card number cut mid-way ("4111 1111 11"), reversed: a separator, then digits.
_DIGITS_REVERSED: Final = re.compile(r"(?:[ -]\d{1,6})+")
# What a truncated value ends with; the redactor rewrites what comes before it.
MARKER_RE: Final = re.compile(re.escape(semconv.TRUNCATED_MARKER).replace(r"\{\}", r"\d+") + "$")
_MARKER_HEAD: Final = semconv.TRUNCATED_MARKER.split("{", 1)[0]


def marker_start(value: str) -> int:
    """Where the truncation marker ``value`` ends with starts, or -1.

    No later occurrence of its head fits in a marker, so the last one is the only candidate: one
    ``rfind`` instead of a regex search trying every position of a value up to the length limit.
    """
    at = value.rfind(_MARKER_HEAD)
    return at if at >= 0 and MARKER_RE.match(value, at) is not None else -1


def safe_cut(text: str, limit: int) -> str:
    """``text[:limit]`` minus a short token, or digit groups, that the cut went through."""
    kept = text[:limit]
    window = kept[-BLOB:]
    token = _TOKEN_REVERSED.match(window[::-1])
    run = 0 if token is None else token.end()
    if run and (run < len(window) or len(window) < BLOB):
        kept = kept[: len(kept) - run]
    digits = _DIGITS_REVERSED.match(kept[-BLOB:][::-1])
    if digits is not None:
        kept = kept[: len(kept) - digits.end()]
    return kept


class Truncator:
    """Rewriter: cut strings longer than ``max_length`` characters and say how many were cut.

    It runs before redaction, so redaction only ever reads ``max_length`` characters; the cut backs
    off to a token boundary so that no secret is split into a part redaction would not recognise.
    """

    count_attribute: str | None = semconv.TRUNCATED_COUNT
    # Cheap enough for the ending thread: the chain runs it there for spans holding much text.
    eager = True
    # Sequences keep their first MAX_SEQUENCE_ITEMS items (see _rewrite), counted as one cut each.
    cuts_sequences = True

    def __init__(self, max_length: int) -> None:
        if max_length < 16:
            raise ValueError(f"max_length must be at least 16, got {max_length}")
        self.max_length = max_length

    def __call__(self, key: str, value: str) -> str:
        if len(value) <= self.max_length:
            return value
        kept = safe_cut(value, self.max_length)
        return kept + semconv.TRUNCATED_MARKER.format(len(value) - len(kept))
