"""The control room's HTTP API (JSON), used by the pages and by ``gameday act``/``gameday status``.

Routes live here at module level (no closures); each is a thin call into
:class:`~gameday.web.room.ControlRoom`, found on ``request.app.state.room``. A tabletop's
routes (``/api/exercise/...``: the facilitator's console, the decision log, the hot wash) are in
:mod:`gameday.web.exercise_api`, a training's (``/api/training/...``: the trainee's instructions) in
:mod:`gameday.web.training_api`. Every route
needs a token (see :mod:`gameday.web.auth`); responders get 403 on facilitator routes.
Errors are ``{"error": "..."}`` with 400 (bad input, malformed JSON, or JSON beyond the limits of
:mod:`gameday.model.jsonsafe`: see :class:`StrictJSONRoute`), 401 (no or
unknown token), 403 (not allowed for this token), 404 (no such fault, runbook, person),
409 (not now: before start, after the end, already done), 413 (body over 64 KiB), 415
(body not JSON), 422 (a field out of its range: ``detail`` lists them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from gameday.model.events import ActionDetails, Event, Payload
from gameday.model.jsonsafe import JSONLimitError, loads_strict
from gameday.model.terms import Audience, Severity
from gameday.web.auth import COOKIE, Principal, csrf_problem, host_allowed, token_from_headers
from gameday.web.live import stream
from gameday.web.room import ControlRoom, RoomError

MAX_TEXT = 4000
class ErrorBody(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no token, or a token that is not (or no longer) valid"},
    403: {"model": ErrorBody, "description": "not allowed for this token (a responder on a facilitator route, "
                                               "a role not held, acting as someone else, CSRF)"},
    421: {"model": ErrorBody, "description": "a non-loopback Host header on a loopback server"},
}
#: The further answers of a route that changes the drill.
CHANGES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad input (a name, a role), malformed JSON, or JSON beyond the limits "
                                               "(nesting deeper than 64, NaN/Infinity, an integer of over 640 digits)"},
    404: {"model": ErrorBody, "description": "no such fault, runbook or person"},
    409: {"model": ErrorBody, "description": "not now: the drill has not started, is over, or this was already done"},
    413: {"model": ErrorBody, "description": "request body over 64 KiB"},
    415: {"model": ErrorBody, "description": "request body is not JSON"},
}


# ------------------------------------------------------------------ who is asking
def room_of(request: Request) -> ControlRoom:
    return request.app.state.room


def caller(request: Request) -> Principal:
    """The token's owner; refuses (401/403/415/421) before any route runs."""
    room = room_of(request)
    if not host_allowed(request.headers.get("host"), room.bind_host):
        raise RoomError(421, "this server answers on loopback host names only")
    token, how = token_from_headers(request.headers, request.cookies)
    if token is None:
        raise RoomError(401, "a token is needed: open your join link, or send Authorization: Bearer TOKEN")
    who = room.registry.lookup(token)
    if who is None:
        raise RoomError(401, "this token is not valid (revoked, or from another drill)")
    host = request.headers.get("host", "")
    problem = csrf_problem(request.method, how, request.headers, {f"http://{host}", f"https://{host}"})
    if problem:
        raise RoomError(403, problem)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.headers.get("content-length", "0") not in ("", "0"):
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise RoomError(415, "the request body must be JSON (Content-Type: application/json)")
    room.joined(who, token)
    return who


def facilitator_only(who: Annotated[Principal, Depends(caller)]) -> Principal:
    if not who.facilitator:
        raise RoomError(403, "only the facilitator can do this")
    return who


Caller = Annotated[Principal, Depends(caller)]
Facilitator = Annotated[Principal, Depends(facilitator_only)]
Room = Annotated[ControlRoom, Depends(room_of)]


# ------------------------------------------------------------------ request bodies: strict JSON
class _StrictJSONRequest(Request):
    """A request whose JSON body is read within the limits of :mod:`gameday.model.jsonsafe` (UTF-8 only)."""

    async def json(self) -> Any:
        if not hasattr(self, "_strict_json"):
            raw = await self.body()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise JSONLimitError("the body is not UTF-8", raw.decode("utf-8", errors="replace"), exc.start) from None
            self._strict_json = loads_strict(text)
        return self._strict_json


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is parsed strictly before FastAPI validates it: a body beyond the
    limits (nesting deeper than 64, ``NaN``/``Infinity``/``1e999``, an integer of over 640 digits,
    an unpaired surrogate, not UTF-8) is a 400 naming what and where, as the webhook intake answers;
    a body that is not JSON at all stays FastAPI's (400 ``malformed JSON body``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def strict(request: Request) -> Response:
            request = _StrictJSONRequest(request.scope, request.receive)
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if takes_body and (ctype == "application/json" or ctype.endswith("+json")) and await request.body():
                try:
                    await request.json()
                except JSONLimitError as exc:
                    return error_response(RoomError(400, f"JSON body beyond the limits: {exc.msg} "
                                                         f"at line {exc.lineno} column {exc.colno}"))
                except json.JSONDecodeError:
                    pass  # not JSON at all: FastAPI answers it (malformed JSON body)
            return await handler(request)

        return strict


