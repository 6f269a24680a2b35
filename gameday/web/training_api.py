"""A training drill's routes of the control room API (``/api/training/...``): the incident commander's
instructions and the trainee's view. Thin calls into :class:`~gameday.web.training_desk.TrainingRoomDesk`
(``room.training_desk``); the rules (only the incident commander instructs, the facilitator records for
them; who may start; a known person; a time box) live there. Errors as everywhere in the API:
``{"error": "..."}`` with 400 (a name; malformed JSON or JSON beyond the limits), 401, 403 (not the
incident commander, not the trainee, acting as someone else), 404 (no such person or runbook; the drill
is not a training), 409 (not now: before the start, after the end, already started, the caller does not
hold command), 413, 415, 422 (a field out of its range, an empty text, a time box that cannot be read,
is not positive or is over a day; a runbook task without its runbook, an update without its audience).

The incident commander (or the facilitator for them): command, task, objections, decision, handover.
The trainee (or the facilitator for them): hint. The trainee or the facilitator: start (here, or
``/api/drill/start`` as ``gameday act DRILL start`` does: the one rule of
:meth:`~gameday.web.training_desk.TrainingRoomDesk.start`). Anyone: the view.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from gameday.model.terms import Audience
from gameday.model.training_events import TaskKind
from gameday.web.api import ERRORS, MAX_TEXT, Caller, Done, ErrorBody, Recorded, Room, StrictJSONRoute, _recorded

router = APIRouter(prefix="/api/training", responses=ERRORS, route_class=StrictJSONRoute, tags=["training"])
CHANGES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad input (a name), malformed JSON, or JSON beyond the limits"},
    404: {"model": ErrorBody, "description": "no such person or runbook; or the drill is not a training"},
    409: {"model": ErrorBody, "description": "not now: the drill has not started, is over, or was already started; "
                                               "the incident commander no longer holds command"},
    413: {"model": ErrorBody, "description": "request body over 64 KiB"},
    415: {"model": ErrorBody, "description": "request body is not JSON"},
    422: {"model": ErrorBody, "description": "a field out of its range, an empty text, a time box that cannot be read "
                                               "or is not in (0, 24h], a runbook task without its runbook, an update "
                                               "without its audience"},
}
Within = Annotated[StrictFloat | StrictInt | Annotated[StrictStr, Field(max_length=40)] | None,
                   Field(description="the time box: a duration ('5m', '90s') or a number of seconds; none: no time box")]


def _change(path: str, **kw: Any):
    return router.api_route(path, methods=["POST"], responses=CHANGES, **kw)


# ------------------------------------------------------------------ bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Instruction(_Body):
    as_: str | None = Field(None, alias="as", max_length=60,
                            description="who says it: the incident commander (the facilitator's token records for them; "
                                        "omit it)")


class CommandBody(Instruction):
    text: str = Field("", max_length=MAX_TEXT, description="what they said ('I am the incident commander')")


class TaskBody(Instruction):
    to: str = Field(min_length=1, max_length=60, description="who does it (a simulated responder, or a person in the room)")
    kind: TaskKind
    text: str = Field("", max_length=MAX_TEXT)
    within: Within = None
    runbook: str | None = Field(None, max_length=64, description="the runbook to run (a runbook task)")
    audience: Audience | None = Field(None, description="the update's audience (an update task)")


class ObjectionsBody(Instruction):
    proposal: str = Field(min_length=1, max_length=MAX_TEXT)
    within: Within = None


class DecisionBody(Instruction):
    decision: str = Field(min_length=1, max_length=MAX_TEXT)
    rationale: str = Field("", max_length=MAX_TEXT)
    options: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20,
                                                                  description="the options weighed")


class HandoverBody(Instruction):
    to: str = Field(min_length=1, max_length=60, description="the incoming incident commander")
    briefing: str = Field(min_length=1, max_length=MAX_TEXT, description="the state of the incident as handed over")


# ------------------------------------------------------------------ reading
@router.get("", summary="the training as the caller may see it (the simulation's state: the facilitator's only)")
def training(who: Caller, room: Room) -> dict[str, Any]:
    room.training_desk  # noqa: B018 - 404 unless the drill is a training
    view: dict[str, Any] = room.state(who)["training"]
    return {"now_t": room.now_t(), **view}


# ------------------------------------------------------------------ starting
@_change("/start", response_model=Done, status_code=202, summary="the trainee (or the facilitator): start the drill")
def start(who: Caller, room: Room) -> Done:
    room.training_desk.start(who)
    return Done(status="starting")


# ------------------------------------------------------------------ the incident commander
@_change("/command", response_model=Recorded, status_code=201, summary="take command out loud")
def command(body: CommandBody, who: Caller, room: Room) -> Recorded:
    return _recorded(room.training_desk.take_command(who, body.text, body.as_), who, room)


@_change("/task", response_model=Recorded, status_code=201, summary="give a person a task, with a time box")
def task(body: TaskBody, who: Caller, room: Room) -> Recorded:
    ev = room.training_desk.assign_task(who, body.to, body.kind, body.text, body.within, body.runbook, body.audience,
                                        body.as_)
    return _recorded(ev, who, room)


@_change("/objections", response_model=Recorded, status_code=201,
         summary="ask for strong objections to a proposal, with a time box")
def objections(body: ObjectionsBody, who: Caller, room: Room) -> Recorded:
    return _recorded(room.training_desk.call_objections(who, body.proposal, body.within, body.as_), who, room)


@_change("/decision", response_model=Recorded, status_code=201, summary="record a decision (the decision log)")
def decision(body: DecisionBody, who: Caller, room: Room) -> Recorded:
    return _recorded(room.training_desk.decide(who, body.decision, body.rationale, body.options, body.as_), who, room)


@_change("/handover", response_model=Recorded, status_code=201, summary="hand command over, with a briefing")
def handover(body: HandoverBody, who: Caller, room: Room) -> Recorded:
    return _recorded(room.training_desk.hand_over(who, body.to, body.briefing, body.as_), who, room)


@_change("/hint", response_model=Recorded, status_code=201, summary="the trainee: a hint (it costs points)")
def hint(who: Caller, room: Room) -> Recorded:
    return _recorded(room.training_desk.hint(who), who, room)
