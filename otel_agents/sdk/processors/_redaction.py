"""The redaction rewriter: secret-looking keys and secret-looking values become a marker, never echoed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final
from urllib.parse import unquote_plus

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import report
from otel_agents.sdk.processors._truncation import marker_start

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

# A literal a rule's match contains ("(?i)": case-insensitive, looked for in the lower-cased text),
# and what must follow it for the rule to match (None: nothing). Each pair is a necessary condition
# of its rule, never a sufficient one, so a tail may only be looser than the rule.
_Literal = tuple[str, str | None]
# The rest of a secret word after its stem ("orization" after "auth"), an optional quote, then the
# separator. Generous: str.lower() can lengthen a word (U+0130 becomes two characters).
# Possessive: the three classes are disjoint, so no match is lost, and a miss fails without backtracking.
_KEY_VALUE_TAIL: Final = r"[^\s:=]{0,24}+\s*+[:=]"


def _with_tail(tail: str | None, *literals: str) -> tuple[_Literal, ...]:
    return tuple((literal, tail) for literal in literals)


# (rule name, pattern, groups to replace (the first that took part; 0 = the whole match), literals).
# A match needs one of the literals followed by its tail: a value without one skips the rule's
# regex, which over a long value costs 20-80 ns per character (the literal scan: under 1 ns).
_VALUE_RULES: Final[tuple[tuple[str, str, tuple[int, ...], tuple[_Literal, ...]], ...]] = (
    # First: the whole value under a secret key goes, before other rules cut it into pieces.
    (
        "key_value",
        _KEY_VALUE,
        (1, 2, 3, 4),
        _with_tail(
            _KEY_VALUE_TAIL,
            *(
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
    ),
    (
        "private_key",
        r"-----BEGIN[ A-Z]*PRIVATE KEY-----[\s\S]*?(?:-----END[ A-Z]*PRIVATE KEY-----|$)",
        (0,),
        _with_tail(None, "PRIVATE KEY"),
    ),
    # The second alternative: a JWT the truncation cut short (``$`` is then the cut).
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?$",
        (0,),
        _with_tail(r"[A-Za-z0-9_-]{8}", "eyJ"),
    ),
    (
        "bearer",
        r"(?i:\b(?:bearer|basic)\s+)([A-Za-z0-9._~+/-]{8,}=*)",
        (1,),
        _with_tail(r"\s++[a-z0-9._~+/-]{8}", "(?i)bearer", "(?i)basic"),
    ),
    (
        "api_key",
        r"\b(?:sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}"
        r"|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
        r"|glpat-[A-Za-z0-9_-]{20,})",
        (0,),
        (
            *_with_tail(r"[A-Za-z0-9_-]{20}", "sk-", "glpat-"),
            # One scan for five GitHub prefixes: a literal-led pattern costs what one find does.
            *_with_tail(r"[pousr]_[A-Za-z0-9]{30}", "gh"),
            *_with_tail(r"[A-Za-z0-9_]{30}", "github_pat_"),
            *_with_tail(r"[abposr]-[A-Za-z0-9-]{10}", "xox"),
            *_with_tail(r"[0-9A-Za-z_-]{35}", "AIza"),
        ),
    ),
    (
        "aws_key",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
        (0,),
        _with_tail(r"(?:KIA|SIA|GPA|IDA|ROA)[0-9A-Z]{16}", "A"),
    ),
    (
        "url_credentials",
        r"(?<=://)([^\s/:@]+:[^\s/@]+)@",
        (1,),
        _with_tail(r"[^\s/:@]++:[^\s/@]++@", "://"),
    ),
    # Gated by the runs of digits it can lie in (_sub_cards), or in non-ASCII text a digit count.
    ("card_number", r"\b(?:\d[ -]?){12,18}\d\b", (0,), ()),
)

# (looked for in the lower-cased text, the literal, the literal and its tail compiled or None): one
# rule's gate. str.find looks for the literal before the tail's regex runs, from the first
# occurrence on: a one-character literal ("A") is then a memchr (0.8 us over 4 KiB, where the
# regex's scan took 4.5 us); a longer one costs what the regex's prefix scan did.
_Gate = tuple[tuple[bool, str, re.Pattern[str] | None], ...]
# A rule's separators (see _SEPARATORS) and its gate.
_FullGate = tuple[tuple[str, ...], _Gate]


# Characters a rule's every match contains, one of which the value must hold before its literals
# are looked for: a long text without them skips the literals' (many) near misses.
_SEPARATORS: Final = {"key_value": (":", "="), "url_credentials": ("@",)}


def _parts(literal: str) -> tuple[bool, str]:
    """Whether ``literal`` is looked for in the lower-cased text, and the text to look for."""
    if literal.startswith("(?i)"):
        return True, literal[4:].lower()
    return False, literal


def _gate(literals: tuple[_Literal, ...]) -> _Gate:
    """A rule's literals as (in the lower-cased value, what to find)."""
    gate: list[tuple[bool, str, re.Pattern[str] | None]] = []
    for literal, tail in literals:
        folded, text = _parts(literal)
        gate.append((folded, text, None if tail is None else re.compile(re.escape(text) + f"(?:{tail})")))
    return tuple(gate)


# Up to this length a value is first searched for all rules' literals (and tails) at once, in two
# alternations: on short text that costs less than a scan per literal; on long text the scans win.
_SHORT: Final = 512


