"""The one walk over arbitrary Python values, bounded and never raising, rendered as JSON or OTLP."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

T = TypeVar("T")

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# One rendering each, whatever the sink: span attributes, log bodies, the store's JSON and OTLP.
# Bytes are described, never encoded: redaction reads text, so encoded bytes would pass it unread.
BYTES: Final = "<bytes len={}>"
RECURSION: Final = "<recursion>"
TOO_DEEP: Final = "<nested too deep: {}>"
UNPRINTABLE: Final = "<unprintable {}>"
UNREADABLE: Final = "<unreadable {}>"
HUGE_INT: Final = "<int of {} bits>"
# proto3 JSON's spelling of non-finite doubles; JSON itself has none.
NAN: Final = "NaN"
INFINITY: Final = "Infinity"
NEG_INFINITY: Final = "-Infinity"


@dataclass(frozen=True)
class Limits:
    """How far one walk may go: nesting depth, items per container, nodes in all, key length."""

    max_depth: int = 8
    max_items: int = 256
    max_nodes: int = 10_000
    key_chars: int = 256


def exact_str(value: str) -> str:
    """``value`` as a plain ``str``: a subclass's own ``__format__``, ``__hash__`` or ``__len__``
    (which may raise) is never called again. ``str.__str__`` copies without calling any of them."""
    return value if type(value) is str else str.__str__(value)


def safe_str(value: object, limit: int = 1024) -> str:
    """``str(value)`` as a plain ``str`` capped at ``limit``; a ``__str__`` that raises (or returns
    no str) gives a marker. Ints print as the walk prints them (10**5000 as its size)."""
    try:
        if isinstance(value, str):
            text = exact_str(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            text = int_text(value)
        else:
            text = str(value)
            if not isinstance(text, str):
                return _unprintable(value)
            text = exact_str(text)
    except Exception:  # noqa: BLE001 - user __str__ may raise anything
        return _unprintable(value)
    return text if len(text) <= limit else text[:limit]


def _unprintable(value: object) -> str:
    try:
        return UNPRINTABLE.format(type(value).__name__)
    except Exception:  # noqa: BLE001 - a metaclass with a hostile __name__
        return UNPRINTABLE.format("object")


def int_text(value: int) -> str:
    """An int outside int64 as decimal text, or a marker when it has too many digits to print."""
    number = int.__int__(value)  # a subclass's own __str__ or __repr__ may raise
    try:
        return str(number)
    except ValueError:  # beyond sys.get_int_max_str_digits()
        return HUGE_INT.format(number.bit_length())


def bytes_text(value: bytes | bytearray | memoryview) -> str:
    """The marker of a bytes-like value, by its size in bytes (a memoryview of ints counts bytes too)."""
    try:
        size = value.nbytes if isinstance(value, memoryview) else len(value)
    except ValueError:  # a released memoryview
        return UNREADABLE.format(type(value).__name__)
    return BYTES.format(size)


def non_finite_text(value: float) -> str:
    """``NaN``, ``Infinity`` or ``-Infinity``."""
    if math.isnan(value):
        return NAN
    return INFINITY if value > 0 else NEG_INFINITY


@dataclass(frozen=True)
class Renderer(Generic[T]):
    """How one sink spells what the walk finds: text, numbers, booleans, null and containers.

    ``integer`` gets int64 values only (others arrive as text); ``double`` gets every float.
    """

    text: Callable[[str], T]
    integer: Callable[[int], T]
    double: Callable[[float], T]
    boolean: Callable[[bool], T]
    null: Callable[[], T]
    mapping: Callable[[list[tuple[str, T]]], T]
    sequence: Callable[[list[T]], T]


def walk(value: object, render: Renderer[T], limits: Limits) -> T:
    """``value`` rendered by ``render`` within ``limits``; never raises."""
    try:
        return _Walk(render, limits).visit(value, 0)
    except Exception:  # noqa: BLE001 - e.g. an object whose __class__ raises under isinstance()
        return render.text(UNREADABLE.format(type(value).__name__))


class _Walk(Generic[T]):
    """One walk's state: the nodes it may still visit and the containers it is inside."""

    def __init__(self, render: Renderer[T], limits: Limits) -> None:
        self.render = render
        self.limits = limits
        # The budget bounds the total work: a list holding itself a thousand times is finite to us.
        self.budget = limits.max_nodes
        self.seen: set[int] = set()

    def visit(self, value: object, depth: int) -> T:
        render = self.render
        self.budget -= 1
        # Subclasses of str, int and float are read as the plain type: their own methods may raise.
        if isinstance(value, str):
            return render.text(exact_str(value))
        if isinstance(value, bool):
            return render.boolean(value is True)
        if isinstance(value, int):
            number = int.__int__(value)
            return (
                render.integer(number) if INT64_MIN <= number <= INT64_MAX else render.text(int_text(number))
            )
        if isinstance(value, float):
            return render.double(float.__float__(value))
        if value is None:
            return render.null()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return render.text(bytes_text(value))
        if id(value) in self.seen:
            return render.text(RECURSION)
        if depth >= self.limits.max_depth or self.budget <= 0:
            return render.text(TOO_DEEP.format(type(value).__name__))
        if isinstance(value, Mapping):
            return self._container(value, depth, mapping=True)
        if isinstance(value, (Sequence, set, frozenset)):
            return self._container(value, depth, mapping=False)
        return render.text(safe_str(value))

    def _container(self, value: object, depth: int, *, mapping: bool) -> T:
        limits = self.limits
        self.seen.add(id(value))
        try:
            if mapping:
                pairs: list[tuple[str, T]] = []
                for k, v in value.items():  # type: ignore[attr-defined]
                    if self.budget <= 0 or len(pairs) >= limits.max_items:
                        break
                    pairs.append((safe_str(k, limits.key_chars), self.visit(v, depth + 1)))
                return self.render.mapping(pairs)
            items: list[T] = []
            for v in value:  # type: ignore[attr-defined]
                if self.budget <= 0 or len(items) >= limits.max_items:
                    break
                items.append(self.visit(v, depth + 1))
            return self.render.sequence(items)
        except Exception:  # noqa: BLE001 - a hostile container may raise while iterating
            return self.render.text(UNREADABLE.format(type(value).__name__))
        finally:
            self.seen.discard(id(value))


def _identity(value: T) -> T:
    return value


def json_double(value: float) -> float | str:
    """A float for JSON: itself when finite, else its proto3 JSON spelling."""
    return value if math.isfinite(value) else non_finite_text(value)


def json_renderer(text: Callable[[str], object] = _identity) -> Renderer[object]:
    """Plain JSON-safe Python values; ``text`` may cap strings."""
    return Renderer(
        text=text,
        integer=_identity,
        double=json_double,
        boolean=_identity,
        null=lambda: None,
        mapping=dict,
        sequence=_identity,
    )
