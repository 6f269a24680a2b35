"""The signal policy of a CI suite: SIGINT or SIGTERM stops the suite after the drill it meets.

Each drill keeps its own policy (:mod:`gameday.drill.play`): a signal while it is set up unwinds it,
one while it plays aborts it (every fault rolled back, the reports written), one after its rollback
is noted and ignored so that its reports are written. The suite must see each of those signals too,
whichever handler took it, so that it starts no further drill: Python writes the number of every
signal it handles to the *wakeup fd* (:func:`signal.set_wakeup_fd`), and :class:`SuiteSignals` reads
it between drills. Between drills (and while the suite starts or ends) its own handler only notes the
signal: the drill being started is not started, and the suite ends as it must (its JUnit file
written, the demo it started stopped).
"""

from __future__ import annotations

import contextlib
import signal
import socket
from types import FrameType, TracebackType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SuiteSignals:
    """Notes SIGINT and SIGTERM for the suite's life (main thread only; a context manager)."""

    def __init__(self) -> None:
        self.received: str | None = None  # the first signal's name ("SIGINT")
        self._previous: dict[int, object] = {}
        self._old_fd = -1
        self._pair: tuple[socket.socket, socket.socket] | None = None

    def __enter__(self) -> SuiteSignals:
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._pair = (reader, writer)
        self._old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._previous = {s: signal.signal(s, self._note) for s in SIGNALS}
        return self

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum).name

    def stopped(self) -> str | None:
        """The name of the first SIGINT or SIGTERM the process took since the suite began (by any
        handler: the suite's, or a drill's), or None."""
        if self._pair is not None:
            while True:
                try:
                    data = self._pair[0].recv(512)
                except (BlockingIOError, InterruptedError):
                    break
                if not data:
                    break
                for signum in data:
                    if signum in SIGNALS and self.received is None:
                        self.received = signal.Signals(signum).name
        return self.received

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stopped()
        for s, handler in self._previous.items():
            signal.signal(s, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._old_fd)
        if self._pair is not None:
            for sock in self._pair:
                with contextlib.suppress(OSError):
                    sock.close()
            self._pair = None
