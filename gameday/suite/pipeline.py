"""A CI suite's pipeline: a drill's reports are written while the next drill plays.

Writing a drill's reports (scoring, scorecard, postmortem, JUnit) takes ~15-20 ms of CPU, which the
next drill's set-up and injection should not share. So the suite hands each played drill to
:class:`ReportQueue`, one worker thread that has the reports of one drill after another written, in
order, each once a gate opens (the next drill is quiet) or a grace time has passed, and starts the
next drill at once. Nothing is lost: the suite joins the queue before it writes its JUnit file, and a
signal (handled in the main thread) never reaches the worker, so a report being written is finished.

The output stays in order (:class:`OrderedOutput`): each drill prints through its own slot; a slot's
lines are printed at once while every earlier slot is closed, and held until then otherwise, so a
drill's summary lines come before the next drill's, as in a sequential run (a line for a slot already
closed, which no caller sends today, is printed late rather than dropped).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from gameday.drill.context import Echo

__all__ = ["OrderedOutput", "ReportQueue"]


class OrderedOutput:
    """Lines from several slots, printed in slot order (thread-safe)."""

    def __init__(self, echo: Echo) -> None:
        self._echo = echo
        self._lock = threading.Lock()
        self._held: list[list[str]] = []
        self._closed: list[bool] = []
        self._head = 0  # the first slot not closed: its lines are printed as they come

    def slot(self) -> tuple[Echo, Callable[[], None]]:
        """A new slot (after every slot opened before): its echo, and the call that closes it."""
        with self._lock:
            index = len(self._held)
            self._held.append([])
            self._closed.append(False)

        def echo(line: str) -> None:
            with self._lock:
                if index <= self._head:  # the head's; or late, for a slot already closed: printed, never dropped
                    self._echo(line)
                else:
                    self._held[index].append(line)

        def close() -> None:
            with self._lock:
                self._closed[index] = True
                while self._head < len(self._closed) and self._closed[self._head]:
                    self._head += 1
                    if self._head < len(self._held):
                        for line in self._held[self._head]:
                            self._echo(line)
                        self._held[self._head].clear()

        return echo, close


class ReportQueue:
    """One worker thread running jobs in the order they were given; :meth:`join` waits for them all.

    A job's exception is its own to handle: one that escapes is kept and raised by :meth:`join`
    after every other job has run (a bug must not lose the other drills' reports)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], threading.Event, float] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def put(self, job: Callable[[], Any], after: threading.Event, grace: float) -> None:
        """Run ``job`` after the ones given before it, once ``after`` is set or ``grace`` seconds after it
        would otherwise start, whichever comes first."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="suite-reports", daemon=True)
            self._thread.start()
        self._jobs.put((job, after, grace))

    def _work(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, after, grace = item
            after.wait(grace)
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - kept for join(); the next jobs still run
                self._error = self._error or exc

    def join(self) -> None:
        """Wait until every job given has run; raise the first exception one let escape."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error
