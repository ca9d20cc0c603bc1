"""Ready-made checks against real local resources: SQLite files, TCP ports, an HTTP server."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from otel_agents.integrations.checks import database_check, http_check
from tests.integrations.conftest import HOST, free_port


def test_sqlite_check_passes_on_a_database_and_fails_on_a_missing_file(tmp_path: Path) -> None:
    """database_check runs SELECT 1 on an existing SQLite file and fails, without creating it, when it is missing."""
    db = tmp_path / "app.db"
    sqlite3.connect(db).close()
    assert "SELECT 1 ok" in database_check(f"sqlite:///{db}")()
    missing = tmp_path / "missing.db"
    with pytest.raises(sqlite3.OperationalError):
        database_check(f"sqlite:///{missing}")()
    assert not missing.exists()
    assert database_check("sqlite:///:memory:")()


def test_network_database_urls_probe_tcp() -> None:
    """A postgresql URL passes when its port accepts connections and fails when nothing listens."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert "tcp connect" in database_check(f"postgresql+psycopg://u:pw@{HOST}:{port}/db")()
    with pytest.raises(OSError):
        database_check(f"mysql://{HOST}:{free_port()}/db", timeout=0.5)()


def test_unsupported_database_scheme_is_a_clear_error() -> None:
    """An unknown database URL scheme raises at registration, naming the supported schemes."""
    with pytest.raises(ValueError, match="supported: sqlite"):
        database_check("oracle://db:1521/x")


def test_http_check_follows_the_status_code(upstream_http: str) -> None:
    """http_check passes on a 2xx/3xx answer and fails on a 5xx one, and rejects non-HTTP URLs."""
    assert "answered 200" in http_check(upstream_http + "/up")()
    with pytest.raises(RuntimeError, match="answered 500"):
        http_check(upstream_http + "/down")()
    with pytest.raises(ValueError):
        http_check("file:///etc/passwd")


@pytest.mark.parametrize("url", [None, 42, b"sqlite:///x.db", ["http://h"]])
def test_a_url_that_is_no_string_is_a_clear_error_for_both_checks(url: object) -> None:
    """A check built from something that is no URL string fails where it is written, saying so."""
    with pytest.raises(ValueError, match="database_check: expected a URL string"):
        database_check(url)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="http_check: expected a URL string"):
        http_check(url)  # type: ignore[arg-type]
