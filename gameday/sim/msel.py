"""The MSEL player: publishes a tabletop's injects on the scenario clock and takes the facilitator's controls.

:class:`MselPlayer` is the conductor's :class:`~gameday.ports.Feed` (the conductor asks it, at
each turn of its timeline, to publish what is due and when to look again) and the
facilitator's desk (publish now, hold, skip, next, pace, the fix works; the decision log,
evaluator notes, objective ratings, the hot wash). Everything it does is journaled through the
conductor, under the conductor's lock, so the journal stays the one source of truth:
:func:`msel_status` rebuilds the MSEL's state from the journal alone (the control room's view).

An inject's alert attachment goes through the webhook intake's own parsing
(:data:`gameday.adapters.webhooks.PARSERS`) and the conductor's matching
(:meth:`~gameday.drill.conductor.Conductor.receive_alerts`, source ``simulator``): a simulated
alert counts as detection exactly as a real one does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import JsonValue

from gameday.clock import PacedClock, PausableClock
from gameday.errors import GamedayError
from gameday.model.alerts import Alert
from gameday.model.events import (
    ActionRecorded,
    AlertReceived,
    DecisionRecorded,
    EvaluatorNoted,
    Event,
    HotWashNoted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    ObjectiveRated,
    PaceSet,
    Payload,
    RoleAssigned,
    ShadowCleared,
    StepMatched,
)
from gameday.model.exercise import AlertAttachment, Expectation, Inject
from gameday.model.scenario import Scenario
from gameday.sim.effects import Shadows
from gameday.sim.pace import Pace
from gameday.sim.shadow import derive_msel

InjectState = Literal["upcoming", "held", "published", "skipped"]
FACILITATOR = "facilitator"


class ExerciseError(GamedayError):
    """A facilitator's control that cannot be done now; ``status`` is its HTTP status (404, 409, 422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Desk(Protocol):
    """What the player needs of the conductor (:class:`~gameday.drill.conductor.Conductor`)."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def record[P: Payload](self, payload: P, source: str) -> Event[P]: ...

    def receive_alerts(self, fmt: str, payload: JsonValue, alerts: list[Alert], *, received_at: float | None = None,
                       error: str | None = None, source: str = "webhook") -> Event[AlertReceived]: ...

    def submit(self, fn: Callable[[Any], None]) -> None: ...

    def now_t(self) -> float: ...

    def pending_fault_times(self) -> list[float]: ...

    def settle_cleared(self, fault_ids: list[str]) -> None: ...

    def mark(self, anchor: str, t: float) -> None: ...

    @property
    def journal_events(self) -> Sequence[Event[Payload]]: ...


@dataclass(frozen=True)
class InjectView:
    """One MSEL line as the facilitator sees it (from :func:`msel_status`)."""

    inject: Inject
    state: InjectState
    published_t: float | None = None
    by: str | None = None
    contingency_of: str | None = None


def msel_status(scenario: Scenario, events: Sequence[Event[Payload]]) -> list[InjectView]:
    """The MSEL's state rebuilt from a journal: each inject upcoming, held, published or skipped."""
    state: dict[str, InjectView] = {i.id: InjectView(i, "upcoming") for i in derive_msel(scenario)}
    for ev in events:
        d = ev.data
        if isinstance(d, InjectPublished) and d.inject in state:
            state[d.inject] = InjectView(state[d.inject].inject, "published", ev.t, d.by, d.contingency_of)
        elif isinstance(d, InjectHeld) and d.inject in state and state[d.inject].state == "upcoming":
            state[d.inject] = InjectView(state[d.inject].inject, "held", by=d.by)
        elif isinstance(d, InjectSkipped) and d.inject in state:
            state[d.inject] = InjectView(state[d.inject].inject, "skipped", by=d.by)
    return sorted(state.values(), key=lambda v: (v.inject.at is None, v.inject.at or 0.0))


