"""The redaction rewriter: secret-looking keys and secret-looking values become a marker, never echoed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final
from urllib.parse import unquote_plus

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import report
from otel_agents.sdk.processors._truncation import MARKER_RE

AllowCallback = Callable[[str, str], bool]

_SECRET_WORDS: Final = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|auth|authorization|cookie"
    r"|set[_-]cookie|credentials?|private[_-]?key|access[_-]?key|secret[_-]?key|client[_-]?secret"
    r"|session[_-]?(?:token|key)|refresh[_-]?token|access[_-]?token|signature|jwt|bearer"
)
_SECRET_KEY: Final = re.compile(rf"(?i)(?:^|[._\-\s])(?:{_SECRET_WORDS})(?:$|[._\-\s])")
# camelCase and PascalCase keys (userPassword, openaiApiKey, DBPassword) become words first.
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

# ``key=value`` / ``"key": "value"`` inside free text. The key is a secret word at a word, dotted or
# camelCase boundary (userPassword=, db.rootPassword=). The value is all of it: a quoted one up to
# its closing quote (escapes honoured, spaces and commas included, to the end when the quote never
# closes), an unquoted one up to the next ``key=`` or a separator, so no word of it survives.
_KEY_VALUE: Final = (
    rf"(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))(?i:{_SECRET_WORDS})"
    r"(?:\\?[\"'])?\s*[:=]\s*"
    r"(?:\\\"(.*?)(?:\\\"|$)"
    r"|\"((?:[^\"\\]|\\.)*)(?:\"|$)"
    r"|'((?:[^'\\]|\\.)*)(?:'|$)"
    r"|([^\s\"'&;,}\]](?:[^\r\n\"&;}\]]*?[^\s\"&;,}\]])??)"
    r"(?=(?:\s*[,;&]\s*|\s+)[\w.-]+\s*[:=]|\s*[;&\r\n\"}\]]|\s*$))"
)

# Keys that contain a secret word but name no secret.
SAFE_KEYS: Final = frozenset({semconv.GEN_AI_TOKEN_TYPE})

# (rule name, pattern, groups to replace (the first that took part; 0 = the whole match), literals).
# A match needs one of the literals (case-insensitive when marked "(?i)"): one combined scan for all
# of them rules out most values before any rule's own regex runs.
_VALUE_RULES: Final[tuple[tuple[str, str, tuple[int, ...], tuple[str, ...]], ...]] = (
    # First: the whole value under a secret key goes, before other rules cut it into pieces.
    (
        "key_value",
        _KEY_VALUE,
        (1, 2, 3, 4),
        tuple(
            f"(?i){stem}"
            for stem in (
                "pass",
                "pwd",
                "secret",
                "token",
                "auth",
                "cookie",
                "credential",
                "signature",
                "jwt",
                "key",
                "bearer",
            )
        ),
    ),
    (
        "private_key",
        r"-----BEGIN[ A-Z]*PRIVATE KEY-----[\s\S]*?(?:-----END[ A-Z]*PRIVATE KEY-----|$)",
        (0,),
        ("PRIVATE KEY",),
    ),
    # The second alternative: a JWT the truncation cut short (``$`` is then the cut).
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?$",
        (0,),
        ("eyJ",),
    ),
    ("bearer", r"(?i:\b(?:bearer|basic)\s+)([A-Za-z0-9._~+/-]{8,}=*)", (1,), ("(?i)bearer", "(?i)basic")),
    (
        "api_key",
        r"\b(?:sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}"
        r"|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
        r"|glpat-[A-Za-z0-9_-]{20,})",
        (0,),
        ("sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza", "glpat-"),
    ),
    (
        "aws_key",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
        (0,),
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA"),
    ),
    ("url_credentials", r"(?<=://)([^\s/:@]+:[^\s/@]+)@", (1,), ("://",)),
    # Gated by a digit count instead of a literal (see _enough_digits).
    ("card_number", r"\b(?:\d[ -]?){12,18}\d\b", (0,), ()),
)


def _literal_gate(literals: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """Two plain alternations: literals matched as written, and "(?i)" ones against lower-cased text.

    Scoped ``(?i:...)`` groups would defeat the regex engine's literal scan (measured 15x slower).
    """
    exact = [re.escape(lit) for lit in literals if not lit.startswith("(?i)")]
    folded = [re.escape(lit[4:].lower()) for lit in literals if lit.startswith("(?i)")]
    return (
        re.compile("|".join(exact)) if exact else None,
        re.compile("|".join(folded)) if folded else None,
    )


def _passes(gate: tuple[re.Pattern[str] | None, re.Pattern[str] | None], value: str, lower: str) -> bool:
    exact, folded = gate
    return (exact is not None and exact.search(value) is not None) or (
        folded is not None and folded.search(lower) is not None
    )


_CACHE_MAX: Final = 8192
_CACHE_VALUE_MAX: Final = 256


_Gate = tuple[re.Pattern[str] | None, re.Pattern[str] | None]


def _luhn(text: str) -> bool:
    """True for a plausible card number: 13 to 19 digits, a card network's prefix, Luhn-valid."""
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    # Card networks start with 3-6 (Amex, Diners, JCB, Visa, Mastercard, Discover, UnionPay) or
    # 2221-2720 (Mastercard). This keeps dates (2026...) and nanosecond timestamps (17...) apart.
    first4 = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
    if not (3 <= digits[0] <= 6 or 2221 <= first4 <= 2720):
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def marker(rule: str) -> str:
    """The text that replaces a secret: names the rule, never the secret."""
    return semconv.REDACTED_MARKER.format(rule)