router = APIRouter(prefix="/api", responses=ERRORS, route_class=StrictJSONRoute)


def _change(path: str, *, method: str = "POST", **kw: Any):
    """A route that changes the drill, documented with its further 4xx answers."""
    return router.api_route(path, methods=[method], responses=CHANGES, **kw)


# ------------------------------------------------------------------ bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ActAs(_Body):
    as_: str | None = Field(None, alias="as", max_length=60,
                            description="who did it: a responder's token acts as its owner (omit, or the same name); "
                                        "the facilitator's token may act for anyone")
    role: str | None = Field(None, max_length=40, description="the role acted in (a responder must hold it); "
                                                              "default: the role the author holds")


class Declare(ActAs):
    severity: Severity | None = Field(None, description="declare with a severity (also counts as setting it)")


class SetSeverity(ActAs):
    severity: Severity


class Text(ActAs):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Update(Text):
    audience: Audience


class RunRunbook(ActAs):
    runbook: str = Field(min_length=1, max_length=64)


class AssignRole(_Body):
    as_: str | None = Field(None, alias="as", max_length=60, description="who assigns (as for actions)")
    person: str = Field(min_length=1, max_length=60)
    role: str = Field(min_length=1, max_length=40)


class Invite(_Body):
    person: str = Field(min_length=1, max_length=60)
    role: str | None = Field(None, max_length=40, description="assign this role too")


class Reason(_Body):
    reason: str = Field("", max_length=500)


class Recorded(BaseModel):
    seq: int | None = Field(description="the journal event's sequence number (None in the lobby: journaled at start)")
    kind: str | None
    t: float | None


class Done(BaseModel):
    status: str


class Joined(BaseModel):
    person: str
    token: str = Field(description="shown once: hand it (or the join link) to the person")
    join_url: str


class Me(BaseModel):
    name: str
    facilitator: bool


class Draft(BaseModel):
    audience: Audience
    text: str
    note: str | None = None


def _recorded(ev: Event[Payload] | None, who: Principal | None = None, room: ControlRoom | None = None) -> Recorded:
    """The answer to a change: the event journaled (for a player, numbered as players number events)."""
    if ev is None:
        return Recorded(seq=None, kind=None, t=None)
    seq = room.player_seq(ev.seq) if who is not None and room is not None and not who.facilitator else ev.seq
    return Recorded(seq=seq, kind=ev.kind, t=ev.t)


# ------------------------------------------------------------------ reading
@router.get("/me", response_model=Me, summary="who this token is")
def me(who: Caller) -> Me:
    return Me(name=who.name, facilitator=who.facilitator)


@router.get("/state", summary="the page state, rebuilt from the journal (filtered for responders)",
            response_class=JSONResponse, responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}})
def state(who: Caller, room: Room) -> JSONResponse:
    # plain JSON data already: encoded directly (FastAPI's jsonable_encoder walk took half of a page's ~10 ms)
    return JSONResponse(room.state(who))


@router.get("/stream", summary="server-sent events: one 'journal' message per new event the caller may see",
            response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def live(request: Request, who: Caller, room: Room) -> StreamingResponse:
    token, _ = token_from_headers(request.headers, request.cookies)
    client = room.hub.subscribe(who)
    body = stream(room.hub, client, lambda: room.registry.lookup(token) is not None)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: Caller) -> dict[str, Any]:
    """This API's OpenAPI document (generated by FastAPI from these routes)."""
    return request.app.openapi()


@router.get("/drafts/{audience}", response_model=Draft, summary="a status update drafted from the comms template")
def draft(audience: Audience, who: Caller, room: Room) -> Draft:
    text, note = room.draft_update(audience, who)
    return Draft(audience=audience, text=text, note=note)


# ------------------------------------------------------------------ session (browser)
@_change("/session", response_model=Me, summary="exchange a token (header) for an HttpOnly session cookie")
def open_session(request: Request, response: Response, who: Caller) -> Me:
    token, how = token_from_headers(request.headers, request.cookies)
    if how != "header":
        raise RoomError(400, "send the token in X-Gameday-Token or Authorization: Bearer")
    set_session_cookie(response, token or "", request)
    return Me(name=who.name, facilitator=who.facilitator)


@_change("/session", response_model=Done, summary="forget the session cookie", method="DELETE")
def close_session(response: Response, who: Caller) -> Done:
    response.delete_cookie(COOKIE, path="/", samesite="strict", httponly=True)
    return Done(status="signed out")


def set_session_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


# ------------------------------------------------------------------ responder actions
def _started(who: Principal, room: ControlRoom) -> None:
    """A responder acts once the drill has started: in the lobby, 409 before anything else is asked (a
    trainee assigning a role before the start hears that the drill has not started, not who may assign)."""
    if who.facilitator:
        return
    if room.training is not None:
        room.training_desk.require_live()
    else:
        room.require_live()