def expectation_met(exp: Expectation, since_t: float, events: Sequence[Event[Payload]]) -> bool:
    """Whether the expected player action happened: the step was matched (any time), or the action
    was recorded (by the role, if one is named) at or after ``since_t``."""
    for ev in events:
        d = ev.data
        if exp.step is not None:
            if isinstance(d, StepMatched) and d.step == exp.step:
                return True
            continue
        if ev.t < since_t:
            continue
        if exp.action == "assign_role" and isinstance(d, RoleAssigned) and (exp.role is None or d.role == exp.role):
            return True
        action = "runbook_started" if exp.action == "runbook" else exp.action
        if isinstance(d, ActionRecorded) and d.action == action and (exp.role is None or d.role == exp.role):
            return True
    return False


class MselPlayer:
    """Plays one drill's MSEL (see the module). Thread-safe: the facilitator's controls come from
    the control room's threads, :meth:`play` from the conductor's."""

    def __init__(self, scenario: Scenario, clock: PausableClock, pace: Pace, shadows: Shadows, *, holds_open: bool):
        self.scenario, self.clock, self.pace, self.shadows = scenario, clock, pace, shadows
        self.entries = derive_msel(scenario)
        self.by_id = {e.id: e for e in self.entries}
        self.holds_open = holds_open  # a facilitator ends the drill (the hot wash comes before the end)
        self._state: dict[str, InjectState] = {e.id: "upcoming" for e in self.entries}
        self._published_t: dict[str, float] = {}
        self._contingencies_done: set[str] = set()
        self._stepping: set[str] = set()  # chosen by 'next', to be published on the conductor's thread
        self._desk: Desk | None = None
        self._lock = threading.RLock()

    def bind(self, desk: Desk) -> None:
        """Attach the conductor (done once, by the composition root); journals the pace at the start."""
        self._desk = desk
        self.shadows.on_cleared = self._journal_cleared

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            raise ExerciseError(409, "the drill has not started")
        return self._desk

    # ------------------------------------------------------------ Feed port
    def start(self) -> None:
        """Journal the pace the drill starts with (called as the drill starts)."""
        self.desk.record(PaceSet(pace=self.pace.label, factor=self.pace.factor, by="conductor"), "conductor")

    def play(self, t: float) -> list[float]:
        """Publish every inject due at scenario offset ``t`` and every contingency whose expected
        action is overdue; return the later offsets at which something falls due."""
        due: list[float] = []
        desk = self.desk
        with desk.lock, self._lock:
            for e in self.entries:
                if self._state[e.id] == "upcoming" and e.at is not None:
                    if t + 1e-9 >= e.at:
                        self._publish(e, "schedule")
                    else:
                        due.append(e.at)
            for pid, pt in list(self._published_t.items()):
                c = self.by_id[pid].contingency
                if c is None or pid in self._contingencies_done:
                    continue
                if t + 1e-9 < pt + c.after:
                    due.append(pt + c.after)
                    continue
                self._contingencies_done.add(pid)
                missing = [x for x in self.by_id[pid].expect if not expectation_met(x, pt, desk.journal_events)]
                if missing and self._state[c.publish] == "upcoming":  # held or skipped: the facilitator's word stands
                    self._publish(self.by_id[c.publish], "contingency", contingency_of=pid, missing=[x.label for x in missing])
        return due

    def keeps_open(self) -> bool:
        """True while the drill must not end by itself: a facilitator runs it, or injects are still to come."""
        with self._lock:
            if self.holds_open:
                return True
            scheduled = any(s == "upcoming" and self.by_id[i].at is not None for i, s in self._state.items())
            timers = any(self.by_id[p].contingency is not None and p not in self._contingencies_done
                         for p in self._published_t)
            return scheduled or timers

    # ------------------------------------------------------- facilitator's desk
    def publish_now(self, inject_id: str, by: str = FACILITATOR) -> Event[InjectPublished]:
        """Publish an upcoming or held inject now."""
        desk = self.desk
        with desk.lock, self._lock:
            entry = self._entry(inject_id, ("upcoming", "held"), "published")
            ev = self._publish(entry, by)
        desk.submit(_nothing)  # its contingency's timer is news for the timeline
        return ev

    def publish_for_state(self, inject_id: str) -> Event[InjectPublished] | None:
        """The simulation entered a state that publishes this inject: published now unless it is already
        out or the facilitator held or skipped it (their word stands)."""
        desk = self.desk
        with desk.lock, self._lock:
            entry = self.by_id.get(inject_id)
            if entry is None or self._state[inject_id] != "upcoming":
                return None
            return self._publish(entry, "simulation")

    def hold(self, inject_id: str, by: str = FACILITATOR) -> Event[InjectHeld]:
        """Keep an upcoming inject from going out at its time (publish it by hand later, or skip it)."""
        desk = self.desk
        with desk.lock, self._lock:
            self._entry(inject_id, ("upcoming",), "held")
            self._state[inject_id] = "held"
            return desk.record(InjectHeld(inject=inject_id, by=by), by)

    def skip(self, inject_id: str, by: str = FACILITATOR) -> Event[InjectSkipped]:
        """Never publish this inject."""
        desk = self.desk
        with desk.lock, self._lock:
            self._entry(inject_id, ("upcoming", "held"), "skipped")
            self._state[inject_id] = "skipped"
            return desk.record(InjectSkipped(inject=inject_id, by=by), by)

    def next(self, by: str = FACILITATOR) -> str:
        """Advance the scenario clock to the next scheduled inject and publish it (the manual pace's
        step; in any pace, it skips the wait). Faults due before it go in at their own times on the way."""
        desk = self.desk
        with self._lock:
            upcoming = [e for e in self.entries
                        if self._state[e.id] == "upcoming" and e.at is not None and e.id not in self._stepping]
            if not upcoming:
                raise ExerciseError(409, "no scheduled inject is left (publish a held or unscheduled one by name)")
            entry = min(upcoming, key=lambda e: e.at or 0.0)
            self._stepping.add(entry.id)  # a second quick 'next' takes the one after
            contingencies = [pt + c.after for p, pt in self._published_t.items()
                             if (c := self.by_id[p].contingency) is not None and p not in self._contingencies_done]
        at, now = entry.at or 0.0, desk.now_t()
        # what falls due on the way happens at its own time: faults, and contingencies of earlier injects
        for stop in sorted({x for x in [*desk.pending_fault_times(), *contingencies] if now < x < at}):
            desk.submit(self._jumper(stop))
        desk.submit(lambda c: self._step_to(entry, by))
        return entry.id

    def set_pace(self, pace: Pace, by: str = FACILITATOR) -> Event[PaceSet]:
        """Change the pace from now on (a factor, or manual)."""
        if pace.kind == "instant" or not isinstance(self.clock, PacedClock):
            raise ExerciseError(422, "the pace of this drill cannot be changed to that (instant is for headless drills)")
        desk = self.desk
        with desk.lock:
            self.clock.set_factor(pace.factor)
            self.pace = pace
            ev = desk.record(PaceSet(pace=pace.label, factor=pace.factor, by=by), by)
        desk.submit(_nothing)
        return ev

    def mitigate(self, by: str = FACILITATOR) -> list[str]:
        """The facilitator rules that the players' fix works: every open shadow clears (recovery follows)."""
        self.desk  # noqa: B018 - refuses before the drill starts
        return self.shadows.clear(by, "facilitator")

    def decide(self, decision: str, decided_by: str, author: str, options: Sequence[str] = (), rationale: str = "",
               inject: str | None = None) -> Event[DecisionRecorded]:
        """An entry of the decision log."""
        if inject is not None and inject not in self.by_id:
            raise ExerciseError(404, f"no inject named {inject!r}")
        return self.desk.record(DecisionRecorded(decision=decision, options=list(options), decided_by=decided_by,
                                                 rationale=rationale, author=author, inject=inject), author)

    def evaluator_note(self, text: str, author: str, objective: str | None = None) -> Event[EvaluatorNoted]:
        self._objective(objective)
        return self.desk.record(EvaluatorNoted(text=text, author=author, objective=objective), author)

    def rate(self, objective: str, rating: Literal["P", "S", "M", "U"], note: str,
             by: str = FACILITATOR) -> Event[ObjectiveRated]:
        """The facilitator's rating of an objective, overriding the derived one (the note says why)."""
        self._objective(objective)
        if not note.strip():
            raise ExerciseError(422, "an override of the derived rating needs a note saying why")
        return self.desk.record(ObjectiveRated(objective=objective, rating=rating, note=note, by=by), by)

    def hot_wash(self, person: str, went_well: str, to_improve: str, author: str) -> Event[HotWashNoted]:
        if not went_well.strip() and not to_improve.strip():
            raise ExerciseError(422, "a hot wash entry needs what went well or what could improve")
        return self.desk.record(HotWashNoted(person=person, went_well=went_well, to_improve=to_improve, author=author),
                                author)

    # --------------------------------------------------------------- helpers
    def _entry(self, inject_id: str, allowed: tuple[InjectState, ...], verb: str) -> Inject:
        entry = self.by_id.get(inject_id)
        if entry is None:
            raise ExerciseError(404, f"no inject named {inject_id!r}")
        state = self._state[inject_id]
        if state not in allowed:
            raise ExerciseError(409, f"inject {inject_id!r} is {state}: it cannot be {verb}")
        return entry

    def _objective(self, objective: str | None) -> None:
        if objective is not None and objective not in {o.id for o in self.scenario.objectives}:
            raise ExerciseError(404, f"no objective named {objective!r}")

    def _publish(self, entry: Inject, by: str, contingency_of: str | None = None,
                 missing: list[str] | None = None) -> Event[InjectPublished]:
        """Journal the inject and deliver its alert (under the conductor's lock and ours)."""
        desk = self.desk
        source = "simulator" if by in ("schedule", "contingency", "simulation") else by
        ev = desk.record(InjectPublished(
            inject=entry.id, channel=entry.channel, sender=entry.from_, to=entry.to, subject=entry.subject,
            message=entry.message, scheduled_t=entry.at, by=by, contingency_of=contingency_of, missing=missing or [],
            alert_format=entry.alert.format if entry.alert else None,
            panel=entry.panel.title if entry.panel else None), source)
        self._state[entry.id] = "published"
        self._published_t[entry.id] = ev.t
        if entry.alert is not None:
            deliver_alert(desk, entry.alert)
        return ev

    def _jump_to(self, t: float) -> None:
        """Move the scenario clock forward to offset ``t`` (runs on the conductor's thread)."""
        if isinstance(self.clock, PacedClock):
            self.clock.jump(t - self.desk.now_t())

    def _jumper(self, t: float) -> Callable[[object], None]:
        return lambda conductor: self._jump_to(t)

    def _step_to(self, entry: Inject, by: str) -> None:
        self._jump_to(entry.at or 0.0)
        with self.desk.lock, self._lock:
            self._stepping.discard(entry.id)
            if self._state[entry.id] == "upcoming":
                self._publish(entry, by)

    def _journal_cleared(self, faults: list[str], by: str, reason: str) -> None:
        why: Literal["runbook", "facilitator", "simulation"] = (
            "runbook" if reason == "runbook" else "simulation" if reason == "simulation" else "facilitator")
        self.desk.record(ShadowCleared(faults=faults, by=by, reason=why), "simulator" if why != "facilitator" else by)
        self.desk.settle_cleared(faults)


def deliver_alert(desk: Desk, alert: AlertAttachment) -> None:
    """Deliver a simulated alert through the webhook intake's parsing and the conductor's matching."""
    from gameday.adapters.alerts import PayloadError
    from gameday.adapters.webhooks import PARSERS

    body = alert.body()
    try:
        alerts, error = PARSERS[alert.format](body), None
    except PayloadError as exc:
        alerts, error = [], str(exc)
    desk.receive_alerts(alert.format, body, alerts, error=error, source="simulator")


def _nothing(conductor: object) -> None:
    """A no-op for the conductor's inbox: wakes its timeline to look at its deadlines again."""