_DIGITS: Final = b"0123456789"
_CARD_MIN_DIGITS: Final = 13


def _enough_digits(value: str) -> bool:
    """The card rule's gate: at least 13 digits (one C-level pass, about 30x cheaper than the rule)."""
    data = value.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, _DIGITS)) >= _CARD_MIN_DIGITS


class Redactor:
    """Rewriter: redact values under secret-looking keys and secret-looking substrings anywhere."""

    count_attribute: str | None = semconv.REDACTED_COUNT
    # Attribute keys are redacted too (by value rules: a key is never a secret key by name).
    rewrites_keys = True

    def __init__(
        self,
        *,
        extra_patterns: Iterable[str | re.Pattern[str]] = (),
        extra_keys: Iterable[str] = (),
        allow: AllowCallback | None = None,
    ) -> None:
        rules: list[tuple[str, re.Pattern[str], tuple[int, ...], _Gate | None]] = [
            (name, re.compile(pattern), groups, _literal_gate(lits) if lits else None)
            for name, pattern, groups, lits in _VALUE_RULES
        ]
        for pattern in extra_patterns:
            compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
            rules.append(("custom", compiled, (0,), None))
        self._rules = tuple(rules)
        self._any_literal = _literal_gate(tuple(lit for _, _, _, lits in _VALUE_RULES for lit in lits))
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
                _SECRET_KEY.search(_CAMEL.sub("_", key)) is not None
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
        if value.endswith(_TRUNCATED_END):
            # Truncation ran first: redact what was kept, and keep the marker saying how much went.
            cut = MARKER_RE.search(value)
            if cut is not None and cut.start() > 0:
                body = value[: cut.start()]
                redacted = self(key, body)
                return value if redacted is body else redacted + value[cut.start() :]
        if self.is_secret_key(key):
            if value.startswith(_MARKER_PREFIX) or self._allowed(key, value):
                return value
            stats.count_redaction("secret_key")
            return marker("secret_key")
        if value in self._clean:
            return value
        if "%" in value or "+" in value:
            # URLs and form bodies hide secrets behind percent-escapes and '+' for spaces
            # (?q=%7B%22password%22...): read the decoded text too, and keep it, redacted, on a hit.
            decoded = unquote_plus(value)
            if decoded != value:
                redacted = self._redact(key, decoded)
                if redacted is not decoded:
                    return redacted
        return self._redact(key, value)

    def _redact(self, key: str, value: str) -> str:
        """The value rules over ``value``."""
        if value in self._clean:
            return value
        lower = value.lower()
        maybe = _passes(self._any_literal, value, lower)
        out, hits = value, list[str]()
        for name, rule, groups, gate in self._rules:
            if gate is not None:
                if not maybe or not _passes(gate, value, lower):
                    continue
            elif name == "card_number" and not _enough_digits(value):
                continue
            if rule.search(out) is not None:
                out = rule.sub(_Replacer(name, groups, hits), out)
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


_MARKER_PREFIX: Final = semconv.REDACTED_MARKER.split("{", 1)[0]
_TRUNCATED_END: Final = semconv.TRUNCATED_MARKER.rsplit("}", 1)[1]


class _Replacer:
    """``re.sub`` callback for one rule: replace the secret part of a match with the marker."""

    __slots__ = ("groups", "hits", "name")

    def __init__(self, name: str, groups: tuple[int, ...], hits: list[str]) -> None:
        self.name = name
        self.groups = groups
        self.hits = hits

    def __call__(self, match: re.Match[str]) -> str:
        whole = match.group(0)
        if self.name == "card_number" and not _luhn(whole):
            return whole
        group = next((g for g in self.groups if match.group(g) is not None), 0)
        secret = match.group(group)
        if not secret or secret.startswith(_MARKER_PREFIX):
            return whole  # already redacted (a second pass) or nothing there: count nothing
        self.hits.append(self.name)
        if group == 0:
            return marker(self.name)
        offset = match.start(0)
        start, end = match.start(group) - offset, match.end(group) - offset
        return whole[:start] + marker(self.name) + whole[end:]
