"""What is due when: pure functions of the scenario, the anchors reached so far and the time.

Anchors are drill-time offsets of ``start``, ``injection``, ``detection``, ``recovery``
and of each step done (by its id). The conductor asks these functions what to do now and
when to look again; they decide nothing about the world themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gameday.model.events import ActionDetails
from gameday.model.scenario import Scenario


@dataclass(frozen=True)
class ScriptedAction:
    """A responder action played at ``delay`` after ``after`` (an anchor or a step id)."""

    person: str
    action: str
    after: str = "detection"
    delay: float = 0.0
    details: ActionDetails = field(default_factory=ActionDetails)
    #: for ``assign_role``: who is given which role (default: ``person`` themselves)
    assignee: str | None = None
    role: str | None = None
    #: a training script's incident commander instruction (take_command, assign_task, ...): played by the
    #: training desk (:meth:`gameday.sim.training.TrainingDesk.play_scripted`), not by the conductor
    instruction: Instruction | None = None


@dataclass(frozen=True)
class Instruction:
    """What a scripted trainee says besides the responder actions: ``to`` a person, a task ``kind``,
    ``text`` (the task, the proposal, the decision, the briefing), a time box ``within`` (seconds)."""

    to: str | None = None
    kind: str | None = None
    text: str = ""
    within: float | None = None
    runbook: str | None = None
    audience: str | None = None


def script_due(script: Sequence[ScriptedAction], done: set[int], anchors: Mapping[str, float],
               t: float) -> tuple[list[int], list[float]]:
    """Indexes of the scripted actions due now, and the times of those due later."""
    now, later = [], []
    for i, act in enumerate(script):
        anchor = anchors.get(act.after)
        if i in done or anchor is None:
            continue
        (now.append(i) if t >= anchor + act.delay else later.append(anchor + act.delay))
    return now, later


def automation_due(scenario: Scenario, mode: str, started: set[str], anchors: Mapping[str, float],
                   t: float) -> tuple[list[tuple[str, str | None]], list[float]]:
    """Runbooks automated in ``mode`` start when their step's anchor happens (default: detection).

    Returns ``[(runbook, role)]`` to start now and the times of those due later.
    """
    now, later = [], []
    for name, rb in scenario.runbooks.items():
        if mode not in rb.automated_in or name in started:
            continue
        step = next((s for s in scenario.response if s.runbook == name), None)
        anchor = anchors.get(step.after if step else "detection")
        if anchor is None:
            continue
        if t >= anchor:
            now.append((name, step.role if step else None))
        else:
            later.append(anchor)
    return now, later


def end_due(scenario: Scenario, anchors: Mapping[str, float], t: float, *, faults_pending: bool, busy: bool,
            last_injection: float | None, impacted: bool, script_later: Sequence[float]) -> tuple[bool, float | None]:
    """``(over?, when to look again)``.

    Over once every fault is in (or skipped), nothing runs, the steady state is back (or no
    impact appeared within the detection window: the system absorbed the fault), the
    cooldown has passed, detection happened or its deadline passed, every step whose anchor
    happened is done or past its deadline, and no scripted action with a known time is left.
    """
    inj = anchors.get("injection")
    if faults_pending or busy or inj is None or last_injection is None:
        return False, None
    settled_at = anchors.get("recovery")
    if settled_at is None:
        if impacted:
            return False, None  # still impacted: wait for recovery (or the guardrail)
        settled_at = last_injection + scenario.detection.within
    waits = [settled_at + scenario.timing.cooldown, *script_later]
    if "detection" not in anchors:
        waits.append(inj + scenario.detection.within)
    for step in scenario.response:
        anchor = anchors.get(step.after)
        if anchor is not None and step.id not in anchors:
            waits.append(anchor + step.within)
    later = [w for w in waits if w > t]
    return (not later), (min(later) if later else None)
