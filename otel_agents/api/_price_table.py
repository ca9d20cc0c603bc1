"""Loads ``genai-prices``' table module without compiling its 1.6 MB source in this process."""

from __future__ import annotations

import importlib.util
import marshal
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from types import CodeType

TABLE_MODULE = "genai_prices.data"
# Compiling the table holds the GIL for ~0.6 s, which stalls every thread of the app. Python reads
# a .pyc when one exists, but PYTHONDONTWRITEBYTECODE (common in container images) or a read-only
# site-packages leaves none: then a child process compiles it, and the bytecode is cached.
_COMPILE = (
    "import marshal, sys\n"
    "path = sys.argv[1]\n"
    "with open(path, 'rb') as f:\n"
    "    code = compile(f.read(), path, 'exec', dont_inherit=True)\n"
    "sys.stdout.buffer.write(marshal.dumps(code))\n"
)
COMPILE_TIMEOUT_S = 120.0


def cache_dir() -> Path:
    """Where compiled tables are kept: ``$XDG_CACHE_HOME/otel-agents``, else ``~/.cache/otel-agents``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "otel-agents" / "bytecode"


def preload() -> bool:
    """Put the table module in ``sys.modules`` from bytecode; False when the normal import is as cheap
    (a .pyc exists) or the bytecode could not be had (the import then compiles, as before)."""
    if TABLE_MODULE in sys.modules:
        return False
    spec = importlib.util.find_spec(TABLE_MODULE)
    if spec is None or spec.origin is None or spec.loader is None:
        return False
    if spec.cached is not None and os.path.exists(spec.cached):
        return False
    source = Path(spec.origin)
    code = _cached_code(source)
    if code is None:
        return False
    module = importlib.util.module_from_spec(spec)
    sys.modules[TABLE_MODULE] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - bytecode of the installed module, compiled by us
    except BaseException:
        sys.modules.pop(TABLE_MODULE, None)
        raise
    parent = sys.modules.get(TABLE_MODULE.rpartition(".")[0])
    if parent is not None:
        setattr(parent, TABLE_MODULE.rpartition(".")[2], module)
    return True


def _cached_code(source: Path) -> CodeType | None:
    info = source.stat()
    tag = sys.implementation.cache_tag or "python"
    magic = importlib.util.MAGIC_NUMBER.hex()
    folder = cache_dir()
    path = folder / f"{TABLE_MODULE}-{tag}-{magic}-{info.st_size}-{info.st_mtime_ns}.marshal"
    code = _read_own(path)
    if code is not None:
        return code
    try:
        done = subprocess.run(
            # Isolated and without site: the child must not start the app's instrumentation again.
            [sys.executable, "-I", "-S", "-c", _COMPILE, str(source)],
            capture_output=True,
            timeout=COMPILE_TIMEOUT_S,
            check=True,
        )
        loaded = marshal.loads(done.stdout)  # noqa: S302 - our own child compiled it just now
    except (OSError, subprocess.SubprocessError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(loaded, CodeType):
        return None
    _write_own(folder, path, done.stdout)
    return loaded


def _read_own(path: Path) -> CodeType | None:
    """The code in ``path`` if this user alone can write it (it is executed), else None."""
    try:
        with path.open("rb") as f:
            info = os.fstat(f.fileno())
            folder = path.parent.stat()
            for owned in (info, folder):
                if owned.st_uid != os.getuid() or owned.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                    return None
            code = marshal.loads(f.read())  # noqa: S302 - checked above: only this user can write it
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _write_own(folder: Path, path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by this user only; failures only cost speed."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return
