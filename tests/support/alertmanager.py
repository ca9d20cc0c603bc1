"""Prometheus Alertmanager (Debian's package) as a real subprocess on a free 127.0.0.1 port."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def alertmanager_binary() -> Path:
    """The installed alertmanager, installing Debian's packages through scripts/e2e-deps.sh if absent."""
    found = shutil.which("prometheus-alertmanager")
    if found is None:
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts" / "e2e-deps.sh"), "--prometheus-only"],
            capture_output=True,
            text=True,
            timeout=40 * 60,
            check=False,
        )
        assert proc.returncode == 0, f"installing alertmanager failed:\n{proc.stderr[-4000:]}"
        found = shutil.which("prometheus-alertmanager")
    assert found is not None
    return Path(found)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


@contextlib.contextmanager
def running_alertmanager(binary: Path, config: Path, workdir: Path) -> Iterator[str]:
    """Alertmanager with ``config``, clustering off, on loopback; yields its base URL."""
    port = free_port()
    log = (workdir / "alertmanager.log").open("wb")
    proc = subprocess.Popen(
        [
            str(binary),
            f"--config.file={config}",
            f"--storage.path={workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert proc.poll() is None, (workdir / "alertmanager.log").read_text()
            assert time.monotonic() < deadline, "alertmanager did not become ready"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
