"""Child processes of the demo supervisor, and pid helpers shared with :mod:`gameday.demo.control`.

A :class:`Child` is one demo service: how to start it, its reserved port, its pid file,
its log. The supervisor is its parent and reaps it; it is never restarted automatically.
"""

from __future__ import annotations

import contextlib
import os
import signal as _signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.adapters.pids import pid_alive, proc_state  # noqa: F401 - the demo imports them from here
from gameday.demo.httpkit import HTTPFailure, Pool, reserve_port


def package_root() -> str:
    """The folder holding the ``gameday`` package, for children's ``PYTHONPATH``."""
    return str(Path(__file__).resolve().parents[2])


def child_env() -> dict[str, str]:
    """The environment for demo processes: ours, unbuffered, able to import gameday."""
    env = dict(os.environ)
    root = package_root()
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([root, *[p for p in parts if p != root]])
    env["PYTHONUNBUFFERED"] = "1"
    return env



def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` is dead (or a zombie); True if it went within ``timeout``."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def signal_number(name: str | int) -> int:
    """``"SIGKILL"``, ``"KILL"``, ``"9"`` or ``9`` → 9; ValueError for anything else."""
    if isinstance(name, int) or str(name).isdigit():
        return int(name)
    text = str(name).upper()
    text = text if text.startswith("SIG") else f"SIG{text}"
    try:
        return int(getattr(_signal.Signals, text))
    except AttributeError:
        raise ValueError(f"unknown signal {name!r}") from None


class Child:
    """One supervised demo service."""

    def __init__(self, name: str, role: str, module: str, args: Callable[[Child], list[str]], run_dir: Path, log_dir: Path,
                 health: str | None = "/health", listens: bool = True):
        self.name, self.role, self.module, self._args = name, role, module, args
        self.health = health
        self.reserved = reserve_port() if listens else None
        self.port: int | None = self.reserved.getsockname()[1] if self.reserved else None
        self.url = f"http://127.0.0.1:{self.port}" if self.port else None
        self.pid_file = run_dir / f"{name}.pid"
        self.log_file = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.stopped = False
        self.exit_code: int | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def running(self) -> bool:
        """Alive (running or stopped); reaps the process if it has exited."""
        if self.popen is None:
            return False
        code = self.popen.poll()
        if code is None:
            return True
        if self.exit_code is None or self.stopped:
            self.exit_code, self.stopped = code, False
            self.pid_file.unlink(missing_ok=True)
        return False

    def state(self) -> str:
        return "stopped" if self.running() and self.stopped else ("running" if self.running() else "dead")

    def started(self) -> bool:
        """Started at least once (so an exit is news)."""
        return self.popen is not None

    def interpreter(self) -> list[str]:
        """What runs ``python -m``: this interpreter."""
        return [sys.executable]

    def service_argv(self) -> list[str]:
        """The service's arguments after the interpreter: ``-m MODULE ARGS... [--port N]``."""
        argv = ["-m", self.module, *self._args(self)]
        return [*argv, "--port", str(self.port)] if self.port is not None else argv

    def write_pid(self, pid: int) -> None:
        tmp = self.pid_file.with_suffix(".pid.tmp")
        tmp.write_text(f"{pid}\n")
        os.replace(tmp, self.pid_file)

    def start(self) -> None:
        """Spawn the service (not waiting for it); its pid goes to the pid file."""
        argv = [*self.interpreter(), *self.service_argv(), "--parent-pid", str(os.getpid())]
        with open(self.log_file, "ab") as log:
            log.write(f"--- start {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv[1:])}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=child_env(),
                                          close_fds=True)
        self.stopped, self.exit_code = False, None
        self.starts += 1
        self.write_pid(self.popen.pid)

    def wait_ready(self, timeout: float) -> None:
        """Wait until the service answers HTTP (any status); RuntimeError if it died or took too long."""
        deadline = time.monotonic() + timeout
        pool = Pool(self.url) if self.url and self.health else None
        while True:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with code {self.exit_code} during start-up (see {self.log_file})")
            if pool is None:
                return
            try:
                pool.request("GET", self.health or "/", timeout=0.25)
                pool.close()
                return
            except HTTPFailure:
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{self.name} did not answer on {self.url} within {timeout:g}s (see {self.log_file})")
            time.sleep(0.02)

    def send(self, signum: int) -> None:
        """Send a signal; keeps track of SIGSTOP/SIGCONT. ProcessLookupError if not running."""
        if not self.running() or self.popen is None:
            raise ProcessLookupError(self.name)
        self.popen.send_signal(signum)
        if signum == _signal.SIGSTOP:
            self.stopped = True
        elif signum == _signal.SIGCONT:
            self.stopped = False
        elif self.stopped and signum in (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT):
            self.popen.send_signal(_signal.SIGCONT)  # let a stopped process act on the signal
            self.stopped = False

    def wait_exit(self, timeout: float) -> bool:
        """Wait for the process to exit and reap it; True if it did."""
        if self.popen is None:
            return True
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self.running()
        return True

    def terminate(self, grace: float = 2.0) -> None:
        """SIGTERM (after SIGCONT if stopped), then SIGKILL after ``grace``; always reaped."""
        if not self.running():
            return
        try:
            self.send(_signal.SIGTERM)
        except ProcessLookupError:
            return
        if not self.wait_exit(grace):
            with contextlib.suppress(ProcessLookupError):
                self.send(_signal.SIGKILL)
            self.wait_exit(5.0)

    def info(self) -> dict[str, Any]:
        """This child's entry in ``state.json``."""
        return {"pid": self.pid, "pid_file": str(self.pid_file), "port": self.port, "url": self.url, "role": self.role}

    def close(self) -> None:
        if self.reserved is not None:
            self.reserved.close()
            self.reserved = None
