"""Simulated responders: the people a training drill puts around its trainee (every role but the
incident commander's).

They do nothing the incident commander did not ask for. On a ``TaskAssigned`` to one of them
they answer after a short, seeded pause (a tenth to three tenths of their ``delay``): on it, with
the time box, or "by when do you need this?" when there is none. Then, after their own seeded
delay (0.5x to 1.5x their ``delay``), they do it: report what they find from the simulation's
current state (``investigate``); run the runbook (``runbook``: through the conductor, so it is
journaled and moves the simulation as anyone's would); post the update or tell the executives
(an ``ActionRecorded`` of their own); or report it done (``other``). On ``ObjectionsCalled``
each answers within the time box: the strong objection the current state gives their role, or
none.

Every delay comes from ``random.Random(f"{seed}:{what}:{name}")``: it depends on the seed, the
task and the person only, so a replayed drill (same seed, same instructions at the same times)
journals the same answers at the same times.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from gameday.model.duration import human
from gameday.model.events import (
    ActionDetails,
    ActionRecorded,
    Event,
    ObjectionsCalled,
    ObjectionVoiced,
    Payload,
    PersonaRow,
    ResponderJoined,
    TaskAssigned,
    TaskReported,
)
from gameday.model.roles import roles_held
from gameday.model.scenario import Scenario
from gameday.model.training_events import ReportStatus

if TYPE_CHECKING:
    from gameday.sim.statemachine import StateMachine
    from gameday.sim.training import TrainingPort

ACK_SHARE = (0.1, 0.3)  # "on it" comes after this share of the responder's delay


@dataclass(order=True)
class _Due:
    at: float
    order: int
    act: Callable[[], None] = field(compare=False)


class SimulatedResponders:
    """The simulated responders of one training drill: a :class:`~gameday.ports.Feed`."""

    def __init__(self, scenario: Scenario, personas: Sequence[PersonaRow], seed: int,
                 machine: StateMachine | None = None):
        self.scenario, self.personas, self.seed, self.machine = scenario, list(personas), seed, machine
        self.by_name = {p.name: p for p in self.personas}
        self._seen = 0
        self._due: list[_Due] = []
        self._order = 0
        self._waiting: dict[tuple[str, str], str] = {}  # (person, runbook) -> task, until runbook_finished
        self._port: TrainingPort | None = None
        self._lock = threading.Lock()

    def bind(self, port: TrainingPort) -> None:
        self._port = port

    @property
    def port(self) -> TrainingPort:
        assert self._port is not None, "bind() the conductor first"
        return self._port

    # ------------------------------------------------------------ Feed port
    def start(self) -> None:
        """The simulated responders join (without roles: the incident commander assigns them)."""
        port = self.port
        with port.lock:
            for p in self.personas:
                port.record(ResponderJoined(person=p.name, role=None), p.name)
            self._seen = len(port.journal_events)

    def play(self, t: float) -> list[float]:
        """Take the instructions journaled since the last call; do what falls due by ``t``."""
        port = self.port
        with port.lock:
            self._read(port.journal_events)
            while True:
                with self._lock:
                    self._due.sort()
                    due = self._due.pop(0) if self._due and self._due[0].at <= t + 1e-9 else None
                if due is None:
                    break
                due.act()
                self._read(port.journal_events)
            with self._lock:
                return [d.at for d in self._due[:1]]

    def keeps_open(self) -> bool:
        """True while a responder still owes an answer."""
        with self._lock:
            return bool(self._due) or bool(self._waiting)

    # ------------------------------------------------------------ reading
    def _read(self, events: Sequence[Event[Payload]]) -> None:
        while self._seen < len(events):
            ev = events[self._seen]
            self._seen += 1
            d = ev.data
            if isinstance(d, TaskAssigned) and d.to in self.by_name:
                self._take_task(ev.t, d)
            elif isinstance(d, ObjectionsCalled):
                self._take_call(ev.t, d, events)
            elif isinstance(d, ActionRecorded) and d.action == "runbook_finished":
                task = self._waiting.pop((d.author, d.runbook or ""), None)
                if task is not None:
                    ok = bool(d.ok)
                    text = (f"The {d.runbook} runbook finished." if ok
                            else f"The {d.runbook} runbook failed: {d.error or 'no reason given'}.")
                    self._later(ev.t, partial(self._report, task, d.author, "done" if ok else "failed", text))

    def _rng(self, what: str, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{what}:{name}")

    def _later(self, at: float, act: Callable[[], None]) -> None:
        with self._lock:
            self._order += 1
            self._due.append(_Due(at, self._order, act))

    # ------------------------------------------------------------ tasks
    def _take_task(self, t: float, task: TaskAssigned) -> None:
        person = self.by_name[task.to]
        rng = self._rng(task.task, person.name)
        ack_at = t + person.delay * rng.uniform(*ACK_SHARE)
        work_at = max(ack_at, t + person.delay * (0.5 + rng.random()))
        if task.kind == "runbook" and task.runbook not in self.scenario.runbooks:
            self._later(ack_at, lambda: self._report(task.task, person.name, "unable",
                                                     f"There is no runbook called {task.runbook!r}: which one do you mean?"))
            return
        if task.within is None:
            ack: tuple[ReportStatus, str] = ("question", "On it. By when do you need this?")
        else:
            ack = ("acknowledged", f"On it. I will report back within {human(task.within)}.")
        self._later(ack_at, lambda: self._report(task.task, person.name, *ack))
        self._later(work_at, lambda: self._work(task, person))

    def _work(self, task: TaskAssigned, person: PersonaRow) -> None:
        port = self.port
        role = self._role_of(person)
        if task.kind == "investigate":
            self._report(task.task, person.name, "finding", self._finding(role or person.role))
        elif task.kind == "runbook" and task.runbook is not None:
            self._waiting[(person.name, task.runbook)] = task.task
            self._report(task.task, person.name, "acknowledged", f"Starting the {task.runbook} runbook now.")
            port.record_action(person.name, "runbook", ActionDetails(runbook=task.runbook), role)
        elif task.kind == "update":
            audience = task.audience or "internal"
            port.record_action(person.name, "post_update", ActionDetails(audience=audience, text=self._draft(task)), role)
            self._report(task.task, person.name, "done", f"Posted the {audience} update.")
        elif task.kind == "notify_executives":
            port.record_action(person.name, "notify_executives", ActionDetails(text=self._draft(task)), role)
            self._report(task.task, person.name, "done", "The executives have been told.")
        else:
            self._report(task.task, person.name, "done", f"Done: {task.text}" if task.text else "Done.")

    def _finding(self, role: str) -> str:
        if self.machine is not None:
            state = self.machine.state
            if role in state.reports:
                return state.reports[role]
            if state.description:
                return f"What I see: {state.description}."
        return f"{self.scenario.service}: {self.scenario.symptom or 'customers are affected'}" if self._impact() else \
            f"{self.scenario.service} looks healthy from here."

    def _impact(self) -> bool:
        return self.machine.state.impact if self.machine is not None else True

    def _draft(self, task: TaskAssigned) -> str:
        if task.text.strip():
            return task.text
        sc = self.scenario
        symptom = sc.symptom.strip().rstrip(".") or "we are investigating a problem"
        return (f"{sc.service}: {symptom}. "
                "We are working on it and will update again within 30 minutes.")

    def _report(self, task: str, person: str, status: ReportStatus, text: str) -> None:
        self.port.record(TaskReported(task=task, by=person, status=status, text=text), person)

    def _role_of(self, person: PersonaRow) -> str | None:
        held = roles_held(self.port.journal_events, person.name)
        return held[0] if held else None

    # ------------------------------------------------------------ objections
    def _take_call(self, t: float, call: ObjectionsCalled, events: Sequence[Event[Payload]]) -> None:
        objection = self.machine.state.objection if self.machine is not None else None
        for person in self.personas:
            rng = self._rng(call.call, person.name)
            wait = person.delay * (0.2 + 0.4 * rng.random())
            if call.within is not None:
                wait = min(wait, 0.8 * call.within)
            held = roles_held(events, person.name)
            objects = objection is not None and (objection.role in held or (
                not any(objection.role in roles_held(events, p.name) for p in self.personas) and person.role == objection.role))
            text = objection.text if objects and objection is not None else "No objection."
            role = held[0] if held else None
            voiced = ObjectionVoiced(call=call.call, by=person.name, role=role, strong=objects, text=text)
            self._later(t + wait, partial(self._say, voiced))

    def _say(self, voiced: ObjectionVoiced) -> None:
        self.port.record(voiced, voiced.by)
