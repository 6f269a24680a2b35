"""A helper process that runs Chaos Toolkit activities in their own folder.

Why a process: Chaos Toolkit activities are written for ``chaos run`` started in the experiment's
folder, so their relative paths (a python provider's ``path: data/cache.json``, a module's own
``open("state.json")``, a process provider's ``path: ./scripts/x.sh``) mean *that* folder. A
process has one working folder, and gameday's is shared by the conductor's threads (probes,
webhook intake, journal, control room): ``os.chdir`` would move it under all of them. So the
activities of a folder run in a child process started with ``cwd`` set to it; gameday's own
working folder never changes. See :mod:`gameday.adapters.chaostoolkit` for the rules.

:class:`ActivityHost` is the parent's side: it starts the child on first use (or ahead, with
:meth:`~ActivityHost.warm`), sends one activity at a time, and can :meth:`~ActivityHost.kill` it
(a timed-out activity really stops, with everything it started: the child leads its own process
group). A host that died or was killed is started afresh for the next activity.

Starting a child costs ~0.3 s (Python and chaoslib's imports), which a fault at 0 s would wait
for. :func:`prestart` starts blank children early, while gameday is still setting up (it has its
own imports to do); a host takes a blank child when it has one and sends it its folder first
(``{"setup": {"folder", "path"}}``: the child changes to the folder and sets its module search
path), else it starts one. Leftover blank children end with gameday (their stdin closes).

The child (:func:`main`, ``python -P -m gameday.adapters.activity_host``) reads one JSON request per
line on stdin — ``{"activity", "configuration", "secrets"}`` (configuration and secrets already
resolved by the parent; they travel through the pipe, never through a file) — runs it with
``chaoslib.activity.run_activity`` and answers one JSON line, ``{"output": ...}`` or ``{"error":
"...", "type": "ExceptionName"}``, on a private copy of its stdout (what an activity prints goes
to the child's stderr, a temporary file whose tail explains a child that died). Its module search
path is gameday's (``sys.path``) and then the folder; ``-P`` keeps the folder from coming first
(a ``json.py`` beside an experiment must not shadow the standard library). It ends when its stdin
closes, so it never outlives gameday.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import IO, Any

__all__ = ["ActivityHost", "HostActivityError", "HostError", "module_path"]

STDERR_TAIL = 600


class HostError(Exception):
    """The helper process failed (did not start, died, was killed): not the activity's own error."""


class HostActivityError(Exception):
    """The activity raised in the helper process: ``type_name`` is its exception's class name."""

    def __init__(self, type_name: str, message: str):
        super().__init__(message)
        self.type_name = type_name


def module_path(folder: Path | None) -> list[str]:
    """gameday's module search path, then ``folder`` (if any): the child's ``PYTHONPATH``."""
    paths: list[str] = []
    for entry in [*sys.path, *([str(folder)] if folder is not None else [])]:
        full = os.path.abspath(entry or os.getcwd())
        if full not in paths:
            paths.append(full)
    return paths


def _close(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
    """End a child: close its stdin (it exits by itself), give it a moment, then kill its group."""
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
    for stream in (proc.stdout, stderr):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()


_SPARES: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
_SPARES_LOCK = threading.Lock()


def _spawn(folder: Path | None) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start a child (in ``folder``, else in gameday's working folder: it is told its folder first)."""
    cwd = folder if folder is not None else Path.cwd()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(module_path(cwd) if folder is not None else module_path(None))}
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child, closed by _close
    try:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "gameday.adapters.activity_host"], cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True,
        )
    except OSError as exc:
        stderr.close()
        raise HostError(f"cannot start the activity process in {cwd}: {exc.strerror or exc}") from None
    return proc, stderr


def prestart(count: int) -> None:
    """Have ``count`` blank children ready for the hosts to take: start the missing ones now (each
    imports chaoslib while gameday sets up), or end the ones beyond ``count`` (a guess that was too
    high gives its CPU back). A failure to start is left for the first activity to meet. Those left
    over end with gameday (their stdin closes)."""
    with _SPARES_LOCK:
        extra = _SPARES[max(0, count):]
        del _SPARES[max(0, count):]
        missing = max(0, count - len(_SPARES))
    for proc, stderr in extra:
        _close(proc, stderr)
    for _ in range(missing):
        try:
            spare = _spawn(None)
        except HostError:
            return
        with _SPARES_LOCK:
            _SPARES.append(spare)


def _take_spare() -> tuple[subprocess.Popen[bytes], IO[bytes]] | None:
    """A blank child still running, or None."""
    with _SPARES_LOCK:
        while _SPARES:
            proc, stderr = _SPARES.pop(0)
            if proc.poll() is None:
                return proc, stderr
            _close(proc, stderr)
    return None


