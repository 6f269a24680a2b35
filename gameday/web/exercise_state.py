"""The exercise part of a tabletop's page state: a pure function of the scenario and the journal.

:func:`exercise_state` is what :func:`gameday.web.state.room_state` adds in a tabletop, for one viewer.

* The **facilitator** gets the whole MSEL (:func:`gameday.sim.msel.msel_status` of the journal: each
  inject upcoming, held, published or skipped, its time on the scenario clock, and its controller
  fields: synopsis, expected player actions, objective, contingency, notes), the objectives with
  the rating derived from their steps so far and the facilitator's override, the evaluator notes,
  the decision log and the hot wash.
* A **player** gets only the injects published to everyone or to a role they hold now (what the
  ``InjectPublished`` event says of them, nothing of the MSEL: not its id's schedule, not why it
  went out), the decision log (a decision's inject only if it reached them) and the hot wash:
  what the players recorded.

Both get the pace (``PaceSet``) and the wall time the drill started. Texts are people's and
unescaped: the page writes them with ``textContent`` and the templates autoescape.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from gameday.analysis.matching import StepStatus
from gameday.model.events import (
    DecisionRecorded,
    DrillStarted,
    EvaluatorNoted,
    Event,
    HotWashNoted,
    InjectPublished,
    ObjectiveRated,
    PaceSet,
    Payload,
)
from gameday.model.exercise import EVERYONE, RATINGS, Inject
from gameday.model.scenario import Scenario


def exercise_state(scenario: Scenario, events: Sequence[Event[Payload]], *, facilitator: bool,
                   roles: Collection[str] = (), statuses: Sequence[StepStatus] = ()) -> dict[str, Any]:
    """The exercise as ``facilitator`` or a player holding ``roles`` may see it (see the module);
    ``statuses``: the response steps as matched so far (for the derived ratings)."""
    started = next((e for e in events if isinstance(e.data, DrillStarted)), None)
    pace = next((e.data for e in reversed(events) if isinstance(e.data, PaceSet)), None)
    reached = [e for e in events if isinstance(e.data, InjectPublished)
               and (facilitator or inject_reaches(e.data, roles))]
    ids = {e.data.inject for e in reached if isinstance(e.data, InjectPublished)}
    out: dict[str, Any] = {
        "pace": {"label": pace.pace, "factor": pace.factor} if pace is not None else None,
        "started_wall": started.wall if started is not None else None,
        "injects": [published_row(e, facilitator) for e in reached],
        "decisions": [_decision(e, facilitator, ids) for e in events if isinstance(e.data, DecisionRecorded)],
        "hot_wash": [_hot_wash(e) for e in events if isinstance(e.data, HotWashNoted)],
    }
    if facilitator:
        out["msel"] = msel_rows(scenario, events)
        out["objectives"] = objective_rows(scenario, events, statuses)
        out["notes"] = [_note(e) for e in events if isinstance(e.data, EvaluatorNoted)]
        out["ratings"] = dict(RATINGS)
    return out


def inject_reaches(data: InjectPublished, roles: Collection[str]) -> bool:
    """Whether a published inject is addressed to a player holding ``roles`` (or to everyone)."""
    return data.to == EVERYONE or data.to in roles


def msel_rows(scenario: Scenario, events: Sequence[Event[Payload]]) -> list[dict[str, Any]]:
    """The MSEL as the facilitator sees it: every inject, its state and its controller fields."""
    from gameday.sim.msel import msel_status

    return [{**_inject(v.inject), "state": v.state, "published_t": v.published_t, "by": v.by,
             "contingency_of": v.contingency_of} for v in msel_status(scenario, events)]


def objective_rows(scenario: Scenario, events: Sequence[Event[Payload]],
                   statuses: Sequence[StepStatus]) -> list[dict[str, Any]]:
    """Each objective with its rating derived from its steps so far (None: nothing to judge yet) and the
    facilitator's latest override."""
    from gameday.analysis.objectives import derive_rating

    verdicts = {s.id: s.verdict for s in statuses}
    overrides: dict[str, dict[str, Any]] = {}
    for e in events:
        if isinstance(e.data, ObjectiveRated):
            overrides[e.data.objective] = {"rating": e.data.rating, "note": e.data.note, "by": e.data.by, "t": e.t,
                                           "seq": e.seq}
    rows = []
    for o in scenario.objectives:
        derived, rule = derive_rating([verdicts.get(s) or "pending" for s in o.steps])
        rows.append({"id": o.id, "title": o.title, "capability": o.capability, "steps": list(o.steps),
                     "step_verdicts": {s: verdicts.get(s) for s in o.steps},
                     "derived": derived, "derived_rule": rule, "override": overrides.get(o.id)})
    return rows


def _inject(i: Inject) -> dict[str, Any]:
    return {
        "id": i.id, "at": i.at, "channel": i.channel, "from": i.from_, "to": i.to, "subject": i.subject,
        "message": i.message, "synopsis": i.synopsis, "objective": i.objective, "notes": i.notes,
        "expect": [{"label": x.label, "description": x.description} for x in i.expect],
        "contingency": {"after": i.contingency.after, "publish": i.contingency.publish} if i.contingency else None,
        "panel": i.panel.title if i.panel else None, "alert": i.alert.format if i.alert else None,
    }


def published_row(e: Event[Payload], facilitator: bool) -> dict[str, Any]:
    """A published inject as a page shows it (the players' fields; the facilitator's too if ``facilitator``)."""
    d = e.data
    assert isinstance(d, InjectPublished)
    row: dict[str, Any] = {"seq": e.seq, "id": d.inject, "t": e.t, "wall": e.wall, "channel": d.channel,
                           "from": d.sender, "to": d.to, "subject": d.subject, "message": d.message,
                           "panel": d.panel, "alert": d.alert_format}
    if facilitator:  # why it went out, and when the MSEL had it: the facilitator's only
        row.update(by=d.by, contingency_of=d.contingency_of, scheduled_t=d.scheduled_t)
    return row


def _decision(e: Event[Payload], facilitator: bool, reached: set[str]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, DecisionRecorded)
    inject = d.inject if d.inject is not None and (facilitator or d.inject in reached) else None
    return {"seq": e.seq, "t": e.t, "wall": e.wall, "decision": d.decision, "options": list(d.options),
            "decided_by": d.decided_by, "rationale": d.rationale, "author": d.author, "inject": inject}


def _hot_wash(e: Event[Payload]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, HotWashNoted)
    return {"seq": e.seq, "t": e.t, "wall": e.wall, "person": d.person, "went_well": d.went_well,
            "to_improve": d.to_improve, "author": d.author}


def _note(e: Event[Payload]) -> dict[str, Any]:
    d = e.data
    assert isinstance(d, EvaluatorNoted)
    return {"seq": e.seq, "t": e.t, "wall": e.wall, "text": d.text, "author": d.author, "objective": d.objective}
