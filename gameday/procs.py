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
