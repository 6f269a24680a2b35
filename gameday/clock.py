"""Clocks. The conductor never reads time or sleeps except through a :class:`Clock`.

``SystemClock`` is real time. ``FakeClock`` is virtual time for tests: waiting on an
empty inbox jumps straight to the next scheduled input or deadline, so minutes of
drill run in milliseconds.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    """Time as the conductor sees it."""

    def now(self) -> float:
        """Monotonic seconds (an arbitrary origin)."""

    def wall(self) -> datetime:
        """Current UTC wall time."""

    def next_input(self, inbox: queue.Queue, deadline: float | None) -> Any | None:
        """The next item from ``inbox``, or None once ``now() >= deadline``."""

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep; return True early if ``stop`` is set."""


def iso(dt: datetime) -> str:
    """UTC ISO 8601 with microseconds and a 'Z'."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SystemClock:
    """Real time: ``time.monotonic`` and ``datetime.now(UTC)``."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def next_input(self, inbox: queue.Queue, deadline: float | None) -> Any | None:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is None:
            time.sleep(max(0.0, seconds))
            return False
        return stop.wait(max(0.0, seconds))


class FakeClock:
    """Virtual time for tests. ``schedule(t, item)`` delivers ``item`` to the next waiter at time ``t``."""

    def __init__(self, start: float = 1000.0, wall: datetime | None = None):
        self._t = start
        self._origin = start
        self._wall0 = wall or datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC)
        self._pending: list[tuple[float, int, Any]] = []
        self._counter = itertools.count()

    def now(self) -> float:
        return self._t

    def wall(self) -> datetime:
        return self._wall0 + timedelta(seconds=self._t - self._origin)

    def advance(self, seconds: float) -> None:
        self._t += seconds

    def schedule(self, at: float, item: Any) -> None:
        """Deliver ``item`` at absolute fake time ``at`` (see :meth:`now`)."""
        heapq.heappush(self._pending, (at, next(self._counter), item))

    def next_input(self, inbox: queue.Queue, deadline: float | None) -> Any | None:
        try:
            return inbox.get_nowait()
        except queue.Empty:
            pass
        if self._pending and (deadline is None or self._pending[0][0] <= deadline):
            at, _, item = heapq.heappop(self._pending)
            self._t = max(self._t, at)
            return item
        if deadline is None:
            raise RuntimeError("FakeClock: waiting forever with nothing scheduled")
        self._t = max(self._t, deadline)
        return None

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self._t += max(0.0, seconds)
        return bool(stop and stop.is_set())


class PausableClock:
    """Drill time that a facilitator can pause (tabletop use): while paused, ``now()`` stands still.

    Wraps another clock; every deadline the conductor computes is in drill time, so a
    pause moves every deadline with it.
    """

    def __init__(self, inner: Clock):
        self.inner = inner
        self._lock = threading.Lock()
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._resumed = threading.Event()
        self._resumed.set()

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now(self) -> float:
        with self._lock:
            base = self._paused_at if self._paused_at is not None else self.inner.now()
            return base - self._paused_total

    def wall(self) -> datetime:
        return self.inner.wall()

    def wall_span(self, seconds: float) -> float:
        """Wall seconds that ``seconds`` of this clock just before now took (the journal dates a fact
        that happened a little earlier than it is written: a late webhook, a simulated drill's story)."""
        return seconds

    def _base(self) -> float:
        """The time a pause is measured on (the wrapped clock's)."""
        return self.inner.now()

    def pause(self) -> bool:
        with self._lock:
            if self._paused_at is not None:
                return False
            self._paused_at = self._base()
            self._resumed.clear()
            return True

    def resume(self) -> bool:
        with self._lock:
            if self._paused_at is None:
                return False
            self._paused_total += self._base() - self._paused_at
            self._paused_at = None
            self._resumed.set()
            return True

    def next_input(self, inbox: queue.Queue, deadline: float | None) -> Any | None:
        if self.paused:  # nothing is due while paused: wait for an input (a resume pokes the inbox)
            return self.inner.next_input(inbox, None if not hasattr(self.inner, "schedule") else self.inner.now())
        if deadline is None:
            return self.inner.next_input(inbox, None)
        return self.inner.next_input(inbox, self.inner.now() + max(0.0, deadline - self.now()))

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        return self.inner.sleep(seconds, stop)


