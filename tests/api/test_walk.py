"""The one value walk: every sink renders bytes, NaN, recursion, odd keys and broken objects alike."""

from __future__ import annotations

import math
from typing import Any

import orjson

from otel_agents.api._values import to_json
from otel_agents.store._otlp_json import any_value
from otel_agents.store._values import plain


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


class BadClass:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise RuntimeError("no class")


def _otlp_plain(value: Any) -> Any:
    """An OTLP AnyValue read back as plain values, to compare with the JSON renderings."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [_otlp_plain(v) for v in value["arrayValue"]["values"]]
    if "kvlistValue" in value:
        return {kv["key"]: _otlp_plain(kv["value"]) for kv in value["kvlistValue"]["values"]}
    return None


def _hostile() -> dict[Any, Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return {
        "bytes": b"sk-secret-bytes",
        "nan": math.nan,
        "inf": math.inf,
        "ninf": -math.inf,
        "huge": 10**5000,
        "loop": loop,
        7: "int key",
        (1, 2): "tuple key",
        Unprintable(): "unprintable key",
        "unprintable": Unprintable(),
        "ok": [1, 2.5, True, None, "x"],
    }


def test_the_three_sinks_render_one_value_the_same() -> None:
    """Span JSON, the store's JSON and OTLP AnyValue give the same rendering of a hostile value."""
    value = _hostile()
    from_spans = orjson.loads(to_json(value))
    from_store = plain(value)
    from_otlp = _otlp_plain(any_value(value))
    assert from_spans == from_store == from_otlp
    assert from_spans["bytes"] == "<bytes len=15>"
    assert (from_spans["nan"], from_spans["inf"], from_spans["ninf"]) == ("NaN", "Infinity", "-Infinity")
    assert from_spans["huge"] == "<int of 16610 bits>"
    assert from_spans["loop"] == [1, "<recursion>"]
    assert from_spans["7"] == "int key" and from_spans["(1, 2)"] == "tuple key"
    assert from_spans["<unprintable Unprintable>"] == "unprintable key"
    assert from_spans["unprintable"] == "<unprintable Unprintable>"
    assert from_spans["ok"] == [1, 2.5, True, None, "x"]


def test_bytes_are_never_encoded_in_any_sink() -> None:
    """Bytes are described by size, never base64-encoded past redaction, in every sink."""
    secret = b"sk-proj-abcdefghijklmnopqrstuvwxyz"
    rendered = [
        to_json(secret),
        orjson.dumps(plain(secret)).decode(),
        orjson.dumps(any_value(secret)).decode(),
    ]
    assert all("<bytes len=34>" in r for r in rendered)
    assert not any("c2stcHJvai" in r or "sk-proj" in r for r in rendered)


def test_an_object_that_breaks_isinstance_is_described() -> None:
    """A value whose __class__ raises is rendered as a marker by every sink, never raising."""
    value = {"x": BadClass()}
    assert "<unreadable" in to_json(value) or "<unprintable" in to_json(value)
    assert isinstance(plain(value), (dict, str))
    assert isinstance(any_value(value), dict)


def test_a_memoryview_is_described_by_its_bytes_in_every_sink() -> None:
    """A memoryview of four-byte ints is '<bytes len=12>' as an attribute, in JSON, the store and OTLP;
    a released one is a marker, never an exception."""
    from array import array

    from otel_agents.api._values import to_attribute

    view = memoryview(array("i", [1, 2, 3]))
    rendered = [to_attribute(view), orjson.loads(to_json(view)), plain(view), any_value(view)["stringValue"]]
    assert rendered == ["<bytes len=12>"] * 4
    released = memoryview(b"abc")
    released.release()
    for render in (to_attribute, to_json, plain, any_value):
        assert "<" in str(render(released))


def test_the_store_attribute_column_spells_non_finite_floats_like_the_walk() -> None:
    """The store's attributes JSON keeps NaN and infinities as 'NaN' / 'Infinity' like every other sink,
    not as null; None inside a sequence stays null."""
    from otel_agents.store._values import dumps_attributes

    text = dumps_attributes({"nan": math.nan, "seq": (1.0, -math.inf), "none": ("a", None), "ok": 1.5})
    assert text is not None
    assert orjson.loads(text) == {"nan": "NaN", "seq": [1.0, "-Infinity"], "none": ["a", None], "ok": 1.5}
    assert orjson.loads(text) == plain(
        {"nan": math.nan, "seq": (1.0, -math.inf), "none": ("a", None), "ok": 1.5}
    )
