"""A scenario's training sections: ``simulation:`` (the system's states and what moves it between
them) and ``training:`` (the simulated responders, the handover, what a hint costs).

Both are optional and used by training drills (``gameday run --mode training --trainee NAME``);
other modes ignore them. A training drill puts the trainee in the incident commander's seat and
plays every other role with a **simulated responder** (a :class:`Persona`): they act only on the
incident commander's instructions, after a seeded, realistic delay, and report what they find
from the current state of the simulation.

The **simulation** is a state machine. Each :class:`SimState` says whether customers feel it
(``impact``), whether it is the goal (``recovered``), the severity that is right while it lasts,
the alerts that fire on entering it (through the webhook intake's parsing and matching, as an
inject's do), the injects it publishes, what each role finds when asked to investigate, a strong
objection a role raises when the incident commander asks for objections, and a hint. A
:class:`Transition` moves it on a fact (a fault injected, a runbook started, an action recorded,
by a role if named) or on time (``after``: so long in the state with no other transition). Without
a ``simulation:`` section the story is the tabletop's: a fault casts its shadow, any runbook run
clears it.

``gameday validate`` checks the machine (:mod:`gameday.model.training_check`): references resolve,
every state is reachable from ``initial``, none is a dead end, and every reachable state has a
path to a recovered one.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from gameday.model.duration import Duration
from gameday.model.exercise import AlertAttachment
from gameday.model.names import PersonName
from gameday.model.scenario_base import Strict
from gameday.model.terms import Role, Severity

StateName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="lower-case state name")]
#: The actions a transition may wait for (those a responder records; a runbook is ``runbook:``).
TRIGGER_ACTIONS = ("acknowledge", "declare_incident", "set_severity", "notify_executives", "post_update",
                   "mark_detected", "resolved")
#: Names simulated responders get, in order, for the roles ``training.responders`` does not name.
DEFAULT_NAMES = ("Priya", "Sam", "Jordan", "Kim", "Noor", "Lee", "Ana", "Tomas")


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Objection(Strict):
    """A strong objection the holder of ``role`` raises when the incident commander asks for objections."""

    role: Role
    text: str = Field(min_length=1)


class SimState(Strict):
    """One state of the simulated system."""

    description: str = Field("", description="what is going on, for the facilitator and the reports")
    impact: bool = Field(True, description="customers feel it: the steady-state checks fail while it lasts")
    recovered: bool = Field(False, description="the goal: the incident is over once the system gets here")
    severity: Severity | None = Field(None, description="the right severity while it lasts (default: the scenario's)")
    alerts: list[AlertAttachment] = Field(default_factory=list, description="alerts that fire on entering it")
    publish: list[str] = Field(default_factory=list, description="inject ids published on entering it")
    reports: dict[Role, str] = Field(
        default_factory=dict, description="what the holder of each role finds when asked to investigate here")
    objection: Objection | None = Field(None, description="raised when the incident commander asks for objections here")
    hint: str | None = Field(None, description="the hint given here when the trainee asks for one")

    @model_validator(mode="after")
    def _goal_is_healthy(self) -> SimState:
        if self.recovered and self.impact:
            raise ValueError("a recovered state has no customer impact: set 'impact: false'")
        return self


class Trigger(Strict):
    """The fact a transition waits for: exactly one of ``fault`` (injected), ``runbook`` (started,
    by anyone) or ``action`` (recorded, by ``role`` when given)."""

    fault: str | None = None
    runbook: str | None = None
    action: str | None = Field(None, description=f"one of: {', '.join(TRIGGER_ACTIONS)}")
    role: Role | None = Field(None, description="with 'action': only when a holder of this role does it")

    @model_validator(mode="after")
    def _one(self) -> Trigger:
        if sum(x is not None for x in (self.fault, self.runbook, self.action)) != 1:
            raise ValueError("a trigger needs exactly one of 'fault', 'runbook' or 'action'")
        if self.action is not None and self.action not in TRIGGER_ACTIONS:
            raise ValueError(f"unknown action {self.action!r} (one of: {', '.join(TRIGGER_ACTIONS)}; "
                             "a runbook is 'runbook: NAME')")
        if self.role is not None and self.action is None:
            raise ValueError("'role' goes with 'action'")
        return self

    @property
    def label(self) -> str:
        if self.fault is not None:
            return f"fault {self.fault} injected"
        if self.runbook is not None:
            return f"runbook {self.runbook} started"
        return f"{self.action}" + (f" by the {self.role}" if self.role else "")


class Transition(Strict):
    """From any of ``from`` to ``to``, on a fact (``when``) or after time in the state (``after``)."""

    from_: Annotated[list[StateName], BeforeValidator(_listed)] = Field(
        alias="from", min_length=1, description="a state, or a list of them")
    to: StateName
    when: Trigger | None = None
    after: Duration | None = Field(None, description="so long in the state with no other transition")
    say: str | None = Field(None, description="told to everyone when it happens (e.g. 'Replica lag alarms start')")

    @model_validator(mode="after")
    def _one(self) -> Transition:
        if (self.when is None) == (self.after is None):
            raise ValueError("a transition needs exactly one of 'when' (a fact) or 'after' (time in the state)")
        if self.after is not None and self.after <= 0:
            raise ValueError("'after' must be positive")
        return self


class Simulation(Strict):
    """The simulated system: its states, where it starts, and what moves it."""

    initial: StateName = Field(description="the state at drill start (before any fault)")
    states: dict[StateName, SimState] = Field(min_length=1)
    transitions: list[Transition] = Field(default_factory=list)


class Persona(Strict):
    """A simulated responder: who they are, the role they are suited to, how fast they answer."""

    name: PersonName
    role: Role
    delay: Duration = Field(45.0, gt=0, description="typical time to answer an instruction (seeded: 0.5x to 1.5x)")


class Handover(Strict):
    """A formal handover the scenario calls for: to ``to`` (a simulated incoming incident commander),
    due ``within`` of the anchor ``after``."""

    to: PersonName
    after: str = Field("recovery", description="start, injection, detection or recovery")
    within: Duration = Field(600.0, gt=0)

    @model_validator(mode="after")
    def _anchor(self) -> Handover:
        if self.after not in ("start", "injection", "detection", "recovery"):
            raise ValueError(f"'after' is one of start, injection, detection, recovery; got {self.after!r}")
        return self


class Training(Strict):
    """How a training drill is played around the trainee."""

    responders: list[Persona] = Field(
        default_factory=list, description="the simulated responders (default: one per role besides the incident commander)")
    handover: Handover | None = Field(None, description="a formal handover of command the scenario calls for")
    command_within: Duration = Field(300.0, gt=0, description="take command within this of detection")
    roles_within: Duration = Field(600.0, gt=0, description="every role assigned within this of taking command")
    hint_cost: float = Field(5.0, ge=0, le=100, description="points a hint costs")
