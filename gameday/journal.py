"""The journal: one append-only JSON Lines file per drill, the single source of truth.

Each line is an :class:`~gameday.model.events.Event` around a typed payload.
:class:`JournalWriter` writes and fsyncs a line before :meth:`~JournalWriter.append` returns;
:func:`read_journal` replays a file, validating each line once into its typed event and
tolerating only a torn last line (a crash mid-write). Lines are strict JSON within the limits of
:mod:`gameday.model.jsonsafe` both ways: the writer refuses (:class:`~gameday.model.eventio.EventError`,
nothing written) an event it could not read back, and the reader names the file and line of
anything else (:class:`~gameday.errors.JournalError`), never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeGuard, overload

from gameday.clock import Clock, iso
from gameday.errors import JournalError
from gameday.limits import MAX_LINE
from gameday.model.eventio import decode_line, encode_event, make_event
from gameday.model.events import DrillStarted, Event, Payload
from gameday.model.jsonsafe import JSONLimitError


class JournalWriter:
    """Appends events to a journal file. Thread-safe; every append is fsynced.

    ``listeners`` are called with each event after it is on disk (live views, web), in
    journal order whatever thread appended it: they run under the journal's (re-entrant)
    lock, so they must return at once (queue any real work); they may append (the new event
    reaches every listener after the current one has reached them all).
    """

    def __init__(self, path: Path, clock: Clock, *, fsync: bool = True):
        self.path = Path(path)
        self.clock = clock
        self.fsync = fsync
        self._lock = threading.RLock()
        self._pending: deque[Event[Payload]] = deque()  # appended, not yet given to the listeners
        self._delivering = False
        self._seq = 0
        self._t0 = clock.now()
        self._last_wall: datetime | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size:
            raise JournalError(str(self.path), 1, "journal already exists; a drill never appends to another's journal")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        self._size = os.fstat(self._fd).st_size
        self.listeners: list[Callable[[Event[Payload]], None]] = []
        self.events: list[Event[Payload]] = []

    @property
    def t0(self) -> float:
        """Monotonic time of drill start (offset 0)."""
        return self._t0

    def offset(self, monotonic: float | None = None) -> float:
        """Seconds since drill start of ``monotonic`` (default: now)."""
        return (self.clock.now() if monotonic is None else monotonic) - self._t0

    def append[P: Payload](self, payload: P, source: str, *, at: float | None = None) -> Event[P]:
        """Write one event (its kind is the payload's) and return it once it is durable.

        ``at`` is a monotonic time the fact happened (e.g. when a webhook reached the
        socket); by default, now. It is clamped so that file order stays time order.
        :class:`~gameday.model.eventio.EventError` (nothing written, the sequence number not
        used) if the event would make a line no reader takes back: a non-finite number, nesting
        deeper than :data:`~gameday.model.jsonsafe.LINE_DEPTH`, an integer of over 640 digits.
        """
        with self._lock:
            now = self.clock.now()
            mono = now if at is None else min(at, now)
            t = round(mono - self._t0, 6)
            if self.events and t < self.events[-1].t:  # file order is time order
                t, mono = self.events[-1].t, self.events[-1].t + self._t0
            back = now - mono  # on the drill's clock: how long ago the fact happened
            span = getattr(self.clock, "wall_span", None)  # a scenario clock's seconds are not the wall's
            wall = self.clock.wall() - timedelta(seconds=span(back) if span is not None else back)
            if self._last_wall is not None and wall < self._last_wall:  # file order is wall order too
                wall = self._last_wall
            self._last_wall = wall
            event = make_event(payload, seq=self._seq, wall=iso(wall), t=t, source=source)
            self._write(encode_event(event))
            self._seq += 1
            self.events.append(event)
            self._pending.append(event)
            if not self._delivering:  # else an append from a listener: the outer call delivers it, in turn
                self._deliver()
        return event  # type: ignore[return-value]  # make_event built the envelope of payload's own kind

    def _deliver(self) -> None:
        """Hand pending events to the listeners, oldest first (under the lock: journal order for all)."""
        self._delivering = True
        try:
            while self._pending:
                event = self._pending.popleft()
                for listener in list(self.listeners):
                    with contextlib.suppress(Exception):  # a broken view never breaks the journal
                        listener(event)
        finally:
            self._delivering = False

    def _write(self, data: bytes) -> None:
        """Append one whole line, durably; if that fails (disk full, I/O error), cut the file back
        to its last whole line before raising, so a later append never follows half a line."""
        if self._fd < 0:
            raise ValueError(f"{self.path}: journal is closed")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            if self.fsync:
                os.fsync(self._fd)
        except BaseException:  # an I/O error, or a signal's KeyboardInterrupt mid-line: no partial line stays
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


@dataclass(frozen=True)
class Journal:
    """A replayed journal: its events in order, and whether its last line was torn."""

    path: str
    events: list[Event[Payload]]
    torn: bool = False

    @overload
    def of[P: Payload](self, kind: type[P], /) -> list[Event[P]]: ...
    @overload
    def of(self, *kinds: type[Payload]) -> list[Event[Payload]]: ...
    def of(self, *kinds: type[Payload]) -> list[Event[Any]]:
        """The events of these kinds (payload classes), in journal order."""
        return events_of(self.events, *kinds)

    @overload
    def first[P: Payload](self, kind: type[P], /) -> Event[P] | None: ...
    @overload
    def first(self, *kinds: type[Payload]) -> Event[Payload] | None: ...
    def first(self, *kinds: type[Payload]) -> Event[Any] | None:
        """The first event of these kinds, or None."""
        return next((e for e in self.events if isinstance(e.data, kinds)), None)

    @property
    def started(self) -> Event[DrillStarted]:
        """The ``DrillStarted`` event (always the first line of a journal)."""
        return self.events[0]  # type: ignore[return-value]  # parse_lines checked it


@overload
def events_of[P: Payload](events: Iterable[Event[Payload]], kind: type[P], /) -> list[Event[P]]: ...
@overload
def events_of(events: Iterable[Event[Payload]], *kinds: type[Payload]) -> list[Event[Payload]]: ...
def events_of(events: Iterable[Event[Payload]], *kinds: type[Payload]) -> list[Event[Any]]:
    """The events among ``events`` whose payload is one of ``kinds``."""
    return [e for e in events if isinstance(e.data, kinds)]



def first_of[K: Payload](events: Iterable[Event[Payload]], kind: type[K], *, after: Event[Payload] | None = None
                         ) -> Event[K] | None:
    """The first event of ``kind`` among ``events`` (after event ``after``, if given), or None; stops at the first."""
    for e in events:
        if (after is None or e.seq > after.seq) and is_kind(e, kind):
            return e
    return None


def is_kind[K: Payload](event: Event[Payload], kind: type[K]) -> TypeGuard[Event[K]]:
    """Whether ``event``'s payload is a ``kind`` (narrows the event for a type checker)."""
    return isinstance(event.data, kind)

def parse_lines(path: str, lines: list[bytes]) -> Journal:
    """Replay raw lines (each with its newline, the last maybe without)."""
    events: list[Event[Payload]] = []
    torn = False
    for number, raw in enumerate(lines, start=1):
        last = number == len(lines)
        if not raw.strip():
            if last:
                continue
            raise JournalError(path, number, "empty line")
        try:
            if len(raw) > MAX_LINE:
                raise ValueError(f"line longer than {MAX_LINE} bytes")
            event = decode_line(raw.decode("utf-8"))
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, EventError (Kind.data.field: problem)
            if last and not raw.endswith(b"\n"):
                torn = True
                break
            raise JournalError(path, number, _why(exc)) from None
        if event.seq != len(events):
            raise JournalError(path, number, f"sequence number {event.seq}, expected {len(events)}")
        if events and event.t + 1e-6 < events[-1].t:
            raise JournalError(path, number, f"time offset {event.t} goes backwards")
        events.append(event)
    if not events:
        raise JournalError(path, 1, "no events")
    if not isinstance(events[0].data, DrillStarted):
        raise JournalError(path, 1, f"first event is {events[0].kind}, expected DrillStarted")
    return Journal(path=path, events=events, torn=torn)


def _why(exc: Exception) -> str:
    if isinstance(exc, JSONLimitError):  # JSON, but beyond the limits (NaN, nesting, a huge integer)
        return _at_column(exc.msg, exc.colno)
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {_at_column(exc.msg, exc.colno)}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: byte {exc.start + 1} ({exc.object[exc.start:exc.start + 1]!r}): {exc.reason}"
    return str(exc)


def _at_column(msg: str, column: int) -> str:
    """``msg at column N``: some of json's messages end in "at" already ("Invalid control character at",
    "Unterminated string starting at"), said once."""
    return f"{msg.removesuffix(' at')} at column {column}"


def read_journal(path: str | os.PathLike[str]) -> Journal:
    """Read and validate a journal file. Raises :class:`JournalError` naming the bad line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise JournalError(str(p), 0, f"cannot read: {exc.strerror}") from None
    return parse_lines(str(p), data.splitlines(keepends=True))
