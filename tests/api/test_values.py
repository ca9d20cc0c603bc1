"""Value coercion: any user value becomes a valid attribute or a content-free summary, never an exception."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from otel_agents.api import _values as values
from otel_agents.api._values import summarize, to_attribute, to_json
from otel_agents.api._walk import safe_str


class Unprintable:
    """``str()`` raises."""

    def __str__(self) -> str:
        raise ValueError("nope")


class BadMapping(Mapping[str, int]):
    """A mapping whose iteration raises."""

    def __getitem__(self, key: str) -> int:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("broken iterator")

    def __len__(self) -> int:
        raise RuntimeError("broken len")


def test_primitives_pass_through() -> None:
    """Strings, bools, ints and finite floats are kept as they are."""
    for value in ("x", True, 7, 1.5):
        assert to_attribute(value) == value


def test_homogeneous_sequences_become_tuples() -> None:
    """A list of one primitive type is a valid OTel array attribute."""
    assert to_attribute(["a", "b"]) == ("a", "b")
    assert to_attribute([1, 2]) == (1, 2)


def test_mixed_and_nested_values_become_json() -> None:
    """Mixed lists and mappings are recorded as JSON text."""
    assert to_attribute([1, "a"]) == '[1,"a"]'
    assert to_attribute({"a": {"b": [1, None]}}) == '{"a":{"b":[1,null]}}'


def test_non_finite_huge_and_binary_values() -> None:
    """NaN, infinities, ints beyond int64 and bytes become descriptive text."""
    assert to_attribute(float("nan")) == "NaN"
    assert to_attribute(-math.inf) == "-Infinity"
    assert to_attribute(2**70) == str(2**70)
    assert to_attribute(b"abc") == "<bytes len=3>"
    assert to_json([float("nan"), 2**70]) == f'["NaN","{2**70}"]'


def test_recursion_depth_and_size_are_bounded() -> None:
    """Self-references, deep nesting and very long containers stay small and finite."""
    loop: dict[str, object] = {}
    loop["self"] = loop
    assert to_json(loop) == '{"self":"<recursion>"}'
    deep: list[object] = []
    node = deep
    for _ in range(50):
        child: list[object] = []
        node.append(child)
        node = child
    assert "<nested too deep: list>" in to_json(deep)
    assert len(to_json(list(range(100_000)))) < 2000


def test_hostile_objects_never_raise() -> None:
    """Objects whose __str__, __iter__ or __len__ raise are described instead of raising."""
    assert safe_str(Unprintable()) == "<unprintable Unprintable>"
    assert to_attribute(Unprintable()) == '"<unprintable Unprintable>"'
    assert to_json(BadMapping()) == '"<unreadable BadMapping>"'
    assert summarize(BadMapping()) == '{"type":"unknown"}'


def test_summaries_carry_no_content() -> None:
    """A summary names the type, size and mapping keys, never the values."""
    assert summarize({"q": "secret question"}) == '{"type":"dict","len":1,"keys":["q"]}'
    assert summarize("secret answer") == '{"type":"str","len":13}'
    assert summarize(None) == '{"type":"NoneType"}'
    assert "secret" not in summarize([{"q": "secret"}])


def test_dict_summaries_are_reused_per_key_set_and_bounded() -> None:
    """Dicts with the same str keys share one summary string; other keys and long key sets still get
    a correct summary, and the memory of summaries stays bounded."""
    first = summarize({"q": "acme", "limit": 10})
    assert summarize({"q": "other", "limit": 99}) is first
    assert summarize({1: "x", "q": "y"}) == '{"type":"dict","len":2,"keys":["1","q"]}'
    long_key = "k" * 1000
    assert summarize({long_key: 1}) == f'{{"type":"dict","len":1,"keys":["{long_key}"]}}'
    assert (long_key,) not in values._dict_summaries
    for i in range(3 * values._MAX_CACHED_SUMMARIES):
        summarize({f"key{i}": i})
    assert len(values._dict_summaries) <= values._MAX_CACHED_SUMMARIES
