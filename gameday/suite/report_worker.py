"""A CI suite's report writer: a helper process that writes each played drill's reports.

Why a process: a drill's reports (scoring, scorecard, postmortem, JUnit, findings) cost ~15-20 ms
of Python CPU. In a thread of the suite's process they would hold the interpreter lock while the
next drill is set up and checks its steady state; in their own process they run on another CPU
while that drill plays. The reports are the same bytes: the child calls the same
:meth:`~gameday.drill.assemble.PlayedDrill.report` on the journal the drill wrote.

:class:`ReportWriter` is the suite's side. It starts the child when the suite starts (its imports
and template compiling happen while the first drill plays), sends one :class:`ReportJob` per line,
and reads one :class:`ReportDone` line: the drill's exit code and the lines its reports print, which
the suite prints in order. If the child cannot start, dies or answers garbage, that drill's
reports (and every later one's) are written in the suite's own process instead: no report is lost.

The child (``python -P -m gameday.suite.report_worker``) ignores SIGINT and SIGTERM (a Ctrl-C
reaches the whole process group: the suite handles it; the child finishes the report it writes)
and leads its own session; it ends when its stdin closes, so it never outlives the suite.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import BaseModel

from gameday.drill.context import Echo
from gameday.drill.reports import Outputs
from gameday.errors import EXIT_ABORTED, GamedayError
from gameday.model.textsafe import neutralise

if TYPE_CHECKING:
    from gameday.drill.assemble import PlayedDrill

__all__ = ["ReportDone", "ReportJob", "ReportWriter"]

STDERR_TAIL = 400


class ReportJob(BaseModel):
    """One drill's reports to write (a :class:`~gameday.drill.assemble.PlayedDrill`, field by field)."""

    outputs: Outputs
    mode: str
    outcome: str
    reason: str | None
    templates_dir: Path | None


class ReportDone(BaseModel):
    """What writing them came to: the exit code and printed lines, or the error that stopped them."""

    code: int | None = None
    lines: list[str] = []
    error: str | None = None
    error_type: str | None = None
    exit_code: int = EXIT_ABORTED


class ReportFailed(GamedayError):
    """Writing a drill's reports failed in the helper process with a gameday error (its class and exit code kept)."""

    def __init__(self, message: str, type_name: str, exit_code: int):
        super().__init__(message)
        self.type_name = type_name
        self.exit_code = exit_code


def _job(played: PlayedDrill) -> ReportJob:
    return ReportJob(outputs=played.outputs, mode=played.mode, outcome=played.outcome, reason=played.reason,
                     templates_dir=played.templates_dir)


def _played(job: ReportJob) -> PlayedDrill:
    from gameday.drill.assemble import PlayedDrill

    return PlayedDrill(job.outputs, job.mode, job.outcome, job.reason, job.templates_dir)


class ReportWriter:
    """Writes played drills' reports in the helper process (in this one if it fails); one caller at a time."""

    def __init__(self, templates_dir: Path | None) -> None:
        self._templates_dir = templates_dir
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.fallback: str | None = None  # why the reports are written in this process, once they are
        self._told = False

    def start(self) -> None:
        """Start the helper process now (a failure means the reports are written in this process)."""
        from gameday.adapters.activity_host import module_path

        with self._lock:
            if self._proc is not None or self.fallback is not None:
                return
            stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child, closed by close()
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(module_path(None))}
            args = [sys.executable, "-P", "-m", "gameday.suite.report_worker"]
            if self._templates_dir is not None:
                args.append(str(self._templates_dir))
            try:
                self._proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=stderr, start_new_session=True)
            except OSError as exc:
                stderr.close()
                self.fallback = f"the report process did not start: {exc.strerror or exc}"
                return
            self._stderr = stderr

    def write(self, played: PlayedDrill, echo: Echo) -> int:
        """Write ``played``'s reports and print their lines through ``echo``; the drill's exit code.
        Raises what :meth:`PlayedDrill.report <gameday.drill.assemble.PlayedDrill.report>` raises."""
        self.start()
        with self._lock:
            done = self._ask(played) if self.fallback is None else None
        if done is None:  # no helper process (or it failed on this drill): written here, the same bytes
            if not self._told:
                self._told = True
                echo(f"suite: {neutralise(self.fallback or '', keep='')}; reports are written in the suite's process")
            return played.report(echo)
        for line in done.lines:
            echo(line)
        if done.error is not None:
            raise ReportFailed(done.error, done.error_type or "Exception", done.exit_code)
        assert done.code is not None
        return done.code

    def _ask(self, played: PlayedDrill) -> ReportDone | None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(_job(played).model_dump_json().encode() + b"\n")
            proc.stdin.flush()
            answer = proc.stdout.readline()
        except (OSError, ValueError):
            answer = b""
        try:
            return ReportDone.model_validate_json(answer)
        except ValueError:
            self.fallback = ("the report process ended" if not answer else "the report process answered garbage") + \
                self._tail()
            self._end()
            return None

    def _tail(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, self._stderr.tell() - STDERR_TAIL))
            tail = " ".join(self._stderr.read().decode(errors="replace").split())
            return f": {tail}" if tail else ""
        return ""

    def _end(self) -> None:
        proc, stderr, self._proc, self._stderr = self._proc, self._stderr, None, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()
            try:
                proc.wait(timeout=10)  # it finishes the report it is writing, then sees its stdin closed
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=2)
            with contextlib.suppress(OSError):
                if proc.stdout is not None:
                    proc.stdout.close()
        if stderr is not None:
            stderr.close()

    def close(self) -> None:
        """End the helper process (after the report it writes, if any)."""
        with self._lock:
            self._end()


# ------------------------------------------------------------------------------ the child
def main() -> None:
    """The child: write the reports of each job line on stdin, answer one line each, until stdin closes."""
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never between answers
    templates_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with contextlib.suppress(Exception):  # a head start only: a failure is the first report's to meet
        from gameday.drill.reports import warm_up

        warm_up(templates_dir)
    for raw in sys.stdin.buffer:
        lines: list[str] = []
        try:
            job = ReportJob.model_validate_json(raw)
            done = ReportDone(code=_played(job).report(lines.append), lines=lines)
        except GamedayError as exc:
            done = ReportDone(lines=lines, error=str(exc), error_type=type(exc).__name__, exit_code=exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the suite reports it as this drill's internal error
            done = ReportDone(lines=lines, error=f"internal error: {type(exc).__name__}: {exc}", error_type="internal")
        answers.write(done.model_dump_json().encode() + b"\n")
        answers.flush()
    os._exit(0)  # every answer is sent, every report written (atomically): no interpreter teardown to wait for


if __name__ == "__main__":
    main()
