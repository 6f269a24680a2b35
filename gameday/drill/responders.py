"""Scripted responders for ci drills: a YAML of who holds which role and who does what when.

Example (``scenarios/responders/checkout-db-primary-failure.ci.yaml``)::

    people:
      alice: incident-commander
      bob: tech-lead
    actions:
      - {as: alice, action: acknowledge, after: detection, delay: 1s}
      - {as: alice, action: set_severity, severity: SEV1, after: detection, delay: 2s}
      - {as: bob, action: post_update, audience: external, text: "Checkout is failing", after: detection, delay: 3s}
      - {as: alice, action: resolved, after: recovery, delay: 1s}

``after`` is an anchor (start, injection, detection, recovery), a step id of the
scenario, or (in a training drill) ``state:NAME``, the simulation's first entry into that
state; ``delay`` is a duration after it. Names (``people``, ``as``, ``to``) follow the one
rule of :mod:`gameday.model.names`: one line, no control or formatting characters, at most 60
characters, none of the tool's own names (``automation``, ``webhook``...). Runbooks marked ``automated_in: [ci]`` run
by themselves; a scripted ``runbook`` action runs one as that person.

A scripted trainee (``--mode training --responders FILE``) also gives the incident commander's
instructions (:data:`TRAINEE_ACTIONS`)::

      - {as: dana, action: take_command, after: detection, delay: 30s}
      - {as: dana, action: assign_task, to: Priya, task: investigate, text: "Check the primary", within: 5m}
      - {as: dana, action: ask_objections, text: "Fail over to the replica", within: 2m}
      - {as: dana, action: decide, text: "Fail over to the replica"}
      - {as: dana, action: handover, to: Morgan, text: "Checkout restored; SEV1 open; next update 14:30"}
      - {as: dana, action: hint}

Such a file's ``people:`` has exactly one ``incident-commander``: the trainee (any others are people
in the room). Every ``to:`` of ``assign_task``, ``assign_role`` and ``handover`` is someone the drill
will have: a simulated responder of the scenario (``training.responders``, and the default one per
other role, see :func:`gameday.sim.training.personas_for`), its ``training.handover.to``, or one of
``people:`` (names compared without regard to case or runs of whitespace).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from gameday.drill.schedule import Instruction, ScriptedAction
from gameday.errors import Problem, ScenarioError
from gameday.model.duration import Duration
from gameday.model.events import ActionDetails
from gameday.model.names import PersonName
from gameday.model.scenario import BUILTIN_ANCHORS, ActionName, Scenario
from gameday.model.scenario_base import Strict
from gameday.model.terms import IC, Audience, Role, Severity
from gameday.model.training_events import TaskKind
from gameday.yamlio.files import load_model
from gameday.yamlio.marks import load_yaml_file
from gameday.yamlio.modelerrors import validate_data

#: The incident commander's instructions a scripted trainee may give (a training drill's only).
TraineeAction = Literal["take_command", "assign_task", "ask_objections", "decide", "handover", "hint"]
TRAINEE_ACTIONS: tuple[str, ...] = TraineeAction.__args__  # type: ignore[attr-defined]


class ScriptStep(Strict):
    person: PersonName = Field(alias="as")
    action: ActionName | TraineeAction
    after: str = "detection"
    delay: Duration = 0.0
    severity: Severity | None = None
    audience: Audience | None = None
    text: str | None = None
    runbook: str | None = None
    role: Role | None = Field(None, description="for assign_role: the role given")
    to: PersonName | None = Field(None, description="for assign_role: the person given the role (default: 'as'); "
                                  "for assign_task and handover: who is given it")
    task: TaskKind | None = Field(None, description="for assign_task: what kind of task")
    within: Duration | None = Field(None, description="for assign_task and ask_objections: the time box")

    @model_validator(mode="after")
    def _complete(self) -> ScriptStep:
        needs = {"set_severity": "severity", "assign_role": "role", "post_update": "audience", "assign_task": "task",
                 "handover": "to", "ask_objections": "text", "decide": "text"}
        field = needs.get(self.action)
        if field and getattr(self, field) is None:
            raise ValueError(f"action {self.action} needs '{field}'")
        if self.action == "runbook" and self.runbook is None:
            raise ValueError("action runbook needs 'runbook'")
        if self.action == "assign_task" and self.to is None:
            raise ValueError("action assign_task needs 'to' (the person given the task)")
        if self.action == "assign_task" and self.task == "runbook" and self.runbook is None:
            raise ValueError("a runbook task names its 'runbook'")
        if self.action == "assign_task" and self.task == "update" and self.audience is None:
            raise ValueError("an update task names its 'audience'")
        return self

    @property
    def instruction(self) -> Instruction | None:
        """The trainee's instruction this step gives (None: a responder action the conductor plays)."""
        if self.action not in TRAINEE_ACTIONS:
            return None
        return Instruction(to=self.to, kind=self.task, text=self.text or "", within=self.within,
                           runbook=self.runbook, audience=self.audience)


class ResponderScript(Strict):
    people: dict[PersonName, Role] = Field(default_factory=dict, description="person -> role at drill start")
    actions: list[ScriptStep] = Field(default_factory=list)


