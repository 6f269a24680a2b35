"""What a demo leaves behind when its supervisor is killed: its containers (``--docker``) and its namespaces
and host link (``--netns``).

The supervisor records what it is about to make in ``DIR/demo/runtime.json`` before it makes any of it,
and removes the record after a clean stop. A record left behind means a supervisor died without
cleaning up: :func:`clean_leftovers` removes what it names — called by ``gameday demo up`` before it
starts a demo, by ``gameday demo down`` when no demo runs, and after a stop that had to kill the
supervisor. Processes need nothing: the services exit when the supervisor is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

from gameday.fsutil import atomic_write

RUNTIME_FILE = "runtime.json"


def record(demo_dir: Path, runtime: dict[str, Any]) -> None:
    """Note what the supervisor is about to make (before it makes any of it)."""
    atomic_write(demo_dir / RUNTIME_FILE, json.dumps(runtime, sort_keys=True) + "\n")


def forget(demo_dir: Path) -> None:
    """Everything recorded was removed (a clean stop)."""
    (demo_dir / RUNTIME_FILE).unlink(missing_ok=True)


def clean_leftovers(demo_dir: Path) -> list[str]:
    """Remove what a dead supervisor of ``demo_dir`` left (only call it when none runs there); what was done or
    could not be, one line each ([] if nothing was left). Never raises."""
    if not (demo_dir / RUNTIME_FILE).exists():
        return []
    try:  # a supervisor holds its lock while it lives: one starting up has not written state.json yet
        fd = os.open(demo_dir / "supervisor.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return []
    try:
        return _clean(demo_dir)
    finally:
        os.close(fd)


def _clean(demo_dir: Path) -> list[str]:
    try:
        runtime = json.loads((demo_dir / RUNTIME_FILE).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(runtime, dict):
        forget(demo_dir)
        return []
    said: list[str] = []
    complete = True
    if runtime.get("kind") == "docker":
        complete = _containers(demo_dir, runtime, said)
    instance = runtime.get("instance")
    if runtime.get("netns") and isinstance(instance, str) and re.fullmatch(r"[0-9a-f]{10}", instance):
        from gameday.demo.netns import DemoNet

        left = DemoNet(instance).destroy()
        if left:
            complete = False
            said.append(f"could not remove {', '.join(left)} (network namespaces need root)")
        else:
            said.append(f"removed the namespaces {', '.join(sorted(map(str, runtime['netns'].values())))}")
    if complete:
        forget(demo_dir)
    return said


def _containers(demo_dir: Path, runtime: dict[str, Any], said: list[str]) -> bool:
    """Remove the demo's containers on its engine; False (and why in ``said``) if the engine could not be asked."""
    host = runtime.get("docker_host")
    try:
        from gameday.adapters.docker import api_client, engine_host
        from gameday.demo.containers import DIR_LABEL

        api = api_client(engine_host(host))

        label = {"label": f"{DIR_LABEL}={demo_dir.resolve()}"}
        listed = api.containers(all=True, filters=label)
    except Exception as exc:  # noqa: BLE001 - no SDK, no engine: say so, keep the record for the next time
        said.append(f"could not remove the demo's containers on {host or 'the default Docker engine'}: {exc}")
        return False
    names = []
    for c in listed:
        with contextlib.suppress(Exception):
            api.remove_container(c["Id"], force=True)
            names.append(str(c["Names"][0]).lstrip("/"))
    if names:
        said.append(f"removed the containers {', '.join(sorted(names))}")
    try:  # the engine's own word
        still = [str(c["Names"][0]).lstrip("/") for c in api.containers(all=True, filters=label)]
    except Exception as exc:  # noqa: BLE001 - the engine went away meanwhile
        still = [f"? ({exc})"]
    if still:
        said.append(f"could not remove the containers {', '.join(sorted(still))}")
    return not still
