"""Load during a drill: locust drives traffic from the baseline phase until the rollback.

A drill service (built by :mod:`gameday.drill.assemble`): :func:`service_for` returns a
:class:`LoadService` when the scenario has a ``load:`` section. locust always runs as
subprocesses (a standalone process, or a master and N workers on loopback), each in its
own session, at idle CPU priority by default (``load.priority``) and, on a machine with two
or more CPUs, off the conductor's CPU (``load.cpus``, default ``auto``: every CPU the
conductor may use but the lowest; see :mod:`gameday.model.cpus`) — the conductor's timing
comes first. The command lines and the stats format live in :mod:`gameday.adapters.locust`.

Timeline, all journaled with source ``load``:

* phase ``baseline`` → a thread resolves the locustfile, checks that the host answers
  (TCP connect), starts locust and journals ``LoadStarted`` (``cpus``: where locust runs, with
  ``cpus_note``; a placement that could not be honoured, e.g. on one CPU, is also echoed);
  then it follows the plugin's per-second stats file and journals one ``LoadStats`` per
  interval as it arrives.
* a locust process exits on its own (crash, kill, bad locustfile) → ``LoadFailed`` with
  its exit code and the tail of its log; the rest are killed; the drill goes on (a load
  failure is not a system failure) and the impact from then on is *unknown*. No restart.
* phase ``rollback`` (recovery is over) → another thread stops locust: SIGTERM to the
  master (locust writes its final figures), then the workers; SIGKILL to every process
  group still there after a grace period; the last stats are journaled, then ``LoadStopped``
  with locust's own final totals. :meth:`LoadService.stop` (the composition root calls it when the
  drill is over, whatever happened) does the same if the rollback never came, waits a
  bounded time, and always sweeps the process groups: no locust survives the drill.

Phase listeners run in the conductor's thread under its lock: they only start threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from gameday.adapters import locust as adapter
from gameday.model.events import LoadError, LoadFailed, LoadStage, LoadStarted, LoadStopped, Payload, Totals

if TYPE_CHECKING:
    from gameday.drill.context import DrillContext
    from gameday.model.load import Business, Load

SOURCE = "load"
STOP_GRACE = 6.0  # seconds for locust to quit on SIGTERM before SIGKILL
POLL = 0.1  # seconds between looks at the stats file and the processes
HOST_TIMEOUT = 2.0
SAFETY_MARGIN = 60.0  # locust's own -t limit: the drill's guardrail plus this


def service_for(ctx: DrillContext) -> LoadService | None:
    """A load service when the scenario has ``load:``; None otherwise."""
    if ctx.scenario.load is None:
        return None
    return LoadService(ctx)


def effective_business(ctx: DrillContext) -> Business | None:
    """The scenario's ``business:``, else ``gameday.yaml``'s, else None."""
    return ctx.scenario.business or ctx.project.config.business


def resolve_locustfile(ref: str, base_dir: Path, root: Path) -> Path | None:
    """``demo`` is the demo shop's locustfile; a path resolves against the scenario's folder, then the root."""
    from gameday.loader import resolve_reference
    from gameday.model.load import DEMO_LOCUSTFILE

    if ref == DEMO_LOCUSTFILE:
        return adapter.DEMO_LOCUSTFILE
    return resolve_reference(ref, base_dir, root)


def check_host(url: str, timeout: float = HOST_TIMEOUT) -> str | None:
    """None if something accepts TCP connections at ``url``'s host and port, else why not."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return None
    except OSError as exc:
        return f"host {url} does not answer: {exc.strerror or exc}"


