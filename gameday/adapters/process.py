"""Built-in faults on local processes, found through ``/proc`` (Linux).

A process is found by its ``pid_file`` or by a ``command`` regular expression searched
in ``/proc/PID/cmdline`` (arguments joined by spaces). More than one match is refused,
and so is none. The start time (field 22 of ``/proc/PID/stat``) is recorded with the pid
so that a recycled pid is never signalled, and a pid file older than its process is
taken as stale (the pid was reused). Zombies count as gone.

* :class:`ProcessInjector` ``kill`` sends a signal; its rollback starts the selector's
  ``restart`` argv again, detached, and waits until the process is found again. A kill
  without ``restart`` is refused at construction: no fault without a way back.
* :class:`ProcessInjector` ``stop`` sends SIGSTOP; its rollback sends SIGCONT.
* :class:`ProcessRestarter` is the ``restart`` runbook: SIGCONT, SIGTERM, SIGKILL after a
  grace period, then start again.

Every step is reported as an :class:`~gameday.ports.ActivityRun` (provider ``signal``
or ``restart``).
"""

from __future__ import annotations

import os
import re
import signal as signals
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.clock import Clock, SystemClock
from gameday.errors import ConfigError, InjectionError
from gameday.model.scenario import ProcessSelector
from gameday.ports import ActivityPhase, ActivityRun, ActivityStatus, InjectionResult, LedgerSpec, ProcessRollback

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcInfo:
    """A process as ``/proc/PID/stat`` shows it: ``state`` R, S, D, T (stopped), Z (zombie), ..."""

    pid: int
    start_time: int
    state: str