def _any_literal(literals: Iterable[_Literal]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Two alternations of every literal with its tail: as written, and the "(?i)" ones lower-cased."""
    exact: set[str] = set()
    folded: set[str] = set()
    for literal, tail in literals:
        is_folded, text = _parts(literal)
        source = re.escape(text) if tail is None else f"{re.escape(text)}(?:{tail})"
        (folded if is_folded else exact).add(source)
    return re.compile("|".join(sorted(exact))), re.compile("|".join(sorted(folded)))


def _passes(full: _FullGate, value: str, lower: str) -> bool:
    """True when one of the gate's literals occurs, followed by its tail where it has one."""
    separators, gate = full
    if separators and not any(separator in value for separator in separators):
        return False
    for folded, literal, with_tail in gate:
        text = lower if folded else value
        at = text.find(literal)
        # A match starts at an occurrence of the literal, so none starts before the first one.
        if at >= 0 and (with_tail is None or with_tail.search(text, at) is not None):
            return True
    return False


_CACHE_MAX: Final = 8192
_CACHE_VALUE_MAX: Final = 256


def _luhn(text: str) -> bool:
    """True for a plausible card number: 13 to 19 digits, a card network's prefix, Luhn-valid."""
    # The card rule's match is digits, spaces and dashes; int() reads any script's decimal digits.
    text = text.replace(" ", "").replace("-", "")
    if not 13 <= len(text) <= 19:
        return False
    # Card networks start with 3-6 (Amex, Diners, JCB, Visa, Mastercard, Discover, UnionPay) or
    # 2221-2720 (Mastercard). This keeps dates (2026...) and nanosecond timestamps (17...) apart.
    if not (3 <= int(text[0]) <= 6 or 2221 <= int(text[:4]) <= 2720):
        return False
    total = 0
    for i, digit in enumerate(map(int, reversed(text))):
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


# ASCII text mapped to "d" for what a card number is made of (digits, spaces, dashes), "." for the
# rest: a card number lies inside a run of at least 13 "d"s (bytes.find: under 1 ns a character,
# where the card rule's regex costs about 20 ns on every character of a long value).
_CARD_TABLE: Final = bytes(ord("d") if chr(i) in "0123456789 -" else ord(".") for i in range(256))
_CARD_RUN: Final = b"d" * _CARD_MIN_DIGITS


def _sub_cards(rule: re.Pattern[str], replacing: _ReplacerArgs, text: str) -> str:
    """``rule.sub(_Replacer(*replacing), text)``, with the rule run only over the runs a card number
    can be in (the replacer is made only when there is one: most text has none)."""
    if not text.isascii():
        # Other scripts' digits match ``\d`` too, and encoded positions would shift.
        return rule.sub(_Replacer(*replacing), text) if rule.search(text) is not None else text
    mapped = text.encode("ascii").translate(_CARD_TABLE)
    at = mapped.find(_CARD_RUN)
    if at < 0:
        return text
    replace = _Replacer(*replacing)
    pieces: list[str] = []
    done = 0
    while at >= 0:
        start = mapped.rfind(b".", 0, at) + 1
        end = mapped.find(b".", at)
        end = len(mapped) if end < 0 else end
        # One character of context each side, so ``\b`` reads what it would in the whole text; a
        # context character is no digit, space or dash, so no match takes it and it comes back as is.
        lo, hi = max(start - 1, 0), min(end + 1, len(text))
        window = rule.sub(replace, text[lo:hi])
        pieces.append(text[done:start])
        pieces.append(window[start - lo : len(window) - (hi - end)])
        done = end
        at = mapped.find(_CARD_RUN, end)
    pieces.append(text[done:])
    return "".join(pieces)


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
        rules: list[tuple[str, re.Pattern[str], tuple[int, ...], _FullGate | None]] = [
            (name, re.compile(pattern), groups, (_SEPARATORS.get(name, ()), _gate(lits)) if lits else None)
            for name, pattern, groups, lits in _VALUE_RULES
        ]
        for pattern in extra_patterns:
            compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
            rules.append(("custom", compiled, (0,), None))
        self._rules = tuple(rules)
        self._ungated = tuple(rule for rule in self._rules if rule[3] is None)
        self._any = _any_literal([lit for _, _, _, lits in _VALUE_RULES for lit in lits])
        # Attribute values repeat (names, ids, operations): remember which ones are clean.
        self._clean: dict[str, bool] = {}
        # A blank fragment is in every key: it would make every value (and name) a secret.
        words = [re.escape(k) for k in extra_keys if k.strip()]
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
            cut = marker_start(value)
            if cut > 0:
                body = value[:cut]
                redacted = self(key, body)
                return value if redacted is body else redacted + value[cut:]
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
        # Each gate reads the text as the rules before it left it: a marker they put in (its ":")
        # can complete a later rule's match, as it would without the gates.
        out = value
        hits: list[str] = []
        lower = value.lower()
        # No literal at all: no gated rule can match, nor one after it, as none changed the text
        # (the gated rules come first), so only the ungated ones are run.
        gated = len(value) > _SHORT or (
            self._any[0].search(value) is not None or self._any[1].search(lower) is not None
        )
        for name, rule, groups, gate in self._rules if gated else self._ungated:
            if gate is not None:
                if not gated or not _passes(gate, out, lower):
                    continue
            elif name == "card_number":
                # ASCII text goes straight to the runs (_sub_cards); the digit count gates the rest.
                if out.isascii() or _enough_digits(out):
                    out = _sub_cards(rule, (name, groups, hits), out)
                continue
            if rule.search(out) is not None:
                changed = rule.sub(_Replacer(name, groups, hits), out)
                if changed != out:
                    out, lower = changed, changed.lower()
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


# What _sub_cards makes its _Replacer from: the rule's name, its groups, the list of hits.
_ReplacerArgs = tuple[str, tuple[int, ...], list[str]]
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
