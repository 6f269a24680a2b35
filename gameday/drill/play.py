"""Playing an assembled drill: the conductor on a thread of its own, the start gate, and signals.

The signal policy of a drill's life: while it is being set up, SIGINT and SIGTERM unwind it
(whatever was started is stopped); once the conductor runs they abort it (every fault is
rolled back); once it has rolled back, a signal no longer cuts the teardown or the reports
short (it is noted and ignored). :class:`ProcessSignals` extends that policy to the ends of a
``gameday run`` process: before the drill's own handlers and after its reports.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from gameday.clock import PausableClock
from gameday.drill.conductor import Conductor, DrillResult


class SetupSignals:
    """SIGINT/SIGTERM raise KeyboardInterrupt while set up runs (the ExitStack unwinds it)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    #: Set by :meth:`drain`: a drill of this process has rolled back and is finishing its reports.
    drained = False

    def __enter__(self) -> SetupSignals:
        def interrupt(signum: int, _frame: FrameType | None) -> None:
            raise KeyboardInterrupt(signal.Signals(signum).name)

        self._previous = {s: signal.signal(s, interrupt) for s in self.SIGNALS}
        return self

    @classmethod
    def drain(cls) -> None:
        """From now on a signal is noted and ignored: the drill is rolled back, its reports must be written."""
        def note(signum: int, _frame: FrameType | None) -> None:
            print(f"gameday: {signal.Signals(signum).name} ignored: the drill is rolled back; finishing its reports",
                  file=sys.stderr, flush=True)

        cls.drained = True
        for s in cls.SIGNALS:
            signal.signal(s, note)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)


class ProcessSignals:
    """The signal policy of a whole ``gameday run`` process, around :func:`~gameday.drill.assemble.run_drill`.

    Until the drill's own handlers take over, SIGINT and SIGTERM raise KeyboardInterrupt (the CLI
    ends quietly, exit 3: nothing is started yet). After :meth:`reports_written`, they are noted and
    ignored until the process exits, so the exit code stays the verdict's. The drill's handlers
    (:class:`SetupSignals`) restore this one when they end, so there is no gap in which a signal
    meets the interpreter's defaults (a SIGTERM a few ms after the reports used to kill the
    process: exit -15 instead of 0).
    """

    def __init__(self) -> None:
        self.done = False

    def install(self) -> ProcessSignals:
        for s in SetupSignals.SIGNALS:
            signal.signal(s, self._handle)
        return self

    def reports_written(self) -> None:
        self.done = True

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.done or SetupSignals.drained:  # drained: rolled back, its reports being written or done
            print(f"gameday: {name} ignored: the drill is rolled back; finishing its reports and exiting",
                  file=sys.stderr, flush=True)
            return
        raise KeyboardInterrupt(name)


def run_with_signals(conductor: Conductor, gate: threading.Event | None = None,
                     waiting: Callable[[], None] | None = None) -> DrillResult:
    """Run the conductor in a worker thread; SIGINT/SIGTERM abort it (rolling back) instead of killing us.

    With a ``gate`` (the control room's start), the conductor runs once it opens; a signal
    opens it too, and the drill then ends at once, aborted, with nothing injected
    (``waiting()`` is called once the signal handlers are in place).
    """
    result: list[DrillResult] = []
    error: list[BaseException] = []

    def work() -> None:
        try:
            while gate is not None and not gate.wait(0.1):
                pass
            clock = conductor.clock
            if isinstance(clock, PausableClock) and clock.paused:  # the lobby's pause: drill time starts now
                clock.resume()
            result.append(conductor.run())
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after rollback already ran
            error.append(exc)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        conductor.abort(f"signal: {signal.Signals(signum).name}")
        if gate is not None:
            gate.set()

    thread = threading.Thread(target=work, name="conductor")
    previous = {s: signal.signal(s, on_signal) for s in SetupSignals.SIGNALS}
    try:
        if gate is not None and waiting is not None and not gate.is_set():
            waiting()
        thread.start()
        while thread.is_alive():
            thread.join(0.05)
    finally:
        if thread.is_alive() or not result:
            for s, h in previous.items():
                signal.signal(s, h)
        else:
            SetupSignals.drain()  # rolled back: nothing may now cut the teardown or the reports short
    if error:
        raise error[0]
    return result[0]
