"""The control room's pages: server-rendered with Jinja2 (autoescaped), then kept live by
``static/room.js`` (which writes text only through ``textContent``: no HTML from data).

``/join`` is the only page served without a token: it turns a join link
(``/join#TOKEN``, or ``/join?token=TOKEN``) into the HttpOnly session cookie and sends
the browser on to ``/room``. ``/room`` needs the cookie (or a token header).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gameday.model.terms import format_offset
from gameday.web.api import caller, room_of, set_session_cookie
from gameday.web.room import RoomError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "web"
router = APIRouter(include_in_schema=False)


@cache
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["offset"] = _offset
    env.filters["countdown"] = _countdown
    return env


def _offset(t: Any) -> str:
    return format_offset(t if isinstance(t, (int, float)) else None)


def _countdown(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    return f"{sign}{s // 60}:{s % 60:02d}"


def render(template: str, code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env().get_template(template).render(**context), code)


def error_page(exc: RoomError) -> HTMLResponse:
    return render("error.html.j2", exc.status, status=exc.status, message=exc.message)


@router.get("/")
def home(request: Request) -> Response:
    caller(request)
    return RedirectResponse("/room", 303)


@router.get("/join")
def join(request: Request) -> Response:
    """The join link. ``?token=`` is exchanged here (then dropped from the address bar by a
    redirect); ``#token`` never reaches a server: the page's script posts it to ``/api/session``."""
    token = request.query_params.get("token")
    if token is None:
        return render("join.html.j2")
    room = room_of(request)
    who = room.registry.lookup(token)
    if who is None:
        return error_page(RoomError(401, "this join link is not valid (revoked, or from another drill)"))
    room.joined(who, token)
    response = RedirectResponse("/room", 303)
    set_session_cookie(response, token, request)
    return response


@router.get("/room")
def room_page(request: Request) -> Response:
    who = caller(request)
    room = room_of(request)
    state = room.state(who)
    return render("room.html.j2", state=state, drill=state)
