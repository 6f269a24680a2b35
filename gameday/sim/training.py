"""The trainee's desk: what an incident commander in training says, checked and journaled.

:class:`TrainingDesk` takes the trainee's instructions from the control room, ``gameday act`` and
a scripted trainee alike: take command, give a task to a person (with a time box), ask for strong
objections to a proposal, record a decision, hand over command formally, ask for a hint. Each is
journaled through the conductor (under its lock); the simulated responders
(:mod:`gameday.sim.responders`) read the journal and answer. It refuses what cannot be done now
with an :class:`~gameday.sim.msel.ExerciseError` carrying the HTTP status (404 no such person or
runbook, 409 not now, 422 incomplete).

It also starts the training: ``TrainingStarted`` (trainee, seed, the simulated responders) and
the incident commander's role given to the trainee.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from gameday.model.events import (
    ActionDetails,
    ActionRecorded,
    CommandHandedOver,
    CommandTaken,
    DecisionRecorded,
    Event,
    HintGiven,
    ObjectionsCalled,
    Payload,
    PersonaRow,
    TaskAssigned,
    TrainingStarted,
)
from gameday.model.names import NameRefused, check_name
from gameday.model.roles import role_holders, roles_held
from gameday.model.scenario import Scenario
from gameday.model.terms import AUDIENCES, IC
from gameday.model.training import DEFAULT_NAMES
from gameday.model.training_events import TASK_KINDS
from gameday.sim.msel import ExerciseError
from gameday.sim.statemachine import StateMachine

if TYPE_CHECKING:
    from gameday.drill.schedule import ScriptedAction

MAX_TEXT = 4000


class TrainingPort(Protocol):
    """What the training parts need of the conductor (:class:`~gameday.drill.conductor.Conductor`)."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def record[P: Payload](self, payload: P, source: str) -> Event[P]: ...

    def record_action(self, author: str, action: str, details: ActionDetails | None = None,
                      role: str | None = None) -> Event[ActionRecorded]: ...

    def assign_role(self, person: str, role: str, by: str = "facilitator") -> Event[Payload]: ...

    @property
    def journal_events(self) -> Sequence[Event[Payload]]: ...


def personas_for(sc: Scenario, trainee: str) -> list[PersonaRow]:
    """The simulated responders: the scenario's ``training.responders``, and one (a default name) for
    every other role besides the incident commander's. Refuses a trainee named like one of them."""
    named = [PersonaRow(name=p.name, role=p.role, delay=p.delay) for p in sc.training.responders]
    covered = {p.role for p in named}
    taken = {p.name.casefold() for p in named} | {trainee.casefold()}
    if sc.training.handover is not None:
        taken.add(sc.training.handover.to.casefold())
    names = iter(n for n in DEFAULT_NAMES if n.casefold() not in taken)
    for role in sc.roles:
        if role != IC and role not in covered:
            named.append(PersonaRow(name=next(names, f"Responder {len(named) + 1}"), role=role, delay=45.0))
    clash = [p.name for p in named if p.name.casefold() == trainee.casefold()]
    if clash or (sc.training.handover is not None and sc.training.handover.to.casefold() == trainee.casefold()):
        raise ValueError(f"--trainee {trainee!r} is the name of a simulated responder in this scenario: choose another name")
    return named


