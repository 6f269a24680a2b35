"""The simulation's state machine: a scenario's ``simulation:`` played on the drill's clock.

:class:`StateMachine` is one of the conductor's :class:`~gameday.ports.Feed` inputs. At each turn
of the conductor's timeline it reads the journal events it has not seen yet, in order, and moves
on the first transition out of the current state whose trigger the event is (a fault injected, a
runbook started, an action recorded by a role); then it moves on time (``after``: so long in the
state). Each move is journaled as ``StateChanged`` with what caused it. Entering a state delivers
its alerts through the webhook intake's parsing and matching (``source: simulator``), publishes
its injects, and sets what the simulated probes see: customers feel the state when it has
``impact``; a ``recovered`` state clears every fault's shadow (the simulator's recovery).

It decides only from the journal and the time, so a replayed drill moves exactly as the first.
In a live training drill (``--live``) it keeps the story (the right severity, what responders
find) but delivers no alerts (real monitoring does) and moves no probes (real ones watch).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from gameday.model.events import ActionRecorded, Event, FaultInjected, Payload, StateChanged
from gameday.model.scenario import Scenario
from gameday.model.terms import Severity
from gameday.model.training import SimState, Simulation, Transition
from gameday.sim.effects import Shadows

if TYPE_CHECKING:
    from gameday.sim.msel import Desk, MselPlayer


class StateMachine:
    """Plays one drill's simulation (see the module). Its methods run on the conductor's thread;
    :attr:`state` may be read from any."""

    def __init__(self, scenario: Scenario, simulation: Simulation, *, shadows: Shadows | None = None,
                 player: MselPlayer | None = None, deliver_alerts: bool = True):
        self.scenario, self.simulation = scenario, simulation
        self.shadows, self.player, self.deliver_alerts = shadows, player, deliver_alerts
        self.current = simulation.initial
        self.entered_t = 0.0
        self._seen = 0
        self._desk: Desk | None = None
        self._lock = threading.Lock()
        if shadows is not None:
            shadows.state_impact = lambda: self.state.impact

    def bind(self, desk: Desk) -> None:
        self._desk = desk

    @property
    def desk(self) -> Desk:
        assert self._desk is not None, "bind() the conductor first"
        return self._desk

    @property
    def state(self) -> SimState:
        """The current state."""
        with self._lock:
            return self.simulation.states[self.current]

    def severity(self) -> Severity | None:
        """The right severity now (see :meth:`_severity_of`)."""
        return self._severity_of(self.state)

    def _severity_of(self, state: SimState) -> Severity | None:
        """A state's right severity: its own, else the scenario's while customers feel it (None: no incident)."""
        return state.severity or (self.scenario.severity if state.impact else None)

    # ------------------------------------------------------------ Feed port
    def start(self) -> None:
        """Journal the initial state (called as the drill starts)."""
        with self.desk.lock:
            self._seen = len(self.desk.journal_events)
            self._enter(self.simulation.initial, "the drill started", None, "", None, initial=True)

    def play(self, t: float) -> list[float]:
        """Move on every fact journaled since the last call, then on time; return when a timed move is due."""
        desk = self.desk
        with desk.lock:
            events = desk.journal_events
            while self._seen < len(events):  # events journaled while moving are read in turn
                ev = events[self._seen]
                self._seen += 1
                found = self._on_fact(ev)
                if found is not None:
                    self._enter(found.to, self._fact_words(found, ev), ev.seq, found.say or "", None)
            while True:
                timed = [(self.entered_t + tr.after, i, tr) for i, tr in enumerate(self.simulation.transitions)
                         if tr.after is not None and self.current in tr.from_]
                if not timed:
                    return []
                due, _, tr = min(timed, key=lambda x: (x[0], x[1]))
                if t + 1e-9 < due:
                    return [due]
                self._enter(tr.to, f"{_human(tr.after or 0.0)} in {self.current}", None, tr.say or "", due)

    def keeps_open(self) -> bool:
        """True until the simulated system is recovered (after the first fault): the story is not over.
        A live drill's story never holds it open: the real system's recovery ends it, whatever the story."""
        return self.shadows is not None and not self.state.recovered and self.current != self.simulation.initial

    # --------------------------------------------------------------- helpers
    def _on_fact(self, ev: Event[Payload]) -> Transition | None:
        d = ev.data
        for tr in self.simulation.transitions:
            on = tr.when
            if on is None or self.current not in tr.from_:
                continue
            if on.fault is not None and isinstance(d, FaultInjected) and d.fault == on.fault:
                return tr
            if isinstance(d, ActionRecorded):
                if on.runbook is not None and d.action == "runbook_started" and d.runbook == on.runbook:
                    return tr
                if on.action is not None and d.action == on.action and (on.role is None or d.role == on.role):
                    return tr
        return None

    @staticmethod
    def _fact_words(tr: Transition, ev: Event[Payload]) -> str:
        assert tr.when is not None
        d = ev.data
        who = f" by {d.author}" if isinstance(d, ActionRecorded) else ""
        return f"{tr.when.label}{who}"

    def _enter(self, name: str, trigger: str, cause_seq: int | None, message: str, at: float | None, *,
               initial: bool = False) -> None:
        """Journal the move and play the new state's effects (under the conductor's lock)."""
        desk = self.desk
        before = None if initial else self.current
        with self._lock:
            self.current = name
        state = self.simulation.states[name]
        ev: Event[StateChanged] = desk.record(StateChanged(
            from_state=before, to_state=name, trigger=trigger, cause_seq=cause_seq,
            severity=self._severity_of(state), impact=state.impact, recovered=state.recovered,
            message=message), "simulator")
        self.entered_t = at if at is not None else ev.t
        desk.mark(f"state:{name}", ev.t)
        if self.shadows is not None:
            self.shadows.push()
            if state.recovered:
                self.shadows.clear("simulation", "simulation")
        if self.deliver_alerts:
            from gameday.sim.msel import deliver_alert

            for alert in state.alerts:
                deliver_alert(desk, alert)
        if self.player is not None:
            for inject in state.publish:
                self.player.publish_for_state(inject)


def _human(seconds: float) -> str:
    from gameday.model.duration import human

    return human(seconds)