def check_script(path: Path, scenario: Scenario) -> list[Problem]:
    """Problems of a responder script against its scenario: parse errors, unknown anchors, runbooks and
    roles — all at once: when some fields have type errors, the references that did parse are still
    checked (never twice at a path that already has a problem)."""

    name = str(path)
    try:
        data, marks = load_yaml_file(path, name)
    except ScenarioError as exc:
        return exc.problems
    script, problems = validate_data(data, marks, ResponderScript, name)
    actions: list[object]
    people: dict[object, object]
    if script is not None:
        actions = [step.model_dump(by_alias=True) for step in script.actions]
        people = dict(script.people.items())
    else:
        raw = data if isinstance(data, dict) else {}
        actions = list(raw["actions"]) if isinstance(raw.get("actions"), list) else []
        people = dict(raw["people"]) if isinstance(raw.get("people"), dict) else {}
    taken = {p.path for p in problems}

    def add(loc: tuple[str | int, ...], message: str) -> None:
        problem = marks.problem(name, loc, message)
        if problem.path not in taken:
            problems.append(problem)

    anchors = set(BUILTIN_ANCHORS) | {s.id for s in scenario.response}
    if scenario.simulation is not None:
        anchors |= {f"state:{name}" for name in scenario.simulation.states}
    for i, step in enumerate(actions):
        if not isinstance(step, dict):
            continue
        after, runbook, role = (step.get(k) for k in ("after", "runbook", "role"))
        if isinstance(after, str) and after not in anchors:
            add(("actions", i, "after"), f"no anchor or step named {after!r} (anchors: {', '.join(BUILTIN_ANCHORS)}, "
                                         "a step id of the scenario, or state:NAME of its simulation)")
        if isinstance(runbook, str) and runbook not in scenario.runbooks:
            add(("actions", i, "runbook"), f"the scenario has no runbook {runbook!r}")
        if isinstance(role, str) and role not in scenario.roles:
            add(("actions", i, "role"), f"role {role!r} is not one of the scenario's roles")
    for person, role in people.items():
        if isinstance(person, str) and isinstance(role, str) and role not in scenario.roles:
            add(("people", person), f"role {role!r} is not one of the scenario's roles")
    if any(isinstance(step, dict) and step.get("action") in TRAINEE_ACTIONS for step in actions):
        for loc, message in _trainee_problems(actions, people, scenario):
            add(loc, message)
    return sorted(problems, key=lambda p: (p.line, p.column))


def _key(name: str) -> str:
    """A person's name as compared: whitespace collapsed, compatibility forms and case aside."""
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def _trainee_problems(actions: list[object], people: dict[object, object],
                      scenario: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """A scripted trainee's file: its ``people:`` has exactly one incident commander (the trainee), who is
    none of the simulated responders; and every ``to:`` of a task, a role or the handover is someone the
    drill will have (a simulated responder, the scenario's incoming incident commander, one of ``people:``)."""
    from gameday.sim.training import personas_for

    out: list[tuple[tuple[str | int, ...], str]] = []
    commanders = [p for p, role in people.items() if isinstance(p, str) and role == IC]
    if len(commanders) != 1:
        found = ", ".join(repr(p) for p in commanders) or "none"
        out.append((("people",), f"a scripted trainee's people: has exactly one {IC} (the trainee): found {found}"))
    trainee = commanders[0] if len(commanders) == 1 else ""
    try:
        personas = personas_for(scenario, trainee)
    except ValueError:  # the trainee is called like a simulated responder, or like the incoming commander
        clash = (f"the trainee {trainee!r} has the name of a simulated responder of this scenario (or of its "
                 "incoming incident commander): choose another name")
        out.append((("people", trainee), clash))
        personas = personas_for(scenario, "")
    simulated = [p.name for p in personas]
    handover = scenario.training.handover
    incoming = [handover.to] if handover is not None else []
    others = [p for p in people if isinstance(p, str) and p != trainee]
    known = {_key(n) for n in [*simulated, *incoming, *(p for p in people if isinstance(p, str))]}
    who = [f"simulated responders: {', '.join(simulated) or 'none'}"]
    if incoming:
        who.append(f"the incoming incident commander: {incoming[0]}")
    if others:
        who.append(f"people: {', '.join(others)}")
    for i, step in enumerate(actions):
        if not isinstance(step, dict) or step.get("action") not in ("assign_task", "assign_role", "handover"):
            continue
        to = step.get("to")
        if isinstance(to, str) and _key(to) not in known:
            out.append((("actions", i, "to"), f"no one named {' '.join(to.split())!r} in this drill ({'; '.join(who)})"))
    return out


def load_script(path: Path, scenario: Scenario | None = None) -> tuple[list[tuple[str, str]], list[ScriptedAction]]:
    """Load a responder script: the roster ``[(person, role)]`` and the scripted actions.

    With ``scenario``, also checks it against the scenario (every problem at once, located).
    """
    if scenario is not None:
        problems = check_script(path, scenario)
        if problems:
            raise ScenarioError(problems)
    script = load_model(path, ResponderScript)
    actions = []
    for step in script.actions:
        details = ActionDetails(severity=step.severity, audience=step.audience, text=step.text, runbook=step.runbook)
        assignee, role = (step.to or step.person, step.role) if step.action == "assign_role" else (None, None)
        actions.append(ScriptedAction(person=step.person, action=step.action, after=step.after, delay=step.delay,
                                      details=details, assignee=assignee, role=role, instruction=step.instruction))
    return list(script.people.items()), actions


def unattended_steps(sc: Scenario, mode: str) -> list[str]:
    """Ids of the scenario's response steps that no automated runbook does in ``mode``: without responders
    (a ci drill with no responder script) no one will do them."""
    out = []
    for step in sc.response:
        runbook = sc.runbooks.get(step.runbook or "")
        if not (step.action == "runbook" and runbook is not None and mode in runbook.automated_in):
            out.append(step.id)
    return out
