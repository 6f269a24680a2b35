"""The journal's event kinds of a training drill: the trainee, the incident commander's instructions
and the simulated responders' answers, calls for objections, the handover, hints, and the
simulation's state changes. Members of the one union in :mod:`gameday.model.events`.

Every item of the incident commander's rubric (:mod:`gameday.analysis.rubric`) is evidenced by
these events and the drill's own (``RoleAssigned``, ``ActionRecorded``, ``DecisionRecorded``...).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gameday.model.eventbase import Part, Payload
from gameday.model.terms import Audience, Severity

#: What the incident commander may ask a responder to do.
TaskKind = Literal["investigate", "runbook", "update", "notify_executives", "other"]
TASK_KINDS: tuple[str, ...] = TaskKind.__args__  # type: ignore[attr-defined]
#: How a simulated responder answers: acknowledged (on it), question (they need something first),
#: finding (what they found), done, failed (it did not work), unable (they cannot do it).
ReportStatus = Literal["acknowledged", "question", "finding", "done", "failed", "unable"]


class PersonaRow(Part):
    """A simulated responder as the drill plays them."""

    name: str
    role: str
    delay: float


class TrainingStarted(Payload):
    """A training drill began: who is the trainee (the incident commander), who the simulated
    responders are, and the seed of their behaviour (replaying it gives the same answers at the same times)."""

    trainee: str
    seed: int
    responders: list[PersonaRow] = Field(default_factory=list)
    live: bool = Field(False, description="faults were injected for real (--live), not simulated")
    simulation: bool = Field(False, description="the scenario has a simulation: section (a state machine)")
    hint_cost: float = 5.0
    difficulty: int | None = None


class CommandTaken(Payload):
    """A person took command out loud ("I am the incident commander")."""

    person: str
    text: str = ""


class TaskAssigned(Payload):
    """The incident commander gave a task to a person, with a time box (``within`` seconds) or without."""

    task: str = Field(description="the task's id in this drill: t1, t2, ...")
    to: str
    role: str | None = Field(None, description="the role ``to`` held when it was assigned")
    kind: TaskKind
    text: str = ""
    within: float | None = Field(None, description="the time box, in seconds (None: none was given)")
    runbook: str | None = None
    audience: Audience | None = None
    by: str


class TaskReported(Payload):
    """A responder's answer to a task: on it, a question, a finding, done, failed or unable."""

    task: str
    by: str
    status: ReportStatus
    text: str = ""


class ObjectionsCalled(Payload):
    """The incident commander asked "any strong objections?" to a proposal, with a time box or without."""

    call: str = Field(description="the call's id in this drill: o1, o2, ...")
    proposal: str
    within: float | None = Field(None, description="the time box, in seconds")
    by: str


class ObjectionVoiced(Payload):
    """A responder's answer to a call for objections: a strong objection, or none."""

    call: str
    by: str
    role: str | None = None
    strong: bool
    text: str = ""


class CommandHandedOver(Payload):
    """A formal handover of command: the outgoing incident commander briefs the incoming one."""

    outgoing: str
    incoming: str
    briefing: str = Field(description="the state of the incident as handed over")
    acknowledged: bool = Field(True, description="the incoming incident commander confirmed they have command")


class HintGiven(Payload):
    """The trainee asked for a hint; it costs ``cost`` points of the training score."""

    text: str
    cost: float
    source: str = Field(description="where it came from: 'state NAME' or 'rubric ITEM'")
    to: str


class StateChanged(Payload):
    """The simulation moved from one state to another, and why."""

    from_state: str | None = None
    to_state: str
    trigger: str = Field(description="what moved it, in words: 'runbook failover started', '10m in degraded'")
    cause_seq: int | None = Field(None, description="the event that moved it, if one did")
    severity: Severity | None = Field(None, description="the right severity in the new state")
    impact: bool = True
    recovered: bool = False
    message: str = Field("", description="what everyone was told (the transition's 'say')")
