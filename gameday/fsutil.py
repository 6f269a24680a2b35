"""Small filesystem helpers: atomic writes so a crash never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from gameday.errors import ConfigError


def atomic_write(path: Path | str, data: str | bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` via a temporary file and rename; fsynced.

    The file gets ``mode`` if given (0600 for secrets such as the ledger), else the usual
    permissions of a new file under the process umask (reports are meant to be shared).
    Raises :class:`~gameday.errors.ConfigError` naming the path when it cannot be written.
    """
    path = Path(path)
    try:
        _write(path, data, mode)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _write(path: Path, data: str | bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    if mode is None:
        mode = 0o666 & ~_umask()
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
