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

``after`` is an anchor (start, injection, detection, recovery) or a step id of the
scenario; ``delay`` is a duration after it. Runbooks marked ``automated_in: [ci]`` run
by themselves; a scripted ``runbook`` action runs one as that person.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from gameday.drill.schedule import ScriptedAction
from gameday.errors import Problem, ScenarioError
from gameday.model.duration import Duration
from gameday.model.events import ActionDetails
from gameday.model.scenario import BUILTIN_ANCHORS, ActionName, Scenario
from gameday.model.scenario_base import Strict
from gameday.model.terms import Audience, Role, Severity
from gameday.yamlio.files import load_model
from gameday.yamlio.marks import load_yaml_file
from gameday.yamlio.modelerrors import validate_data

#: Names the tool itself uses as a journal source: a scripted person may not pose as one.
RESERVED_NAMES = frozenset({"automation", "script", "facilitator", "conductor", "injector", "observer", "webhook",
                            "notifier", "load", "monitoring", "recover"})


class ScriptStep(Strict):
    person: str = Field(alias="as")
    action: ActionName
    after: str = "detection"
    delay: Duration = 0.0
    severity: Severity | None = None
    audience: Audience | None = None
    text: str | None = None
    runbook: str | None = None
    role: Role | None = Field(None, description="for assign_role: the role given")
    to: str | None = Field(None, description="for assign_role: the person given the role (default: 'as')")

    @model_validator(mode="after")
    def _complete(self) -> ScriptStep:
        needs = {"set_severity": "severity", "assign_role": "role", "post_update": "audience", "runbook": "runbook"}
        field = needs.get(self.action)
        if field and getattr(self, field) is None:
            raise ValueError(f"action {self.action} needs '{field}'")
        for name in (self.person, self.to):
            if name is not None and (name in RESERVED_NAMES or not name.strip()):
                raise ValueError(f"{name!r} is reserved for the tool itself: choose a person's name")
        return self


class ResponderScript(Strict):
    people: dict[str, Role] = Field(default_factory=dict, description="person -> role at drill start")
    actions: list[ScriptStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> ResponderScript:
        reserved = sorted(set(self.people) & RESERVED_NAMES)
        if reserved:
            raise ValueError(f"{reserved[0]!r} is reserved for the tool itself: choose a person's name")
        return self


def check_script(path: Path, scenario: Scenario) -> list[Problem]:
    """Problems of a responder script against its scenario: parse errors, unknown anchors, runbooks and roles."""

    name = str(path)
    try:
        data, marks = load_yaml_file(path, name)
    except ScenarioError as exc:
        return exc.problems
    script, problems = validate_data(data, marks, ResponderScript, name)
    if script is None:
        return problems
    anchors = set(BUILTIN_ANCHORS) | {s.id for s in scenario.response}
    for i, step in enumerate(script.actions):
        if step.after not in anchors:
            problems.append(marks.problem(name, ("actions", i, "after"),
                                          f"no anchor or step named {step.after!r} (anchors: {', '.join(BUILTIN_ANCHORS)}, "
                                          "or a step id of the scenario)"))
        if step.runbook and step.runbook not in scenario.runbooks:
            problems.append(marks.problem(name, ("actions", i, "runbook"), f"the scenario has no runbook {step.runbook!r}"))
        if step.role and step.role not in scenario.roles:
            problems.append(marks.problem(name, ("actions", i, "role"), f"role {step.role!r} is not one of the scenario's roles"))
    for person, role in script.people.items():
        if role not in scenario.roles:
            problems.append(marks.problem(name, ("people", person), f"role {role!r} is not one of the scenario's roles"))
    return problems


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
                                      details=details, assignee=assignee, role=role))
    return list(script.people.items()), actions