class TrainingDesk:
    """One training drill's trainee desk (thread-safe: everything is journaled under the conductor's lock)."""

    def __init__(self, scenario: Scenario, trainee: str, personas: Sequence[PersonaRow], seed: int, *,
                 live: bool = False, machine: StateMachine | None = None):
        self.scenario, self.trainee, self.personas, self.seed = scenario, trainee, list(personas), seed
        self.live, self.machine = live, machine
        self._port: TrainingPort | None = None
        self._t = 0.0  # the drill's offset at the last turn of its timeline

    def bind(self, port: TrainingPort) -> None:
        self._port = port

    @property
    def port(self) -> TrainingPort:
        if self._port is None:
            raise ExerciseError(409, "the drill has not started")
        return self._port

    # ------------------------------------------------------------ start
    def start(self) -> None:
        """Journal the training's set-up and give the trainee the incident commander's role."""
        port = self.port
        with port.lock:
            port.record(TrainingStarted(
                trainee=self.trainee, seed=self.seed, responders=self.personas, live=self.live,
                simulation=self.scenario.simulation is not None, hint_cost=self.scenario.training.hint_cost,
                difficulty=self.scenario.difficulty), "training")
            port.assign_role(self.trainee, IC, by="training")

    def play(self, t: float) -> list[float]:
        """A handover the scenario calls for keeps the drill open until it is done or its time is up."""
        self._t = t
        due = self._handover_due()
        return [due] if due is not None and t < due else []

    def keeps_open(self) -> bool:
        due = self._handover_due()
        return due is not None and self._t < due

    def _handover_due(self) -> float | None:
        """When the scenario's handover falls due (None: none is called for, it is done, or its anchor not reached)."""
        ho = self.scenario.training.handover
        if ho is None or self._port is None:
            return None
        from gameday.analysis.severity import anchor_event

        events = self.port.journal_events
        if any(isinstance(e.data, CommandHandedOver) for e in events):
            return None
        anchor = anchor_event(events, ho.after)  # the rubric's anchor: the handover is judged from the same moment
        return None if anchor is None else anchor.t + ho.within

    # ------------------------------------------------------------ the trainee's instructions
    def take_command(self, person: str, text: str = "") -> Event[CommandTaken]:
        """``person`` takes command out loud (they hold the incident commander's role)."""
        port = self.port
        with port.lock:
            self._holds_command(person)
            return port.record(CommandTaken(person=person, text=_text(text, "text")), person)

    def assign_task(self, by: str, to: str, kind: str, text: str = "", within: float | None = None,
                    runbook: str | None = None, audience: str | None = None) -> Event[TaskAssigned]:
        """Give a task to a person, with a time box (``within`` seconds) or without."""
        to = _person(to)
        if kind not in TASK_KINDS:
            raise ExerciseError(422, f"unknown task {kind!r} (one of: {', '.join(TASK_KINDS)})")
        if kind == "runbook" and not runbook:
            raise ExerciseError(422, "a runbook task names its runbook")
        if runbook is not None and runbook not in self.scenario.runbooks:
            raise ExerciseError(404, f"no runbook named {runbook!r} (runbooks: {', '.join(self.scenario.runbooks) or 'none'})")
        if kind == "update" and audience not in AUDIENCES:
            raise ExerciseError(422, f"an update names its audience ({', '.join(AUDIENCES)})")
        if within is not None and not within > 0:
            raise ExerciseError(422, "a time box must be positive")
        port = self.port
        with port.lock:
            self._holds_command(by)
            events = port.journal_events
            n = 1 + sum(1 for e in events if isinstance(e.data, TaskAssigned))
            held = roles_held(events, to)
            return port.record(TaskAssigned(
                task=f"t{n}", to=to, role=held[0] if held else None, kind=kind,  # type: ignore[arg-type]
                text=_text(text, "text"), within=within, runbook=runbook if kind == "runbook" else None,
                audience=audience if kind == "update" else None, by=by), by)  # type: ignore[arg-type]

    def call_objections(self, by: str, proposal: str, within: float | None = None) -> Event[ObjectionsCalled]:
        """Ask "any strong objections?" to a proposal, with a time box or without."""
        if not proposal.strip():
            raise ExerciseError(422, "say what you propose")
        if within is not None and not within > 0:
            raise ExerciseError(422, "a time box must be positive")
        port = self.port
        with port.lock:
            self._holds_command(by)
            n = 1 + sum(1 for e in port.journal_events if isinstance(e.data, ObjectionsCalled))
            return port.record(ObjectionsCalled(call=f"o{n}", proposal=_text(proposal, "proposal"), within=within, by=by), by)

    def decide(self, by: str, decision: str, rationale: str = "", options: Sequence[str] = ()) -> Event[DecisionRecorded]:
        """Record a decision (the decision log), decided by ``by`` (who holds command)."""
        if not decision.strip():
            raise ExerciseError(422, "say what was decided")
        port = self.port
        with port.lock:
            self._holds_command(by)
            return port.record(DecisionRecorded(decision=_text(decision, "decision"), options=list(options),
                                                decided_by=by, rationale=_text(rationale, "rationale"), author=by), by)

    def hand_over(self, by: str, to: str, briefing: str) -> Event[CommandHandedOver]:
        """Hand command to ``to`` with a briefing; they confirm and hold the incident commander's role."""
        to = _person(to)
        if to == by:
            raise ExerciseError(422, "hand over to someone else")
        port = self.port
        with port.lock:
            self._holds_command(by)
            ev = port.record(CommandHandedOver(outgoing=by, incoming=to, briefing=_text(briefing, "briefing"),
                                               acknowledged=True), by)
            port.assign_role(to, IC, by=by)
            port.record(CommandTaken(person=to, text=f"I have command. Thank you, {by}."), to)
        return ev

    def hint(self, to: str) -> Event[HintGiven]:
        """A hint for the trainee: the current state's, else the next rubric item not met. It costs points."""
        port = self.port
        with port.lock:
            state = self.machine.state if self.machine is not None else None
            given = {e.data.text for e in port.journal_events if isinstance(e.data, HintGiven)}
            if state is not None and state.hint and state.hint not in given:
                text, source = state.hint, f"state {self.machine.current if self.machine else ''}"
            else:
                text, source = _rubric_hint(port.journal_events)
            return port.record(HintGiven(text=text, cost=self.scenario.training.hint_cost, source=source, to=to), to)

    # ------------------------------------------------------------ a scripted trainee
    def play_scripted(self, act: ScriptedAction) -> None:
        """Play one instruction of a scripted trainee (the conductor calls it when it falls due)."""
        ins = act.instruction
        assert ins is not None
        try:
            match act.action:
                case "take_command":
                    self.take_command(act.person, ins.text)
                case "assign_task":
                    self.assign_task(act.person, ins.to or "", ins.kind or "other", ins.text, ins.within, ins.runbook,
                                     ins.audience)
                case "ask_objections":
                    self.call_objections(act.person, ins.text, ins.within)
                case "decide":
                    self.decide(act.person, ins.text)
                case "handover":
                    self.hand_over(act.person, ins.to or "", ins.text)
                case "hint":
                    self.hint(act.person)
        except ExerciseError as exc:  # a script asking for what cannot be done now: journaled, the drill goes on
            from gameday.model.events import NoteAdded

            self.port.record(NoteAdded(text=f"scripted {act.action} by {act.person} refused: {exc.message}"), "training")

    # ------------------------------------------------------------ helpers
    def _holds_command(self, person: str) -> None:
        holder = role_holders(self.port.journal_events).get(IC)
        if holder != person:
            raise ExerciseError(409, f"{person!r} does not hold the incident commander's role"
                                     + (f" ({holder!r} does)" if holder else ""))

    def responder_names(self) -> list[str]:
        return [p.name for p in self.personas]


def _person(name: str) -> str:
    try:
        return check_name(name)
    except NameRefused as exc:
        raise ExerciseError(422, f"'to': {exc}") from None


def _text(text: str, field: str) -> str:
    if len(text) > MAX_TEXT:
        raise ExerciseError(422, f"'{field}' is longer than {MAX_TEXT} characters")
    return text


def _rubric_hint(events: Sequence[Event[Payload]]) -> tuple[str, str]:
    """The next rubric item not yet met, as advice."""
    from gameday.analysis.rubric import hint_for

    return hint_for(events)

