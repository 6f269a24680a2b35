"""What a drill takes from outside its timeline: the facilitator's controls (inject now, skip, end,
pause, resume, abort) and the surface the simulator's parts journal through (the lock, ``record``,
``submit``, anchors, the journal so far, a cleared shadow's settling).

:class:`DrillControls` is the :class:`~gameday.drill.conductor.Conductor`'s base: the state they
share is declared here and set by the conductor; the effects they start (``_inject``,
``_rollback``) are the conductor's. Every method is thread-safe: it journals under the drill's lock,
or hands the work to the drill's thread (``submit``) and wakes its timeline.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from gameday.clock import Clock, PausableClock
from gameday.drill.faults import FaultBook, FaultState
from gameday.journal import JournalWriter
from gameday.model import events
from gameday.model.terms import Mode


class DrillControls:
    """The facilitator's controls and the simulator's desk over one drill (see the module)."""

    journal: JournalWriter
    clock: Clock
    faults: FaultBook
    simulated: bool
    mode: Mode
    _lock: threading.RLock
    _wake: queue.Queue[Any]
    _anchors: dict[str, float]
    _abort_reason: str | None
    _end_requested: str | None
    _thread: int | None

    def inject_now(self, fault_id: str, by: str = "facilitator") -> None:
        """Facilitator: inject a scheduled fault now instead of at its time."""
        st = self.faults[fault_id]

        def now(c: DrillControls) -> None:  # re-checked when it runs: a skip, end or abort may have come first
            if st.pending and c._abort_reason is None and c._end_requested is None:
                c._inject(st)

        if st.pending:
            self._wake.put(now)

    def skip_fault(self, fault_id: str, by: str = "facilitator") -> events.Event[events.FaultSkipped] | None:
        """Facilitator: never inject this scheduled fault."""
        with self._lock:
            st = self.faults[fault_id]
            if not st.pending:
                return None
            st.failed = True  # settled: never injected
            ev = self._emit(events.FaultSkipped(fault=fault_id, by=by), by)
        self._poke()
        return ev

    def end(self, reason: str = "ended by the facilitator") -> None:
        """Facilitator: end the drill now (normally, not an abort); faults are rolled back."""
        self._end_requested = reason
        self._poke()

    def pause(self, by: str = "facilitator") -> bool:
        """Pause drill time (needs a :class:`~gameday.clock.PausableClock`); False if not possible.

        Refused while a live fault is in: its dead-man limit must keep running in real time.
        """
        if not self.simulated and any(st.open for st in self.faults):
            return False
        return self._clock_control("pause", events.ClockPaused(by=by))

    def resume(self, by: str = "facilitator") -> bool:
        return self._clock_control("resume", events.ClockResumed(by=by))

    def _clock_control(self, method: str, event: events.ClockPaused | events.ClockResumed) -> bool:
        if not isinstance(self.clock, PausableClock) or not getattr(self.clock, method)():
            return False
        with self._lock:
            self._emit(event, event.by)
        self._poke()
        return True

    @property
    def lock(self) -> threading.RLock:
        """The lock every journal write of the drill holds (a tabletop's MSEL player journals under it too)."""
        return self._lock

    def record[P: events.Payload](self, payload: P, source: str) -> events.Event[P]:
        """Journal a fact now (under the lock): the feed's injects, the facilitator's records, a trainee's
        instruction. From another thread it wakes the drill's timeline: the feeds read it at once (a
        simulated responder answers an instruction given from the control room now, not at the drill's
        next scheduled moment)."""
        self._require_started()
        with self._lock:
            ev = self._emit(payload, source)
        if threading.get_ident() != self._thread:
            self._poke()
        return ev

    def mark(self, anchor: str, t: float) -> None:
        """Record an anchor's offset the first time it is reached (a simulation's ``state:NAME``): scripted
        actions may be timed from it."""
        with self._lock:
            self._anchors.setdefault(anchor, t)

    def submit(self, fn: Callable[[Any], None]) -> None:
        """Run ``fn(conductor)`` on the drill's thread, in turn with its timeline (then it looks at its deadlines)."""
        self._wake.put(fn)

    def pending_fault_times(self) -> list[float]:
        """When the faults not yet injected are scheduled (scenario offsets)."""
        return [st.fault.at for st in self.faults if st.pending]

    @property
    def journal_events(self) -> list[events.Event[events.Payload]]:
        """The journal so far."""
        return self.journal.events

    def abort(self, reason: str) -> None:
        """Ask the drill to stop now and roll everything back (thread- and signal-safe). A tabletop
        interrupted by a signal ends instead, and is scored as it stands: nothing is live, nothing is
        lost by finishing normally. (A training drill interrupted is aborted: an unfinished session must
        not count as a completed one on the trainee's ladder.)"""
        if self.simulated and self.mode == "tabletop" and reason.startswith("signal"):
            self.end(f"ended by {reason.removeprefix('signal: ')} (a tabletop has nothing live to roll back)")
            return
        if self._abort_reason is None:
            self._abort_reason = reason
        self._poke()

    def settle_cleared(self, fault_ids: list[str]) -> None:
        """Simulated faults whose shadows cleared (the players' fix): settled now, on the drill's thread."""
        def settle(c: DrillControls) -> None:
            for fid in fault_ids:
                c._rollback(c.faults[fid], "cleared", check_after=False)

        if threading.get_ident() == self._thread:  # the simulation cleared them, on the drill's thread: now
            settle(self)
        else:
            self.submit(settle)

    # ------------------------------------------------ the conductor's (see Conductor)
    def _inject(self, st: FaultState) -> None:
        raise NotImplementedError

    def _rollback(self, st: FaultState, reason: events.RollbackReason, *, check_after: bool = True) -> bool:
        raise NotImplementedError

    def _emit[P: events.Payload](self, payload: P, source: str, at: float | None = None) -> events.Event[P]:
        raise NotImplementedError

    def _require_started(self) -> None:
        raise NotImplementedError

    def _poke(self) -> None:
        self._wake.put(None)
