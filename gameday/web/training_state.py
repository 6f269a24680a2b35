"""The training part of the control room's page state: a pure function of the scenario and the journal.

:func:`training_state` is what :func:`gameday.web.state.room_state` adds in a training drill
(``--mode training``), for one viewer:

* the trainee (``TrainingStarted``), who holds the incident commander's role now, and whether the
  viewer may give instructions (they hold it; the facilitator acts for whoever does);
* the simulated responders with their scenario role and the roles they hold now;
* every task the incident commander gave (``TaskAssigned``) with its time box (``within``, the
  drill offset it falls due at), the answers so far (``TaskReported``) and its status: the last
  answer's, ``open`` until one of done, failed or unable came (to an investigation, a finding too),
  ``overdue`` when open past its box (or closed after it);
* every call for strong objections (``ObjectionsCalled``) with its answers (``ObjectionVoiced``);
* the trainee's decisions (``DecisionRecorded``), handovers (``CommandHandedOver``) and the hints
  taken with their cost (``HintGiven``);
* the pace of the scenario clock (``PaceSet``), for the page's clock.

Only the **facilitator** (the coach) gets the simulation: its current state, since when, the right
severity there, and every state change; and where each hint came from (``state NAME``) and the
simulated responders' delays. The trainee learns the state as an incident commander does: from the
responders' reports, the alerts and what the transitions say everyone was told. Texts are people's
and unescaped: the page writes them with ``textContent`` and the templates autoescape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gameday.model.events import (
    CommandHandedOver,
    CommandTaken,
    DecisionRecorded,
    Event,
    HintGiven,
    ObjectionsCalled,
    ObjectionVoiced,
    PaceSet,
    Payload,
    StateChanged,
    TaskAssigned,
    TaskReported,
    TrainingStarted,
)
from gameday.model.roles import role_holders
from gameday.model.scenario import Scenario
from gameday.model.terms import AUDIENCES, IC
from gameday.model.training_events import TASK_KINDS

#: Answers that close a task.
CLOSING = ("done", "failed", "unable")


def training_state(scenario: Scenario, events: Sequence[Event[Payload]], now_t: float, *, viewer: str,
                   facilitator: bool) -> dict[str, Any]:
    """The training as ``viewer`` may see it (see the module); ``now_t``: the drill's offset now (for overdue boxes)."""
    started = next((e.data for e in events if isinstance(e.data, TrainingStarted)), None)
    pace = next((e.data for e in reversed(events) if isinstance(e.data, PaceSet)), None)
    holders = role_holders(events)
    commander = holders.get(IC)
    trainee = started.trainee if started is not None else None
    personas = list(started.responders) if started is not None else []
    hint_cost = started.hint_cost if started is not None else scenario.training.hint_cost
    hints = [_hint(e, facilitator) for e in events if isinstance(e.data, HintGiven)]
    out: dict[str, Any] = {
        "trainee": trainee,
        "you_are_trainee": trainee is not None and viewer == trainee,
        "commander": commander,
        "can_instruct": facilitator or (commander is not None and commander == viewer),
        "command_taken": [_taken(e) for e in events if isinstance(e.data, CommandTaken)],
        "live": started.live if started is not None else None,
        "difficulty": scenario.difficulty,
        "pace": {"label": pace.pace, "factor": pace.factor} if pace is not None else None,
        "responders": [{"name": p.name, "role": p.role, "holds": sorted(r for r, h in holders.items() if h == p.name),
                        **({"delay": p.delay} if facilitator else {})} for p in personas],
        "handover_to": scenario.training.handover.to if scenario.training.handover is not None else None,
        "kinds": list(TASK_KINDS),
        "audiences": list(AUDIENCES),
        "runbooks": list(scenario.runbooks),
        "tasks": _tasks(events, now_t),
        "calls": _calls(events, now_t),
        "decisions": [_decision(e) for e in events if isinstance(e.data, DecisionRecorded)],
        "handovers": [_handover(e) for e in events if isinstance(e.data, CommandHandedOver)],
        "hint_cost": hint_cost,
        "hints": hints,
        "hints_cost": round(sum(h["cost"] for h in hints), 3),
    }
    if facilitator:
        out["simulation"] = simulation_view(scenario, events)
    return out