def proc_info(pid: int) -> ProcInfo | None:
    """The process ``pid``, or None if it does not exist."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    fields = raw.rpartition(")")[2].split()  # comm may hold spaces and parentheses
    try:
        return ProcInfo(pid=pid, start_time=int(fields[19]), state=fields[0])
    except (IndexError, ValueError):
        return None


def alive(pid: int | None, start_time: int | None = None) -> ProcInfo | None:
    """The process if it runs (zombies count as gone) and, if given, started at ``start_time``."""
    if not pid:
        return None
    info = proc_info(pid)
    if info is None or info.state in ("Z", "X", "x"):
        return None
    if start_time is not None and info.start_time != start_time:
        return None
    return info


def cmdline(pid: int) -> str:
    """The command line of ``pid``, arguments joined by spaces ('' if unreadable)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def started_epoch(info: ProcInfo) -> float | None:
    """Wall-clock start of a process (to within a second: boot time is whole seconds)."""
    try:
        btime = next(int(line.split()[1]) for line in (PROC / "stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return btime + info.start_time / os.sysconf("SC_CLK_TCK")


def resolve_selector(selector: ProcessSelector | dict[str, Any]) -> ProcessSelector:
    """A selector with absolute ``pid_file`` and ``cwd`` (relative ones are taken from the current folder)."""
    sel = selector if isinstance(selector, ProcessSelector) else ProcessSelector.model_validate(selector)
    cwd = Path(sel.cwd).resolve() if sel.cwd else Path.cwd()
    pid_file = str((cwd / sel.pid_file).resolve()) if sel.pid_file else None
    return sel.model_copy(update={"pid_file": pid_file, "cwd": str(cwd)})


def describe(sel: ProcessSelector) -> str:
    parts = [f"pid file {sel.pid_file}" if sel.pid_file else "", f"command /{sel.command}/" if sel.command else ""]
    return " and ".join(p for p in parts if p)


def find_pids(sel: ProcessSelector) -> list[int]:
    """Pids of running processes matching the selector (zombies and this process excluded)."""
    pattern = re.compile(sel.command) if sel.command else None
    if sel.pid_file:
        try:
            pid = int(Path(sel.pid_file).read_text().strip())
            written = Path(sel.pid_file).stat().st_mtime
        except (OSError, ValueError):
            return []
        info = alive(pid)
        if info is None or (pattern and not pattern.search(cmdline(pid))):
            return []
        started = started_epoch(info)
        if started is not None and started > written + 1.5:
            return []  # a stale pid file whose pid now belongs to a younger process
        return [pid]
    assert pattern is not None
    me, found = os.getpid(), []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        line = cmdline(pid)
        if line and pattern.search(line) and alive(pid):
            found.append(pid)
    return sorted(found)


def locate(name: str, sel: ProcessSelector) -> ProcInfo:
    """The one running process of ``sel``; :class:`InjectionError` if none or more than one."""
    pids = find_pids(sel)
    if len(pids) > 1:
        listed = ", ".join(map(str, pids))
        raise InjectionError(f"process {name!r}: {describe(sel)} matches {len(pids)} processes ({listed}); refusing to guess")
    info = alive(pids[0]) if pids else None
    if info is None:
        raise InjectionError(f"process {name!r}: no running process matches {describe(sel)}")
    return info


def _wait(predicate: Any, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class _Steps:
    """Records ActivityRuns with the injector's clock."""

    def __init__(self, clock: Clock, phase: ActivityPhase):
        self.clock, self.phase = clock, phase
        self.runs: list[ActivityRun] = []

    def run(self, name: str, provider: str, fn: Any) -> bool:
        started = self.clock.now()
        try:
            output, error = fn(), None
        except InjectionError as exc:
            output, error = "", str(exc)
        except Exception as exc:  # noqa: BLE001 - an OSError, or a bug: reported, never raised into the conductor
            output, error = "", f"{type(exc).__name__}: {exc}"
        status: ActivityStatus = "failed" if error else "succeeded"
        duration = self.clock.now() - started
        self.runs.append(ActivityRun(name, self.phase, provider, status, started, duration, output or "", error))
        return error is None

    def result(self, spec: LedgerSpec | None) -> InjectionResult:
        failed = [r for r in self.runs if r.status == "failed"]
        return InjectionResult(ok=not failed, runs=list(self.runs), error=failed[0].error if failed else None, rollback=spec)


class _Starter:
    """Starts a selector's ``restart`` argv detached and waits until it is found again."""

    def __init__(self, name: str, sel: ProcessSelector, log_dir: Path | None, start_timeout: float):
        self.name, self.sel, self.start_timeout = name, sel, start_timeout
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        self.log = str(Path(log_dir or tempfile.gettempdir()) / f"gameday-restart-{safe}.log")
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self) -> str:
        """Start the process unless it already runs (the caller made sure the old one is gone)."""
        pids = find_pids(self.sel)
        if len(pids) == 1:
            return f"already running as pid {pids[0]}; not started again"
        if len(pids) > 1:
            listed = ", ".join(map(str, pids))
            raise InjectionError(f"process {self.name!r}: {len(pids)} processes match ({listed}); not starting another")
        assert self.sel.restart
        Path(self.log).parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            child = subprocess.Popen(
                self.sel.restart, cwd=self.sel.cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )  # fmt: skip
        self.children = [c for c in self.children if c.poll() is None] + [child]  # reap earlier ones
        found: list[int] = []

        def up() -> bool:
            found[:] = find_pids(self.sel)
            return bool(found) or child.poll() is not None

        _wait(up, self.start_timeout, 0.05)
        if found:
            return f"started {' '.join(self.sel.restart)} (pid {found[0]}); log {self.log}"
        code = child.poll()
        if code is not None:
            raise InjectionError(
                f"restart of {self.name!r} exited with status {code} before the process was found; see {self.log}"
            )
        raise InjectionError(
            f"restart of {self.name!r}: no process matching {describe(self.sel)} after {self.start_timeout:g}s; see {self.log}"
        )


class ProcessInjector:
    """Kills (``kill``) or stops (``stop``) one local process; rollback restarts or continues it.

    Thread-safe: inject and rollback are serialised. ``ledger_spec()`` gives the
    JSON-serialisable spec the fault ledger stores (also returned as ``result.rollback``).
    """

    def __init__(
        self,
        name: str,
        selector: ProcessSelector | dict[str, Any],
        action: str,
        signal: str = "SIGKILL",
        *,
        owner: str = "",
        clock: Clock | None = None,
        log_dir: Path | None = None,
        start_timeout: float = 10.0,
        gone_timeout: float = 5.0,
    ):
        if action not in ("kill", "stop"):
            raise ConfigError(f"process {name!r}: unknown action {action!r} (kill or stop)")
        if signal not in ("SIGKILL", "SIGTERM", "SIGINT"):
            raise ConfigError(f"process {name!r}: unsupported signal {signal!r}")
        self.name, self.action, self.signal, self.owner = name, action, signal, owner
        self.sel = resolve_selector(selector)
        if action == "kill" and not self.sel.restart:
            raise ConfigError(
                f"process {name!r}: a 'kill' fault needs 'restart' (the argv that starts it again): no fault without a way back"
            )
        self.clock = clock or SystemClock()
        self.gone_timeout = gone_timeout
        self._starter = _Starter(name, self.sel, log_dir, start_timeout)
        self._lock = threading.RLock()
        self.pid: int | None = None
        self.start_time: int | None = None

    @classmethod
    def from_spec(cls, spec: ProcessRollback, *, clock: Clock | None = None) -> ProcessInjector:
        """Rebuild an injector from a ledger spec (see :meth:`ledger_spec`), e.g. in ``gameday recover``."""
        inj = cls(spec.name, spec.selector, spec.action, spec.signal, owner=spec.owner, clock=clock,
                  log_dir=Path(spec.log).parent if spec.log else None)  # fmt: skip
        inj.pid, inj.start_time = spec.pid, spec.start_time
        return inj

    def ledger_spec(self) -> ProcessRollback:
        """What the fault ledger needs to roll this fault back from another process."""
        with self._lock:
            return ProcessRollback(
                name=self.name, owner=self.owner, action=self.action, signal=self.signal, pid=self.pid,
                start_time=self.start_time, restart=list(self.sel.restart or []), cwd=self.sel.cwd,
                log=self._starter.log, selector=self.sel,
            )  # fmt: skip

    def locate(self) -> ProcInfo:
        """The target process now; :class:`InjectionError` if it is not exactly one."""
        return locate(self.name, self.sel)

    def inject(self) -> InjectionResult:
        """Send the signal (SIGSTOP for ``stop``) to the one matching process."""
        with self._lock:
            steps = _Steps(self.clock, "method")
            sig = "SIGSTOP" if self.action == "stop" else self.signal
            steps.run(f"{sig} {self.name}", "signal", lambda: self._send(sig))
            return steps.result(self.ledger_spec())

    def _send(self, sig: str) -> str:
        info = self.locate()
        self.pid, self.start_time = info.pid, info.start_time
        os.kill(info.pid, getattr(signals, sig))
        if sig == "SIGSTOP":
            ok = _wait(lambda: (i := alive(info.pid, info.start_time)) is None or i.state in ("T", "t"), 1.0)
            return f"pid {info.pid} stopped" if ok else f"pid {info.pid} signalled; not yet seen stopped"
        if info.state in ("T", "t") and sig != "SIGKILL":
            os.kill(info.pid, signals.SIGCONT)  # a stopped process would hold the signal pending
        gone = _wait(lambda: alive(info.pid, info.start_time) is None, self.gone_timeout)
        return f"pid {info.pid} {'exited' if gone else f'still running {self.gone_timeout:g}s after'} {sig}"

    def rollback(self) -> InjectionResult:
        """``stop``: SIGCONT (a no-op if the process is gone). ``kill``: start it again unless it runs. Idempotent."""
        with self._lock:
            steps = _Steps(self.clock, "rollback")
            if self.action == "stop":
                steps.run(f"SIGCONT {self.name}", "signal", self._continue)
            else:
                steps.run(f"restart {self.name}", "restart", self._restart)
            return steps.result(self.ledger_spec())

    def _continue(self) -> str:
        if self.pid is None:
            pids = find_pids(self.sel)
            if not pids:
                return f"no process matches {describe(self.sel)}; nothing to continue"
            if len(pids) > 1:
                listed = ", ".join(map(str, pids))
                raise InjectionError(
                    f"process {self.name!r}: {len(pids)} processes match ({listed}); not guessing which to continue"
                )
            info = alive(pids[0])
        else:
            info = alive(self.pid, self.start_time)
            if info is None:
                return f"pid {self.pid} no longer exists; nothing to continue"
        if info is None:
            return "process exited; nothing to continue"
        os.kill(info.pid, signals.SIGCONT)
        return f"pid {info.pid} continued"

    def _restart(self) -> str:
        if self.pid is not None and not _wait(lambda: alive(self.pid, self.start_time) is None, self.gone_timeout):
            raise InjectionError(f"pid {self.pid} still runs {self.gone_timeout:g}s after the fault; not starting a second copy")
        return self._starter.start()


class ProcessRestarter:
    """The ``restart`` runbook: stop the process (SIGCONT, SIGTERM, SIGKILL after ``grace``) and start it again."""

    def __init__(self, name: str, selector: ProcessSelector | dict[str, Any], *, owner: str = "", clock: Clock | None = None,
                 log_dir: Path | None = None, grace: float = 5.0, start_timeout: float = 10.0):  # fmt: skip
        self.name, self.owner, self.grace = name, owner, grace
        self.sel = resolve_selector(selector)
        if not self.sel.restart:
            raise ConfigError(f"process {name!r}: the restart runbook needs 'restart' (the argv that starts it)")
        self.clock = clock or SystemClock()
        self._starter = _Starter(name, self.sel, log_dir, start_timeout)
        self._lock = threading.Lock()

    def run(self) -> InjectionResult:
        with self._lock:
            steps = _Steps(self.clock, "runbook")
            if steps.run(f"stop {self.name}", "signal", self._stop):
                steps.run(f"start {self.name}", "restart", self._starter.start)
            return steps.result(None)

    def _stop(self) -> str:
        if not find_pids(self.sel):
            return "not running"
        info = locate(self.name, self.sel)
        for sig in (signals.SIGCONT, signals.SIGTERM):
            os.kill(info.pid, sig)
        if _wait(lambda: alive(info.pid, info.start_time) is None, self.grace):
            return f"pid {info.pid} exited on SIGTERM"
        os.kill(info.pid, signals.SIGKILL)
        if not _wait(lambda: alive(info.pid, info.start_time) is None, 5.0):
            raise InjectionError(f"pid {info.pid} survived SIGKILL")
        return f"pid {info.pid} killed after {self.grace:g}s grace"
