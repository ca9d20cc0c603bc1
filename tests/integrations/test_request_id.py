"""Request ids: well-formed incoming ids are kept, anything else is replaced."""

from __future__ import annotations

import re

import pytest

from otel_agents.integrations._request import request_id_from

FRESH = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("good", ["abc-123", "9f1c2d3e", "req_1.2:3@edge/a+b=", "A" * 128, b"from-bytes"])
def test_well_formed_ids_are_kept(good: str | bytes) -> None:
    """A well-formed X-Request-ID is used as it came."""
    expected = good.decode() if isinstance(good, bytes) else good
    assert request_id_from(good) == expected


@pytest.mark.parametrize(
    "bad", [None, "", " ", "A" * 129, "has space", "new\nline", "<script>", "-leading", b"\xff\xfe", "é"]
)
def test_malformed_ids_are_replaced(bad: str | bytes | None) -> None:
    """A missing, oversized or malformed X-Request-ID never raises and yields a fresh random id."""
    assert FRESH.fullmatch(request_id_from(bad))