class ActivityHost:
    """Runs activities, one at a time, in a child process whose working folder is ``folder``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._killed = False
        self._finalizer: weakref.finalize[Any, ActivityHost] | None = None
        self._modules: tuple[str, ...] = ()  # python providers' modules, imported by the child at set-up

    def _start(self) -> subprocess.Popen[bytes]:
        if not self.folder.is_dir():
            raise HostError(f"the activities' folder {self.folder} does not exist")
        proc, stderr = _take_spare() or _spawn(self.folder)
        self._proc, self._stderr, self._killed = proc, stderr, False
        self._finalizer = weakref.finalize(self, _close, proc, stderr)
        self._finalizer.atexit = False  # at exit gameday's end closes the pipe: the child ends by itself, unawaited
        try:
            self._ask(proc, {"setup": {"folder": str(self.folder), "path": module_path(self.folder),
                                       "modules": list(self._modules)}})
        except HostActivityError as exc:
            self.close()
            raise HostError(f"the activity process cannot work in {self.folder}: {exc}") from None
        return proc

    def warm(self, modules: tuple[str, ...] = ()) -> None:
        """Start the child now, if it is not running, so the first activity does not wait for it (~0.3 s),
        and have it import ``modules`` (the python providers' modules) in its folder; a failure to start
        (or to import) is left for that activity to report."""
        with self._lock, contextlib.suppress(HostError):
            self._modules = tuple(dict.fromkeys((*self._modules, *modules)))
            if self._proc is None or self._proc.poll() is not None:
                self._start()

    def run(self, activity: dict[str, Any], configuration: dict[str, Any], secrets: dict[str, Any]) -> Any:
        """The activity's output; :class:`HostActivityError` if it raised, :class:`HostError` if the child failed."""
        with self._lock:
            proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
            return self._ask(proc, {"activity": activity, "configuration": configuration, "secrets": secrets})

    def _ask(self, proc: subprocess.Popen[bytes], request: dict[str, Any]) -> Any:
        """Send one request line and read its answer (the caller holds the lock)."""
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(request, default=str).encode() + b"\n")
            proc.stdin.flush()
            answer = proc.stdout.readline()
        except (BrokenPipeError, ValueError, OSError):  # ValueError: closed by kill() meanwhile
            answer = b""
        if not answer:
            raise HostError(self._gone(proc))
        try:
            data = json.loads(answer)
        except ValueError:
            raise HostError(f"the activity process answered garbage: {answer[:200]!r}") from None
        if "error" in data:
            raise HostActivityError(str(data.get("type") or "Exception"), str(data["error"]))
        return data.get("output")

    def _gone(self, proc: subprocess.Popen[bytes]) -> str:
        """Why the child stopped answering (and forget it: the next activity starts a new one)."""
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if self._killed:
            why = "its process was stopped"
        else:
            why = f"the activity process ended (exit status {code})" + self._stderr_tail()
        self.close()
        return why

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - STDERR_TAIL))
            tail = self._stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return f": {' '.join(tail.split())}" if tail else ""

    def kill(self) -> None:
        """Stop the child now, with everything it started (a timed-out activity); safe from any thread."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            self._killed = True
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)

    def close(self) -> None:
        """End the child (it finishes the activity it runs, if any). The next :meth:`run` starts another."""
        finalizer, self._finalizer, self._proc, self._stderr = self._finalizer, None, None, None
        if finalizer is not None:
            finalizer()


# ------------------------------------------------------------------------------ the child
def _quiet_chaoslib() -> None:
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from chaoslib import log

    override = getattr(log, "override_logzero_module", None)
    if override is not None:
        override()
    for name in ("chaostoolkit", "chaostoolkit-lib"):
        logging.getLogger(name).addHandler(logging.NullHandler())


def main() -> None:
    """The child: answer each request line on stdin until it closes."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what activities print goes to stderr, never between answers
    _quiet_chaoslib()
    from chaoslib.activity import run_activity

    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw)
            if "setup" in request:  # first, always: the folder to work in and the module search path
                os.chdir(request["setup"]["folder"])
                sys.path[:] = [p for p in request["setup"]["path"] if p]
                for module in request["setup"].get("modules", []):  # ahead of the first activity
                    with contextlib.suppress(Exception):  # its error is the activity's to report
                        importlib.import_module(module)
                output = None
            else:
                output = run_activity(request["activity"], request["configuration"], request["secrets"])
            text = json.dumps({"output": output}, default=str)
        except BaseException as exc:  # noqa: BLE001 - every failure of the activity is its answer
            text = json.dumps({"error": str(exc), "type": type(exc).__name__}, default=str)
        answers.write(text.encode() + b"\n")
        answers.flush()


if __name__ == "__main__":
    main()
