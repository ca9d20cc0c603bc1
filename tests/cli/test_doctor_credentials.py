"""`otel-agents doctor` never prints the credentials of an endpoint URL, in text or JSON."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import Cli


def test_doctor_masks_user_and_password_of_endpoints(demo_home: Path, cli: Cli) -> None:
    """`user:pw@` in the OTLP endpoint (environment or --endpoint) shows as `***@` everywhere."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://alice:pw-canary-123@127.0.0.1:9"}
    for args in (
        ("doctor",),
        ("doctor", "--json"),
        ("doctor", "--endpoint", "http://bob:pw-canary-456@127.0.0.1:9"),
    ):
        result = cli(*args, home=demo_home, env=env)
        out = result.stdout + result.stderr
        assert "pw-canary" not in out, out
        assert "alice" not in out and "bob" not in out
        assert "***@127.0.0.1:9" in out
