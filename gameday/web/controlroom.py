"""The control room: a FastAPI app over one running drill, and the drill service that serves it.

``service_for(ctx)`` (a drill service: see :mod:`gameday.drill.assemble`) returns a service
when the drill runs in ``gameday`` mode, or in ``tabletop`` mode without scripted participants
(or ``ctx.options.web`` asks for it; ``web=False`` turns it off); a tabletop's room gets the MSEL
player (``ctx.exercise``) for its console (:mod:`gameday.web.desk`), a training's the trainee's desk
(``ctx.training``, :mod:`gameday.web.training_desk`). On ``start`` the service

* builds the app (:func:`make_app`: the API of :mod:`gameday.web.api`, the pages of
  :mod:`gameday.web.pages`, ``/static``, and the webhook intake mounted underneath so
  alerts and the control room share one port) and plugs it into the drill's intake server
  (``ctx.intake``, a :class:`~gameday.web.server.BackgroundServer`), or serves it on its own
  server when that cannot take it;
* issues the facilitator's token, writes the drill file ``STATE/drills/<drill-id>.json``
  (URL, pid, the token file's path; mode 0600) and the token file (0600), so that
  ``gameday act``/``gameday status`` on this machine find the drill;
* prints the facilitator's link (in a training, the trainee's too: they are invited at once);
* holds the **start gate** (``start_gate``, a :class:`threading.Event`): the drill (:mod:`gameday.drill.play`) does
  not run the conductor until the facilitator presses start (or aborts, or a signal).

``stop`` closes the live streams, unplugs the app and removes the drill file and token file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the room is imported when a control room starts: a ci drill has none
    from gameday.drill.context import DrillContext
    from gameday.model.load import Business
    from gameday.ports import IntakeServer
    from gameday.web.room import ControlRoom

MAX_BODY = 64 * 1024
STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                     (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


def service_for(ctx: DrillContext) -> ControlRoomService | None:
    web = ctx.options.web
    if web is None:  # the mode decides: people run gameday drills and (unless scripted) tabletops and trainings
        web = ctx.mode == "gameday" or (ctx.mode in ("tabletop", "training") and ctx.options.responders is None)
    if not web:
        return None
    return ControlRoomService(ctx)


class Guard:
    """ASGI middleware for the control room's routes (the webhook intake has its own rules):
    a 64 KiB body limit (413) and security headers (CSP, nosniff, no referrer, no framing)."""

    def __init__(self, app, max_body: int = MAX_BODY):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/webhooks/"):
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + _SECURITY_HEADERS
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        if scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            return await self.app(scope, receive, send_with_headers)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            return await _too_large(send_with_headers, self.max_body)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return await _too_large(send_with_headers, self.max_body)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send_with_headers)


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": f"request body larger than {limit // 1024} KiB"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def make_app(room: ControlRoom, intake=None):
    """The control room's ASGI app; ``intake`` (the webhook app) is mounted under it, last."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.staticfiles import StaticFiles

    from gameday.version import __version__
    from gameday.web import api, exercise_api, pages, training_api
    from gameday.web.room import RoomError

    app = FastAPI(title="gameday control room", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None,  # served by api.openapi, behind the token like everything else
                  description="The HTTP API of a running drill's control room. Every request needs a token: "
                              "`Authorization: Bearer TOKEN`, `X-Gameday-Token: TOKEN`, or the session cookie set "
                              "by a join link (then changes also need `X-Requested-With: gameday`).")
    app.state.room = room

    async def room_error(request: Request, exc: RoomError):
        if request.url.path.startswith("/api/"):
            return api.error_response(exc)
        return pages.error_page(exc)

    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": "malformed JSON body"}, 400)
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
        text = "; ".join(f"{'.'.join(str(p) for p in d['loc'][1:]) or 'body'}: {d['msg']}" for d in detail)
        return JSONResponse({"error": text, "detail": detail}, 422)

    async def crashed(request: Request, exc: Exception):  # never a traceback to the client; the drill goes on
        return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, 500)

    app.add_exception_handler(RoomError, room_error)  # type: ignore[arg-type]  # Starlette types handlers on Exception
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, crashed)
    app.include_router(exercise_api.router)  # before api.router: its last route answers every unknown /api path
    app.include_router(training_api.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    if intake is not None:
        app.mount("", intake)
    return Guard(app)


def _safe_id(drill_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", drill_id).lstrip(".") or "drill"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ControlRoomService:
    """Serves the control room for the length of a drill (a :class:`~gameday.ports.DrillService`)."""

    def __init__(self, ctx: DrillContext):
        self.ctx = ctx
        self.start_gate = threading.Event()
        self.room: ControlRoom | None = None
        self.url = ""
        self._mounted_on: IntakeServer | None = None
        folder = Path(ctx.state_dir) / "drills"
        self.drill_file = folder / f"{_safe_id(ctx.drill_id)}.json"
        self.token_file = folder / f"{_safe_id(ctx.drill_id)}.token"

    def start(self) -> None:
        from gameday.web.auth import TokenRegistry
        from gameday.web.room import ControlRoom

        ctx, opts = self.ctx, self.ctx.options
        policy = ctx.project.config.policy.scaled(ctx.scenario.policy.scale)
        host = opts.host or "127.0.0.1"
        registry = TokenRegistry()
        token = registry.issue_facilitator()
        self.room = ControlRoom(scenario=ctx.scenario, policy=policy, conductor=ctx.conductor, journal=ctx.journal,
                                drill_id=ctx.drill_id, mode=ctx.mode, registry=registry, gate=self.start_gate,
                                bind_host=host, draft=_draft_function(),
                                draft_options=_draft_options(ctx), exercise=ctx.exercise, training=ctx.training)
        server = ctx.intake  # the control room shares the intake's server (and port)
        server.mount(make_app(self.room, intake=server.base_app))
        self._mounted_on = server
        self.url = self.room.base_url = server.url
        self._write_drill_file(token)
        ctx.echo(f"control room: {self.url}/join#{token}")
        ctx.echo("  (the facilitator's link: keep it private; invite responders from the room or with "
                 f"'gameday act {ctx.drill_id} invite NAME [ROLE]')")
        if ctx.training is not None:  # the trainee is invited at once; they hold incident-commander from the start
            trainee = ctx.training.trainee
            ctx.echo(f"trainee ({trainee}): {self.url}/join#{registry.issue(trainee)}")
            ctx.echo("  (the trainee's link: they give the instructions there, and may start the drill themselves)")

    def _write_drill_file(self, token: str) -> None:
        folder = self.drill_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        _write_private(self.token_file, token + "\n")
        info: dict[str, Any] = {"drill_id": self.ctx.drill_id, "url": self.url, "pid": os.getpid(),
                                "token_file": str(self.token_file), "scenario": str(self.ctx.loaded.path),
                                "journal": str(self.ctx.journal.path), "title": self.ctx.scenario.title}
        _write_private(self.drill_file, json.dumps(info, indent=2) + "\n")

    def stop(self) -> None:
        room = self.room
        if room is not None:
            room.hub.close()
            if room.hub.on_event in self.ctx.journal.listeners:
                self.ctx.journal.listeners.remove(room.hub.on_event)
        if self._mounted_on is not None:
            self._mounted_on.unmount()
        for path in (self.drill_file, self.token_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _draft_options(ctx: DrillContext) -> dict[str, Any]:
    business: Business | None = ctx.scenario.business or ctx.project.config.business
    return {"templates_dir": ctx.project.templates_dir, "business": business}


def _draft_function():
    try:
        from gameday.comms import draft_update
    except ImportError:
        return None
    return draft_update