def _act(room: ControlRoom, who: Principal, action: str, body: ActAs, details: ActionDetails | None = None) -> Recorded:
    _started(who, room)
    return _recorded(room.act(who, action, details or ActionDetails(), body.as_, body.role), who, room)


@_change("/actions/acknowledge", response_model=Recorded, summary="acknowledge the page")
def acknowledge(body: ActAs, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "acknowledge", body)


@_change("/actions/declare_incident", response_model=Recorded,
         summary="declare an incident (optionally with a severity)")
def declare_incident(body: Declare, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "declare_incident", body, ActionDetails(severity=body.severity))


@_change("/actions/set_severity", response_model=Recorded, summary="set the incident's severity")
def set_severity(body: SetSeverity, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "set_severity", body, ActionDetails(severity=body.severity))


@_change("/actions/mark_detected", response_model=Recorded, summary="a person noticed the problem")
def mark_detected(body: ActAs, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "mark_detected", body)


@_change("/actions/post_update", response_model=Recorded, summary="post a status update to an audience")
def post_update(body: Update, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "post_update", body, ActionDetails(audience=body.audience, text=body.text))


@_change("/actions/notify_executives", response_model=Recorded, summary="notify executives")
def notify_executives(body: Text, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "notify_executives", body, ActionDetails(text=body.text))


@_change("/actions/note", response_model=Recorded, summary="add a note to the timeline")
def note(body: Text, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "note", body, ActionDetails(text=body.text))


@_change("/actions/resolved", response_model=Recorded, summary="mark the incident resolved")
def resolved(body: ActAs, who: Caller, room: Room) -> Recorded:
    return _act(room, who, "resolved", body)


@_change("/actions/runbook", response_model=Recorded, status_code=202,
         summary="run one of the scenario's runbooks (its result follows in the timeline)")
def runbook(body: RunRunbook, who: Caller, room: Room) -> Recorded:
    _started(who, room)
    return _recorded(room.run_runbook(who, body.runbook, body.as_, body.role), who, room)


@_change("/actions/assign_role", response_model=Recorded, summary="assign or hand over a role")
def assign_role(body: AssignRole, who: Caller, room: Room) -> Recorded:
    _started(who, room)
    return _recorded(room.assign_role(who, body.person, body.role, body.as_), who, room)


# ------------------------------------------------------------------ facilitator
@_change("/drill/start", response_model=Done, status_code=202,
         summary="facilitator (in a training drill, the trainee too): start the drill")
def start(who: Caller, room: Room) -> Done:
    if room.training is not None:  # the trainee may start a training: the rule of /api/training/start, the same
        room.training_desk.start(who)
    else:
        room.start(who)
    return Done(status="starting")


@_change("/drill/pause", response_model=Done, summary="facilitator: pause the drill clock (tabletop use)")
def pause(who: Facilitator, room: Room) -> Done:
    room.pause(who)
    return Done(status="paused")


@_change("/drill/resume", response_model=Done, summary="facilitator: resume the drill clock")
def resume(who: Facilitator, room: Room) -> Done:
    room.resume(who)
    return Done(status="running")


@_change("/drill/abort", response_model=Done, status_code=202,
         summary="facilitator: abort (every fault is rolled back)")
def abort(body: Reason, who: Facilitator, room: Room) -> Done:
    room.abort(who, body.reason)
    return Done(status="aborting")


@_change("/drill/end", response_model=Done, status_code=202, summary="facilitator: end the drill now (not an abort)")
def end(body: Reason, who: Facilitator, room: Room) -> Done:
    room.end(who, body.reason)
    return Done(status="ending")


@_change("/faults/{fault}/inject", response_model=Done, status_code=202,
         summary="facilitator: inject a scheduled fault now")
def inject(fault: str, who: Facilitator, room: Room) -> Done:
    room.inject(who, fault)
    return Done(status="injecting")


@_change("/faults/{fault}/skip", response_model=Recorded, summary="facilitator: never inject this scheduled fault")
def skip(fault: str, who: Facilitator, room: Room) -> Recorded:
    return _recorded(room.skip(who, fault))


@_change("/responders", response_model=Joined, status_code=201, summary="facilitator: issue a join link for a person")
def invite(body: Invite, who: Facilitator, room: Room) -> Joined:
    name, token = room.invite(who, body.person, body.role)
    return Joined(person=name, token=token, join_url=f"{room.base_url}/join#{token}")


@_change("/responders/{person:path}", response_model=Done,  # a name may hold '/', sent as %2F
         summary="facilitator: revoke a person's join link", method="DELETE")
def revoke(person: str, who: Facilitator, room: Room) -> Done:
    room.revoke(who, person)
    return Done(status="revoked")


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def no_such_route(rest: str) -> JSONResponse:
    """Last in the router: an unknown ``/api`` path answers JSON 404 like every other API error (not the
    plain-text 404 of the webhook intake mounted underneath)."""
    return JSONResponse({"error": "no such API route"}, 404, headers={"Cache-Control": "no-store"})


def error_response(exc: RoomError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, exc.status, headers={"Cache-Control": "no-store"})