def simulation_view(scenario: Scenario, events: Sequence[Event[Payload]]) -> dict[str, Any] | None:
    """The simulation as the facilitator sees it: the current state, since when, the right severity
    there, and every change (None when the scenario has no ``simulation:``)."""
    sim = scenario.simulation
    if sim is None:
        return None
    changes = [e for e in events if isinstance(e.data, StateChanged)]
    last = changes[-1] if changes else None
    current = last.data.to_state if last is not None and isinstance(last.data, StateChanged) else None
    state = sim.states.get(current) if current is not None else None
    return {
        "state": current,
        "since_t": last.t if last is not None else None,
        "description": state.description if state is not None else None,
        "severity": last.data.severity if last is not None and isinstance(last.data, StateChanged) else None,
        "impact": state.impact if state is not None else None,
        "recovered": state.recovered if state is not None else None,
        "states": list(sim.states),
        "changes": [_change(e) for e in changes],
    }


def _tasks(events: Sequence[Event[Payload]], now_t: float) -> list[dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = {}
    for e in events:
        d = e.data
        if isinstance(d, TaskAssigned):
            tasks[d.task] = {"seq": e.seq, "id": d.task, "t": e.t, "to": d.to, "role": d.role, "kind": d.kind,
                             "text": d.text, "within": d.within, "due_t": None if d.within is None else e.t + d.within,
                             "runbook": d.runbook, "audience": d.audience, "by": d.by, "status": "assigned",
                             "closed_t": None, "reports": []}
        elif isinstance(d, TaskReported) and d.task in tasks:
            task = tasks[d.task]
            task["reports"].append({"seq": e.seq, "t": e.t, "by": d.by, "status": d.status, "text": d.text})
            if task["closed_t"] is None:
                task["status"] = d.status
                if d.status in CLOSING or (d.status == "finding" and task["kind"] == "investigate"):
                    task["closed_t"] = e.t
    for task in tasks.values():
        task["open"] = task["closed_t"] is None
        due = task["due_t"]
        task["overdue"] = due is not None and (now_t > due if task["open"] else task["closed_t"] > due)
    return list(tasks.values())


def _calls(events: Sequence[Event[Payload]], now_t: float) -> list[dict[str, Any]]:
    calls: dict[str, dict[str, Any]] = {}
    for e in events:
        d = e.data
        if isinstance(d, ObjectionsCalled):
            due = None if d.within is None else e.t + d.within
            calls[d.call] = {"seq": e.seq, "id": d.call, "t": e.t, "proposal": d.proposal, "within": d.within,
                             "due_t": due, "by": d.by, "answers": []}
        elif isinstance(d, ObjectionVoiced) and d.call in calls:
            calls[d.call]["answers"].append({"seq": e.seq, "t": e.t, "by": d.by, "role": d.role, "strong": d.strong,
                                             "text": d.text})
    for call in calls.values():
        call["open"] = call["due_t"] is not None and now_t <= call["due_t"]
        call["strong"] = sum(1 for a in call["answers"] if a["strong"])
    return list(calls.values())


def _taken(e: Event[Payload]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, CommandTaken)
    return {"seq": e.seq, "t": e.t, "person": d.person, "text": d.text}


def _decision(e: Event[Payload]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, DecisionRecorded)
    return {"seq": e.seq, "t": e.t, "decision": d.decision, "options": list(d.options), "decided_by": d.decided_by,
            "rationale": d.rationale, "author": d.author}


def _handover(e: Event[Payload]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, CommandHandedOver)
    return {"seq": e.seq, "t": e.t, "outgoing": d.outgoing, "incoming": d.incoming, "briefing": d.briefing,
            "acknowledged": d.acknowledged}


def _hint(e: Event[Payload], facilitator: bool) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, HintGiven)
    row: dict[str, Any] = {"seq": e.seq, "t": e.t, "text": d.text, "cost": d.cost, "to": d.to}
    if facilitator:  # 'state NAME' names the hidden state
        row["source"] = d.source
    return row


def _change(e: Event[Payload]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, StateChanged)
    return {"seq": e.seq, "t": e.t, "from": d.from_state, "to": d.to_state, "trigger": d.trigger,
            "severity": d.severity, "message": d.message}


def renumber_training(view: dict[str, Any], numbers: dict[int, int]) -> None:
    """A player's training view with every journal ``seq`` replaced by the player's number
    (see :func:`gameday.web.state.player_numbers`)."""
    def fix(rows: list[dict[str, Any]], nested: str | None = None) -> None:
        for row in rows:
            row["seq"] = numbers.get(row["seq"])
            if nested is not None:
                fix(row[nested])

    fix(view["tasks"], "reports")
    fix(view["calls"], "answers")
    for key in ("command_taken", "decisions", "handovers", "hints"):
        fix(view[key])
