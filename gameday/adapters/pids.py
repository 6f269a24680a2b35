"""Process liveness from /proc, shared by the demo, the monitoring keeper and the CLI client."""

from __future__ import annotations

import os


def proc_state(pid: int) -> str | None:
    """The kernel's one-letter state of ``pid`` (``R``, ``S``, ``T``, ``Z``...), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :][:1].decode() or None


def pid_alive(pid: object) -> bool:
    """True if ``pid`` runs (or is stopped); zombies count as dead."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    state = proc_state(pid)
    if state is None:
        try:
            os.kill(pid, 0)  # no /proc: fall back to the signal probe
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not os.path.isdir("/proc")
    return state not in ("Z", "X")


def runs_module(pid: object, module: str) -> bool:
    """True if ``pid`` is alive and (where /proc tells) runs ``python -m module``, not a reused pid."""
    if not pid_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return module.encode() in fh.read()
    except OSError:
        return True


def live_state(path: str | os.PathLike[str], module: str) -> dict | None:
    """The JSON state file a background process (``python -m module``) wrote, if that process
    still runs; None when the file is missing, unreadable or stale (the caller cleans up)."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and runs_module(state.get("pid"), module) else None
