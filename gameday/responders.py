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


from pydantic import Field

from gameday.schedule import ScriptedAction
from gameday.model.duration import Duration
from gameday.model.scenario import ActionName, Audience, Severity, Strict


class ScriptStep(Strict):
    person: str = Field(alias="as")
    action: ActionName
    after: str = "detection"
    delay: Duration = 0.0
    severity: Severity | None = None
    audience: Audience | None = None
    text: str | None = None
    runbook: str | None = None
    role: str | None = Field(None, description="for assign_role: the role given")
    to: str | None = Field(None, description="for assign_role: the person given the role (default: 'as')")


class ResponderScript(Strict):
    people: dict[str, str] = Field(default_factory=dict, description="person -> role at drill start")
    actions: list[ScriptStep] = Field(default_factory=list)


def load_script(path: Path) -> tuple[list[tuple[str, str]], list[ScriptedAction]]:
    """Load a responder script: the roster ``[(person, role)]`` and the scripted actions."""
    from gameday.loader import load_model

    script = load_model(path, ResponderScript)
    actions = []
    for step in script.actions:
        data = {k: v for k, v in (("severity", step.severity), ("audience", step.audience), ("text", step.text),
                                  ("runbook", step.runbook)) if v is not None}
        if step.action == "assign_role":
            data = {"person": step.to or step.person, "role": step.role}
        actions.append(ScriptedAction(person=step.person, action=step.action, after=step.after, delay=step.delay, data=data))
    return list(script.people.items()), actions


