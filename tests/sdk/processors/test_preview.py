"""The opt-in 100-character preview of run inputs and outputs: off by default, cut after redaction."""

from __future__ import annotations

from typing import Any

import otel_agents as oa
from otel_agents.api import _semconv as semconv

SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2


def test_preview_is_off_by_default(pipeline: Any) -> None:
    """Without preview_content a run input is only summarised by type and size."""
    with oa.workflow("w") as run:
        run.set_input("the customer asked about invoices")
    attrs = pipeline.span("invoke_workflow w").attributes
    assert semconv.RUN_INPUT_PREVIEW not in attrs
    assert "invoices" not in str(dict(attrs))


def test_preview_keeps_100_characters_with_an_ellipsis(make_pipeline: Any) -> None:
    """With preview_content on, the preview is the first 100 characters followed by "..."."""
    cap = make_pipeline(preview_content=True)
    text = "".join(f"{i:03d}," for i in range(200))
    with oa.workflow("w") as run:
        run.set_input(text)
        run.set_result({"rows": 3})
    attrs = cap.span("invoke_workflow w").attributes
    assert attrs[semconv.RUN_INPUT_PREVIEW] == text[:100] + "..."
    assert attrs[semconv.RUN_OUTPUT_PREVIEW] == '{"rows":3}'
    assert attrs[semconv.RUN_INPUT_SUMMARY] == '{"type":"str","len":800}'


def test_secret_crossing_the_cut_is_redacted_not_half_shown(make_pipeline: Any) -> None:
    """A secret that straddles the 100-character cut is redacted whole; no part of it is exported."""
    cap = make_pipeline(preview_content=True)
    text = "x" * 90 + " " + SECRET + " tail"
    with oa.workflow("w") as run:
        run.set_input(text)
    preview = cap.span("invoke_workflow w").attributes[semconv.RUN_INPUT_PREVIEW]
    assert "A1b2C3d4" not in preview and "sk-proj" not in preview
    assert preview.startswith("x" * 90 + " [REDACTED")
    assert len(preview) == 103
