"""The redaction rewriter: secret-looking keys and secret-looking values become a marker, never echoed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from otel_agents import semconv, stats
from otel_agents.guard import report

AllowCallback = Callable[[str, str], bool]

_SECRET_WORDS: Final = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|auth|authorization|cookie"
    r"|set[_-]cookie|credentials?|private[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret"
    r"|session[_-]?(?:token|key)|refresh[_-]?token|access[_-]?token|signature|jwt|bearer"
)
_SECRET_KEY: Final = re.compile(rf"(?i)(?:^|[._\-\s])(?:{_SECRET_WORDS})(?:$|[._\-\s])")

# Keys that contain a secret word but name no secret.
SAFE_KEYS: Final = frozenset({semconv.GEN_AI_TOKEN_TYPE})

# (rule name, pattern, group to replace: 0 = the whole match)
_VALUE_RULES: Final = (
    (
        "private_key",
        r"-----BEGIN[ A-Z]*PRIVATE KEY-----[\s\S]*?(?:-----END[ A-Z]*PRIVATE KEY-----|$)",
        0,
    ),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    ("bearer", r"(?i:\b(?:bearer|basic)\s+)([A-Za-z0-9._~+/-]{8,}=*)", 1),
    (
        "api_key",
        r"\b(?:sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}"
        r"|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
        r"|glpat-[A-Za-z0-9_-]{20,})",
        0,
    ),
    ("aws_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b", 0),
    ("url_credentials", r"(?<=://)([^\s/:@]+:[^\s/@]+)@", 1),
    (
        "key_value",
        rf"(?i:\b(?:{_SECRET_WORDS})[\"']?\s*[:=]\s*[\"']?)([^\"'\s,;&}}]+)",
        1,
    ),
    ("card_number", r"\b(?:\d[ -]?){12,18}\d\b", 0),
)


# Cheap first pass: every rule above needs one of these; most values contain none of them.
_TRIGGER: Final = (
    r"sk-|AKIA|ASIA|AGPA|AIDA|AROA|eyJ|(?i:bearer|basic)\s|://|PRIVATE KEY|_pat_|gh[pousr]_|xox[abposr]-"
    rf"|AIza|glpat-|\d(?:[ -]?\d){{12}}|(?i:{_SECRET_WORDS})\w*[\"']?\s*[:=]"
)
_CACHE_MAX: Final = 8192
_CACHE_VALUE_MAX: Final = 256


def _luhn(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def marker(rule: str) -> str:
    """The text that replaces a secret: names the rule, never the secret."""
    return semconv.REDACTED_MARKER.format(rule)


class Redactor:
    """Rewriter: redact values under secret-looking keys and secret-looking substrings anywhere."""

    count_attribute: str | None = semconv.REDACTED_COUNT

    def __init__(
        self,
        *,
        extra_patterns: Iterable[str | re.Pattern[str]] = (),
        extra_keys: Iterable[str] = (),
        allow: AllowCallback | None = None,
    ) -> None:
        rules = [(name, re.compile(pattern), group) for name, pattern, group in _VALUE_RULES]
        for pattern in extra_patterns:
            compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
            rules.append(("custom", compiled, 0))
        self._rules = tuple(rules)
        custom = [f"(?:{rule.pattern})" for name, rule, _ in rules if name == "custom"]
        self._precheck = re.compile("|".join([f"(?:{_TRIGGER})", *custom]))
        # Attribute values repeat (names, ids, operations): remember which ones are clean.
        self._clean: dict[str, bool] = {}
        words = [re.escape(k) for k in extra_keys]
        self._extra_key = re.compile(rf"(?i){'|'.join(words)}") if words else None
        self._allow = allow
        self._key_cache: dict[str, bool] = {}

    def is_secret_key(self, key: str) -> bool:
        """True when values under ``key`` are secrets whatever they look like."""
        cached = self._key_cache.get(key)
        if cached is None:
            cached = key not in SAFE_KEYS and (
                _SECRET_KEY.search(key) is not None
                or (self._extra_key is not None and self._extra_key.search(key) is not None)
            )
            if len(self._key_cache) < 10_000:
                self._key_cache[key] = cached
        return cached

    def _allowed(self, key: str, value: str) -> bool:
        if self._allow is None:
            return False
        try:
            return bool(self._allow(key, value))
        except Exception as exc:  # noqa: BLE001 - a user callback; failing closed means redacting
            report("redaction.allow_callback", exc)
            return False

    def __call__(self, key: str, value: str) -> str:
        if not value:
            return value
        if self.is_secret_key(key):
            if self._allowed(key, value):
                return value
            stats.count_redaction("secret_key")
            return marker("secret_key")
        if value in self._clean:
            return value
        if self._precheck.search(value) is not None:
            out, hits = value, list[str]()
            for name, rule, group in self._rules:
                out = rule.sub(_Replacer(name, group, hits), out)
            if hits:
                if self._allowed(key, value):
                    return value
                for rule_name in hits:
                    stats.count_redaction(rule_name)
                return out
        self._remember_clean(value)
        return value

    def _remember_clean(self, value: str) -> None:
        if len(value) <= _CACHE_VALUE_MAX:
            if len(self._clean) >= _CACHE_MAX:
                self._clean.clear()
            self._clean[value] = True


class _Replacer:
    """``re.sub`` callback for one rule: replace the secret part of a match with the marker."""

    __slots__ = ("group", "hits", "name")

    def __init__(self, name: str, group: int, hits: list[str]) -> None:
        self.name = name
        self.group = group
        self.hits = hits

    def __call__(self, match: re.Match[str]) -> str:
        whole = match.group(0)
        if self.name == "card_number" and not _luhn(whole):
            return whole
        self.hits.append(self.name)
        if self.group == 0:
            return marker(self.name)
        offset = match.start(0)
        start, end = match.start(self.group) - offset, match.end(self.group) - offset
        return whole[:start] + marker(self.name) + whole[end:]
