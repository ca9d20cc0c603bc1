"""Store files are readable by their owner only: 0600 files (database, -wal, -shm, line files), 0700 folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from store_spans import finished, plain_spans, provider

from otel_agents.store import _ndjson as ndjson
from otel_agents.store import _paths as paths
from otel_agents.store import open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_store_is_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    """With umask 000 the home and line folders are 0700 and every file, rotated ones too, 0600."""
    home = tmp_path / "a" / "home"
    old = os.umask(0)
    try:
        store = open_store(home)
        tp, mem = provider()
        plain_spans(tp, 5)
        store.span_exporter.export(finished(mem))
        store._writer._lines["traces"]._max_bytes = 1  # every batch rotates to a new file
        plain_spans(tp, 5)
        store.span_exporter.export(finished(mem))
        db = paths.db_path(home)
        for suffix in ("-wal", "-shm"):
            assert Path(f"{db}{suffix}").exists(), suffix
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), *ndjson.list_files(paths.ndjson_dir(home))]
        assert len(files) >= 5
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        for folder in (home, home.parent, paths.ndjson_dir(home)):
            assert _mode(folder) == 0o700, folder
        store.close()
    finally:
        os.umask(old)


def test_an_older_world_readable_store_is_tightened_on_open(tmp_path: Path) -> None:
    """A store made 0644/0755 by an older version is made private when a writer opens it."""
    home = tmp_path / "home"
    open_store(home).close()
    db = paths.db_path(home)
    os.chmod(db, 0o644)
    paths.ndjson_dir(home).mkdir(exist_ok=True)
    os.chmod(paths.ndjson_dir(home), 0o755)
    store = open_store(home)
    tp, mem = provider()
    plain_spans(tp, 1)
    store.span_exporter.export(finished(mem))
    store.close()
    assert _mode(db) == 0o600
    assert _mode(paths.ndjson_dir(home)) == 0o700