class PacedClock(PausableClock):
    """The scenario clock of an exercise: ``factor`` scenario seconds per wall second (``--pace
    4h:45m`` is 5.33), or ``None`` for a manual pace, where it stands still and moves only when
    :meth:`jump` is called (the facilitator's "next inject"). It pauses like a
    :class:`PausableClock`; :meth:`wall` stays the real UTC time, so a journal on this clock has
    both clocks: ``t`` on the scenario's, ``wall`` on the wall's.
    """

    def __init__(self, inner: Clock, factor: float | None = 1.0):
        super().__init__(inner)
        if factor is not None and factor <= 0:
            raise ValueError("a pace must be positive")
        self.factor = factor
        self._scene = inner.now()  # scenario time at _real (the origin is the inner clock's, like a monotonic clock)
        self._real = inner.now()

    def now(self) -> float:
        with self._lock:
            return self._now()

    def _now(self) -> float:
        if self._paused_at is not None or self.factor is None:
            return self._scene
        return self._scene + self.factor * (self.inner.now() - self._real)

    def _rebase(self) -> None:  # under the lock
        self._scene, self._real = self._now(), self.inner.now()

    def pause(self) -> bool:
        with self._lock:
            if self._paused_at is not None:
                return False
            self._rebase()
            self._paused_at = self.inner.now()
            self._resumed.clear()
            return True

    def resume(self) -> bool:
        with self._lock:
            if self._paused_at is None:
                return False
            self._paused_at = None
            self._real = self.inner.now()
            self._resumed.set()
            return True

    def wall_span(self, seconds: float) -> float:
        """At a pace, scenario seconds are 1/factor wall seconds; a manual pace's stand still."""
        factor = self.factor
        return seconds / factor if factor else 0.0

    def jump(self, seconds: float) -> None:
        """Move scenario time forward by ``seconds`` at once (never backwards)."""
        with self._lock:
            self._rebase()
            self._scene += max(0.0, seconds)

    def set_factor(self, factor: float | None) -> None:
        """Change the pace from now on (None: manual)."""
        if factor is not None and factor <= 0:
            raise ValueError("a pace must be positive")
        with self._lock:
            self._rebase()
            self.factor = factor

    def next_input(self, inbox: queue.Queue, deadline: float | None) -> Any | None:
        with self._lock:
            still = self._paused_at is not None or self.factor is None
            factor = self.factor or 1.0
            now = self._now()
        if still:  # nothing falls due while time stands still: wait for an input (a resume or jump pokes the inbox)
            return self.inner.next_input(inbox, None)
        if deadline is None:
            return self.inner.next_input(inbox, None)
        return self.inner.next_input(inbox, self.inner.now() + max(0.0, deadline - now) / factor)


class InstantClock(PausableClock):
    """Scenario time for a headless exercise (``--pace instant``): when the conductor waits with
    nothing in its inbox, time jumps straight to its next deadline, so a four-hour tabletop with
    scripted participants plays in a moment. :meth:`wall` is real time."""

    def __init__(self, inner: Clock | None = None, start: float = 0.0):
        super().__init__(inner or SystemClock())
        self._t = start

    def now(self) -> float:
        with self._lock:
            return self._t

    def _base(self) -> float:  # under the lock: a pause stops nothing that runs by itself
        return self._t

    def wall_span(self, seconds: float) -> float:
        """Instant scenario time takes no wall time."""
        return 0.0

    def next_input(self, inbox: queue.Queue, deadline: float | None) -> Any | None:
        try:
            return inbox.get_nowait()
        except queue.Empty:
            pass
        if self.paused or deadline is None:
            return inbox.get()
        with self._lock:
            self._t = max(self._t, deadline)
        return None
