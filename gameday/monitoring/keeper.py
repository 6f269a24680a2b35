"""The demo's real monitoring, kept running in the background: ``gameday demo up --monitoring prometheus``.

``python -m gameday.monitoring.keeper --state-dir DIR [--webhook-url URL] [--watch-pid PID]``

Starts a :class:`~gameday.monitoring.stack.MonitoringStack` for the demo running in
``DIR`` (its targets from the demo's ``state.json``, the shipped demo rules), writes
``DIR/monitoring/state.json`` and keeps it running until SIGTERM/SIGINT or until the
watched process (the demo's supervisor) is gone — so ``gameday demo down`` takes the
monitoring down too. Prometheus and Alertmanager die with the keeper even after a
``kill -9`` (``PR_SET_PDEATHSIG``). Alertmanager's receiver is ``--webhook-url``, or none
(a drill points it at its own intake for the drill and restores it after).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gameday.adapters.pids import live_state, pid_alive
from gameday.errors import InfrastructureError

START_TIMEOUT = 20.0


def keeper_dir(state_dir: Path | str) -> Path:
    return Path(state_dir).resolve() / "monitoring"


def attach_keeper(state_dir: Path | str) -> dict[str, Any] | None:
    """The running keeper's ``state.json`` for ``state_dir``, or None (a stale file is removed)."""
    path = keeper_dir(state_dir) / "state.json"
    state = live_state(path, "gameday.monitoring.keeper")
    if state is None:
        path.unlink(missing_ok=True)
    return state


def start_keeper(state_dir: Path | str, webhook_url: str | None = None, watch_pid: int | None = None,
                 timeout: float = START_TIMEOUT) -> dict[str, Any]:
    """Start the keeper detached (its own session) and wait until its stack is ready; its state."""
    running = attach_keeper(state_dir)
    if running:
        raise InfrastructureError(f"the demo's monitoring already runs (keeper pid {running['pid']}, "
                                  f"Prometheus {running['prometheus_url']})")
    kdir = keeper_dir(state_dir)
    kdir.mkdir(parents=True, exist_ok=True)
    log_path = kdir / "keeper.log"
    argv = [sys.executable, "-m", "gameday.monitoring.keeper", "--state-dir", str(Path(state_dir).resolve())]
    if webhook_url:
        argv += ["--webhook-url", webhook_url]
    if watch_pid:
        argv += ["--watch-pid", str(watch_pid)]
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise InfrastructureError(f"the demo's monitoring did not start (exit {popen.returncode}): {_tail(log_path)}")
        state = attach_keeper(state_dir)
        if state and state.get("pid") == popen.pid:
            return state
        time.sleep(0.02)
    popen.terminate()
    try:
        popen.wait(5)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(5)
    raise InfrastructureError(f"the demo's monitoring did not start within {timeout:g}s: {_tail(log_path)}")


def stop_keeper(state_dir: Path | str, timeout: float = 10.0) -> bool:
    """Stop a running keeper (and with it Prometheus and Alertmanager); True if one was running."""
    state = attach_keeper(state_dir)
    if state is None:
        return False
    pid = state["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) + f" (log: {path})"


def run(state_dir: Path, webhook_url: str | None, watch_pid: int | None) -> int:
    from gameday.demo.control import read_state
    from gameday.fsutil import atomic_write
    from gameday.monitoring.config import DEMO_RULES, SHIPPED_RULES, demo_targets
    from gameday.monitoring.stack import MonitoringStack

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    demo = read_state(state_dir)
    if demo is None:
        print("keeper: the demo is not running: nothing to monitor", file=sys.stderr, flush=True)
        return 1
    kdir = keeper_dir(state_dir)
    workdir = kdir / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    stack = MonitoringStack(demo_targets(demo), [SHIPPED_RULES / DEMO_RULES], webhook_url, workdir=workdir)
    state_path = kdir / "state.json"
    try:
        stack.start()
        state = {"pid": os.getpid(), "prometheus_url": stack.prometheus_url, "alertmanager_url": stack.alertmanager_url,
                 "alertmanager_config": str(stack.alertmanager_config_path), "workdir": str(workdir),
                 "webhook_url": webhook_url, "watch_pid": watch_pid, "prometheus_pid": stack.pids[0],
                 "alertmanager_pid": stack.pids[1]}
        atomic_write(state_path, json.dumps(state, indent=2) + "\n")
        print(f"keeper: Prometheus {stack.prometheus_url}, Alertmanager {stack.alertmanager_url}", flush=True)
        while not stop.wait(0.2):
            if watch_pid and not pid_alive(watch_pid):
                print(f"keeper: watched pid {watch_pid} is gone: stopping", flush=True)
                break
            dead = [p.name for p in (stack.prometheus, stack.alertmanager) if p and p.popen.poll() is not None]
            if dead:
                print(f"keeper: {', '.join(dead)} exited: stopping", file=sys.stderr, flush=True)
                return 1
        return 0
    except InfrastructureError as exc:
        print(f"keeper: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        state_path.unlink(missing_ok=True)
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"keeper: stopped at {time.strftime('%H:%M:%S')}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gameday.monitoring.keeper", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--webhook-url", help="Alertmanager's receiver (default: none until a drill sets one)")
    parser.add_argument("--watch-pid", type=int, help="stop when this process is gone (the demo's supervisor)")
    args = parser.parse_args(argv)
    sys.exit(run(args.state_dir, args.webhook_url, args.watch_pid))


if __name__ == "__main__":
    main()
