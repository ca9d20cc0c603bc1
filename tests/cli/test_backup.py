"""``otel-agents backup``: a consistent copy of a store taken while another process keeps writing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from cli_helpers import Cli

from otel_agents.store import _paths as paths
from otel_agents.store import read_file

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tests" / "store" / "writer_proc.py"


def _spans_in_ndjson(home: Path) -> int:
    total = 0
    for path in paths.ndjson_dir(home).rglob("traces-*.ndjson"):
        assert path.read_bytes().endswith(b"\n"), path
        for request in read_file(path):
            for rs in request["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    total += len(ss["spans"])
    return total


def _write_five_spans(home: Path) -> None:
    subprocess.run(
        [sys.executable, str(WRITER), str(home), "x", "1", "5"],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
    )


def test_backup_while_a_writer_writes_is_consistent(tmp_path: Path, cli: Cli) -> None:
    """A backup taken mid-write passes SQLite's integrity check, holds whole lines only and reads with the CLI."""
    home = tmp_path / "store"
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(home), "bk", "-1", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert writer.stdout is not None
        for _ in range(5):
            assert writer.stdout.readline().startswith("ack ")
        copies = []
        for i in range(3):
            target = tmp_path / f"backup-{i}"
            result = cli("backup", str(target), home=home)
            assert result.returncode == 0, result.stderr
            assert "backed up to" in result.stdout
            copies.append(target)
        assert writer.poll() is None, "the writer was still writing during every backup"
    finally:
        writer.kill()
        writer.wait(10)
    previous = 0
    for target in copies:
        conn = sqlite3.connect(paths.db_path(target))
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (in_db,) = conn.execute("SELECT count(*) FROM spans").fetchone()
        conn.close()
        # Whole batches only, and the database holds at least what the line files held before it.
        assert in_db % 50 == 0 and in_db >= 250 and in_db >= previous
        in_lines = _spans_in_ndjson(target)
        assert in_lines % 50 == 0 and in_db >= in_lines - 50
        previous = in_db
        runs = cli("stats", "--json", home=target)
        assert runs.returncode == 0, runs.stderr


def test_backup_refuses_to_overwrite_and_names_a_missing_store(tmp_path: Path, cli: Cli) -> None:
    """backup fails with one clear line when the store is absent or the target already holds a store."""
    missing = cli("backup", str(tmp_path / "t"), home=tmp_path / "none")
    assert missing.returncode == 1 and "no store at" in missing.stderr
    home = tmp_path / "store"
    _write_five_spans(home)
    assert cli("backup", str(tmp_path / "t"), home=home).returncode == 0
    again = cli("backup", str(tmp_path / "t"), home=home)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_a_backup_is_as_private_as_the_store(tmp_path: Path, cli: Cli) -> None:
    """Under a 022 umask the copy's folders are 0700 and its files 0600, like the store's own."""
    home = tmp_path / "store"
    _write_five_spans(home)
    target = tmp_path / "copies" / "b"
    old = os.umask(0o022)
    try:
        result = cli("backup", str(target), home=home)
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    made = [target, *target.rglob("*")]
    assert any(p.suffix == ".ndjson" for p in made) and paths.db_path(target) in made
    for path in made:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert (tmp_path / "copies").stat().st_mode & 0o777 == 0o700