class LoadService:
    """locust for one drill. ``start()`` hooks the phases; ``stop()`` ends it (idempotent, bounded)."""

    def __init__(self, ctx: DrillContext):
        if ctx.scenario.load is None:
            raise ValueError("the scenario has no load: section")
        self.ctx = ctx
        self.load: Load = ctx.scenario.load
        self.business = effective_business(ctx)
        self.out_dir = Path(ctx.state_dir) / "load" / ctx.drill_id
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._procs: list[tuple[adapter.Proc, subprocess.Popen]] = []
        self._launcher: threading.Thread | None = None
        self._stopper: threading.Thread | None = None
        self._plan: adapter.Plan | None = None
        self._final: dict[str, Any] | None = None  # the plugin's "final" record, as parsed
        self._failed = False
        self._reaped: set[int] = set()

    # ------------------------------------------------------------------ service protocol
    def start(self) -> None:
        self.ctx.conductor.phase_listeners.append(self._on_phase)

    def stop(self) -> None:
        """Stop locust if it runs (journaling LoadStopped), wait a bounded time, kill what is left."""
        with contextlib.suppress(ValueError):
            self.ctx.conductor.phase_listeners.remove(self._on_phase)
        stopper = self.request_stop("end")
        stopper.join(STOP_GRACE + 10)
        if self._launcher is not None:
            self._launcher.join(HOST_TIMEOUT + 3)
        self._sweep()

    # ------------------------------------------------------------------ phases
    def _on_phase(self, phase: str) -> None:
        if phase == "baseline" and self._launcher is None and not self._stopping.is_set():
            self._launcher = threading.Thread(target=self._run, name="load", daemon=True)
            self._launcher.start()
        elif phase == "rollback":
            self.request_stop("rollback")

    def request_stop(self, reason: Literal["rollback", "end"]) -> threading.Thread:
        """Start stopping (once) in a thread of its own; return that thread."""
        with self._lock:
            if self._stopper is None:
                self._stopping.set()
                self._stopper = threading.Thread(target=self._stop, args=(reason,), name="load-stop", daemon=True)
                self._stopper.start()
            return self._stopper

    # ------------------------------------------------------------------ journal
    def _journal(self, payload: Payload) -> None:
        try:
            self.ctx.journal.append(payload, SOURCE)
        except Exception as exc:  # noqa: BLE001 - a closed journal must not crash a thread
            self._echo(f"load: could not journal {payload.KIND}: {exc}")

    def _echo(self, text: str) -> None:
        with contextlib.suppress(Exception):
            self.ctx.echo(text)

    def _fail(self, error: str, stage: Literal["start", "run"], *, role: str | None = None,
              exit_code: int | None = None) -> None:
        self._failed = True
        self._journal(LoadFailed(error=error, stage=stage, role=role, exit_code=exit_code))
        self._echo(f"load: {error}")

    # ------------------------------------------------------------------ launch and follow
    def _run(self) -> None:
        try:
            plan = self._prepare()
        except _NoLoad as exc:
            self._fail(str(exc), "start")
            return
        except Exception as exc:  # noqa: BLE001 - any start-up problem is a journaled load failure
            self._fail(f"could not start locust: {type(exc).__name__}: {exc}", "start")
            return
        with self._lock:
            if self._stopping.is_set():
                return
            try:
                for proc in plan.procs:
                    with open(proc.log, "wb") as log:
                        popen = subprocess.Popen(proc.argv, env=plan.env, cwd=self.out_dir, stdin=subprocess.DEVNULL,
                                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                    self._procs.append((proc, popen))
            except OSError as exc:
                self._kill_all(signal.SIGKILL)
                self._fail(f"could not start locust: {exc}", "start")
                return
            self._plan = plan
        self._journal(self._started(plan))
        if plan.placement is not None and plan.placement.warning:
            self._echo(f"load: {plan.placement.note}")
        self._follow(plan)

    def _prepare(self) -> adapter.Plan:
        load, loaded = self.load, self.ctx.loaded
        locustfile = loaded.locustfile or resolve_locustfile(
            load.locustfile, Path(loaded.base_dir), Path(loaded.project_root))
        if locustfile is None or not Path(locustfile).is_file():
            raise _NoLoad(f"locustfile {load.locustfile!r} not found")
        host = load.host or self.ctx.target_url
        if not host:
            raise _NoLoad("no host to load: give load.host (the target has no URL)")
        why = check_host(host)
        if why:
            raise _NoLoad(why)
        try:
            executable = adapter.locust_executable()
        except adapter.LocustNotFound as exc:
            raise _NoLoad(str(exc)) from None
        stages = [(s.after, s.users, s.spawn_rate) for s in load.stages]
        self._host, self._locustfile = host, Path(locustfile)
        return adapter.plan(locustfile=Path(locustfile), host=host, users=load.users, spawn_rate=load.spawn_rate,
                            out_dir=self.out_dir, workers=load.workers, stages=stages,
                            run_time=self.ctx.scenario.abort.max_duration + SAFETY_MARGIN, parent_pid=os.getpid(),
                            executable=executable, priority=load.priority, cpus=load.cpus)

    def _started(self, plan: adapter.Plan) -> LoadStarted:
        load, business = self.load, self.business
        unknown: list[str] = []
        if business is not None and business.customer_facing:
            try:
                found = adapter.request_names(self._locustfile.read_text(encoding="utf-8"), str(self._locustfile))
                if found.complete:
                    unknown = [n for n in business.customer_facing if n not in found.names]
            except (OSError, SyntaxError, ValueError):
                pass
        if unknown:
            self._echo(f"load: customer-facing request names not in the locustfile: {', '.join(unknown)}")
        return LoadStarted(
            tool="locust", users=load.users, spawn_rate=load.spawn_rate, workers=load.workers,
            host=self._host, locustfile=str(self._locustfile),
            stages=[LoadStage(after=s.after, users=s.users, spawn_rate=s.spawn_rate) for s in load.stages],
            business=business, unknown_customer_facing=unknown, interval=1.0, priority=load.priority,
            cpus=plan.placement.label if plan.placement else "all", cpus_setting=load.cpus,
            cpus_note=plan.placement.note if plan.placement else "",
            pids={proc.role: popen.pid for proc, popen in self._procs}, files=plan.files,
        )  # fmt: skip

    def _origin(self) -> float:
        """The raw ``time.monotonic()`` of drill offset 0 (locust's timestamps are raw; drill time may pause)."""
        journal = self.ctx.journal
        return journal.t0 + (time.monotonic() - journal.clock.now())

    def _follow(self, plan: adapter.Plan) -> None:
        """Journal each stats line as it arrives; notice a locust that dies on its own."""
        pos, buf = 0, b""
        while True:
            t0 = self._origin()
            pos, buf = self._read_stats(plan.stats_path, pos, buf, t0)
            exited = [(proc, popen) for proc, popen in self._procs if popen.poll() is not None]
            if self._stopping.is_set():
                if len(exited) == len(self._procs):
                    self._read_stats(plan.stats_path, pos, buf + b"\n" if buf else b"", t0)
                    return
            elif exited:
                proc, popen = exited[0]
                tail = _tail(proc.log)
                self._kill_all(signal.SIGKILL)
                self._read_stats(plan.stats_path, pos, buf, t0)
                self._fail(f"locust ({proc.role}) {_exit_text(popen.returncode)}" + (f": {tail}" if tail else ""),
                           "run", role=proc.role, exit_code=popen.returncode)
                return
            if self._stopping.is_set():
                time.sleep(POLL / 2)  # locust is shutting down: look again soon (wait() would return at once)
            else:
                self._stopping.wait(POLL)

    def _read_stats(self, path: Path, pos: int, buf: bytes, t0: float) -> tuple[int, bytes]:
        try:
            with open(path, "rb") as fh:
                fh.seek(pos)
                chunk = fh.read()
        except FileNotFoundError:
            return pos, buf
        pos += len(chunk)
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            rec = adapter.parse_stats_line(raw.decode("utf-8", "replace"))
            if rec is None:
                continue
            if rec["type"] == "interval":
                self._journal(adapter.journal_stats(rec, t0))
            elif rec["type"] == "final":
                self._final = rec
        return pos, buf

    # ------------------------------------------------------------------ stop
    def _stop(self, reason: Literal["rollback", "end"]) -> None:
        with self._lock:
            procs = list(self._procs)
        if procs:
            master = procs[0]
            _signal_group(master[1], signal.SIGTERM)
            _wait(master[1], STOP_GRACE)
            for _proc, popen in procs[1:]:
                if popen.poll() is None:
                    _signal_group(popen, signal.SIGTERM)
            deadline = time.monotonic() + 3.0
            for _proc, popen in procs[1:]:
                _wait(popen, max(0.0, deadline - time.monotonic()))
            self._kill_all(signal.SIGKILL)
        if self._launcher is not None and self._launcher is not threading.current_thread():
            self._launcher.join(HOST_TIMEOUT + 3)
        if procs and not self._failed:
            plan = self._plan
            totals = adapter.read_totals(plan.json_path) if plan else None
            final = self._final or {}
            self._journal(LoadStopped(
                reason=reason,
                totals=totals if totals is not None else _final_totals(final),
                totals_from="locust --json-file" if totals is not None else ("gameday plugin" if final else None),
                errors=_final_errors(final),
                exit_codes={proc.role: popen.returncode for proc, popen in procs},
            ))  # fmt: skip

    def _kill_all(self, sig: int) -> None:
        """Signal every process group we started (a group already killed and reaped is left alone:
        its pid may be reused), then reap the leaders."""
        live = [popen for _proc, popen in list(self._procs) if popen.pid not in self._reaped]
        for popen in live:
            _signal_group(popen, sig)
        for popen in live:
            _wait(popen, 2.0)
            if sig == signal.SIGKILL and popen.poll() is not None:
                self._reaped.add(popen.pid)

    def _sweep(self) -> None:
        """Last resort: SIGKILL every locust process group we started and reap the leaders."""
        self._kill_all(signal.SIGKILL)


def _final_totals(final: dict[str, Any]) -> dict[str, Totals] | None:
    """The plugin's whole-run figures per request name (None without a final record, or if it is not one)."""
    names = final.get("names")
    if not isinstance(names, dict):
        return None
    try:
        return {str(name): Totals.model_validate(figures) for name, figures in names.items()}
    except ValueError:  # a plugin from another release: the journal's LoadStats still have every interval
        return None


def _final_errors(final: dict[str, Any]) -> list[LoadError]:
    """locust's most frequent errors, as the plugin reported them (those it could not read are left out)."""
    errors = []
    for item in final.get("errors") or []:
        try:
            errors.append(LoadError.model_validate(item))
        except ValueError:
            continue
    return errors


class _NoLoad(Exception):
    """Load cannot start (journaled as LoadFailed)."""


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    """Signal the process group led by ``popen`` (its own session) — once: locust's SIGTERM handler
    writes its final figures, and a second SIGTERM would overwrite them with emptied stats."""
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                popen.send_signal(sig)


def _wait(popen: subprocess.Popen, timeout: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(max(0.0, timeout))


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _tail(log: Path, lines: int = 3, limit: int = 400) -> str:
    """The last meaningful lines of a locust log, on one line."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    keep = [ln.strip() for ln in text.splitlines() if ln.strip() and "/INFO/" not in ln][-lines:]
    return " | ".join(keep)[-limit:]
