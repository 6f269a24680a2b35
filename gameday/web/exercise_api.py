"""The tabletop's routes of the control room API (``/api/exercise/...``): the facilitator's console
and what every participant may record. Thin calls into :class:`~gameday.web.desk.ExerciseDesk`
(``room.desk``); the rules (who may, when, the same 404 to a player for an inject that did not
reach them) live there. Errors as everywhere in the API: ``{"error": "..."}`` with 400, 401, 403,
404 (no such inject or objective; not a tabletop), 409 (not now: before the start, after the end,
an inject already published or skipped, no scheduled inject left), 413, 415, 422 (a field out of
range, an empty text, a pace that cannot be read or set, a rating override without its note).

Facilitator only: publish, hold, skip, next, pace, mitigate, notes, rating. Anyone: the decision
log and the hot wash (the author is the caller), the exercise view and panels (filtered for players).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from gameday.web.api import ERRORS, MAX_TEXT, Caller, ErrorBody, Facilitator, Recorded, Room, StrictJSONRoute, _recorded

router = APIRouter(prefix="/api/exercise", responses=ERRORS, route_class=StrictJSONRoute, tags=["exercise"])
CHANGES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad input (a name), malformed JSON, or JSON beyond the limits"},
    404: {"model": ErrorBody, "description": "no such inject or objective (a player: none published to them); "
                                               "or the drill is not a tabletop"},
    409: {"model": ErrorBody, "description": "not now: the drill has not started or is over; the inject was already "
                                               "published or skipped; no scheduled inject is left"},
    413: {"model": ErrorBody, "description": "request body over 64 KiB"},
    415: {"model": ErrorBody, "description": "request body is not JSON"},
    422: {"model": ErrorBody, "description": "a field out of its range, an empty text, a pace that cannot be read or "
                                               "set, an override without its note"},
}
InjectId = Annotated[str, Path(max_length=64)]
ObjectiveId = Annotated[str, Path(max_length=64)]


def _change(path: str, **kw: Any):
    return router.api_route(path, methods=["POST"], responses=CHANGES, **kw)


# ------------------------------------------------------------------ bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaceBody(_Body):
    pace: str = Field(min_length=1, max_length=40, description="SCENARIO:WALL ('4h:45m'), 'real' or 'manual'")


class NoteBody(_Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    objective: str | None = Field(None, max_length=64, description="the objective it is about (none: the exercise)")


class RatingBody(_Body):
    rating: Literal["P", "S", "M", "U"]
    note: str = Field(min_length=1, max_length=MAX_TEXT, description="why the derived rating is overridden")


class DecisionBody(_Body):
    decision: str = Field(min_length=1, max_length=MAX_TEXT)
    options: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20,
                                                                  description="the options weighed")
    decided_by: str = Field(min_length=1, max_length=60, description="who decided")
    rationale: str = Field("", max_length=MAX_TEXT)
    inject: str | None = Field(None, max_length=64, description="the inject it answers (a player: one published to them)")


class HotWashBody(_Body):
    person: str | None = Field(None, max_length=60, description="whose entry (the facilitator may name anyone; "
                                                                "a player writes their own)")
    went_well: str = Field("", max_length=MAX_TEXT)
    to_improve: str = Field("", max_length=MAX_TEXT)


class Advancing(BaseModel):
    inject: str = Field(description="the next scheduled inject: the scenario clock moves to its time and it is published")


class Cleared(BaseModel):
    cleared: list[str] = Field(description="the faults whose simulated shadows cleared (empty: none was open)")


# ------------------------------------------------------------------ reading
@router.get("", summary="the exercise as the caller may see it (a player: the injects published to them)")
def exercise(who: Caller, room: Room) -> dict[str, Any]:
    room.desk  # noqa: B018 - 404 unless the drill is a tabletop
    view: dict[str, Any] = room.state(who)["exercise"]
    return {"now_t": room.now_t(), **view}


@router.get("/injects/{inject}/panel.svg", summary="an inject's dashboard panel, drawn up to its publication",
            response_class=Response, responses={200: {"content": {"image/svg+xml": {}}},
                                                404: {"model": ErrorBody, "description": "no such panel for you"}})
def panel(inject: InjectId, who: Caller, room: Room) -> Response:
    return Response(room.desk.panel_svg(who, inject), media_type="image/svg+xml")


# ------------------------------------------------------------------ the facilitator's console
@_change("/injects/{inject}/publish", response_model=Recorded, summary="facilitator: publish an inject now")
def publish(inject: InjectId, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.desk.publish(who, inject))


@_change("/injects/{inject}/hold", response_model=Recorded, summary="facilitator: hold an upcoming inject")
def hold(inject: InjectId, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.desk.hold(who, inject))


@_change("/injects/{inject}/skip", response_model=Recorded, summary="facilitator: never publish this inject")
def skip(inject: InjectId, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.desk.skip(who, inject))


@_change("/next", response_model=Advancing, status_code=202,
         summary="facilitator: advance the scenario clock to the next scheduled inject and publish it")
def advance(who: Facilitator, room: Room) -> Advancing:
    return Advancing(inject=room.desk.next(who))


@_change("/pace", response_model=Recorded, summary="facilitator: change the pace ('4h:45m', 'real', 'manual')")
def pace(body: PaceBody, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.desk.set_pace(who, body.pace))


@_change("/mitigate", response_model=Cleared, summary="facilitator: the players' fix works (simulated faults clear)")
def mitigate(who: Facilitator, room: Room) -> Cleared:
    return Cleared(cleared=room.desk.mitigate(who))


@_change("/notes", response_model=Recorded, status_code=201, summary="facilitator: an evaluator note")
def note(body: NoteBody, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.desk.note(who, body.text, body.objective))


@_change("/objectives/{objective}/rating", response_model=Recorded, status_code=201,
         summary="facilitator: override an objective's derived rating (P/S/M/U), with a note")
def rate(objective: ObjectiveId, body: RatingBody, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.desk.rate(who, objective, body.rating, body.note))


# ------------------------------------------------------------------ anyone
@_change("/decisions", response_model=Recorded, status_code=201, summary="an entry of the decision log")
def decide(body: DecisionBody, who: Caller, room: Room) -> Recorded:
    return _recorded(room.desk.decide(who, body.decision, body.options, body.decided_by, body.rationale, body.inject), who,
                     room)


@_change("/hotwash", response_model=Recorded, status_code=201, summary="a hot wash entry (what went well, what to improve)")
def hot_wash(body: HotWashBody, who: Caller, room: Room) -> Recorded:
    return _recorded(room.desk.hot_wash(who, body.person, body.went_well, body.to_improve), who, room)

