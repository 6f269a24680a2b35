"""The detection intake: an HTTP endpoint that takes alert webhooks and hands them to the conductor.

``POST /webhooks/{format}`` takes one vendor's body: ``alertmanager`` (v4) here, and
``grafana``, ``pagerduty`` (v3), ``opsgenie`` and ``generic`` from
:mod:`gameday.adapters.formats`. Everything received is journaled (through the sink),
matched or not, refused or not. Responses:

* 200 — journaled (the body says whether it matched a detection signal)
* 400 — not JSON, JSON beyond the limits of :mod:`gameday.model.jsonsafe` (nesting deeper
  than 64, a non-finite number such as ``NaN``/``Infinity``/``1e999``, an integer of over
  640 digits, an unpaired surrogate), or not the expected shape; journaled with the error
  (and, for what is not JSON, an excerpt of the body as text). Such a body can never succeed,
  so it is never answered 503
* 401 — a verifier is configured and the delivery's bearer token or HMAC signature is
  missing or wrong (journaled as refused with ``error: "unauthenticated: ..."``, no alerts,
  and only a short excerpt of the body: never matched, never a detection)
* 413 — body larger than the limit (journaled without the body)
* 415 — content type is not JSON (journaled)
* 503 — not journaled: the drill has not started yet (or its journal is closed); the
  sender retries, as Alertmanager does

A sender that disconnects before its body is complete gets no answer (there is no one to
answer); the delivery is journaled as refused, without a body (``error: "sender
disconnected ..."``), and nothing is printed. Every answer leaves the connection open for
the sender's next request (keep-alive).

The arrival time is read when the request reaches the application, before the body is
parsed, and is the time the journal records. The sink runs on one dedicated thread, fed in
arrival order: the event loop never waits for a journal fsync, so it keeps reading (and
time-stamping) the next deliveries meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from pydantic import ValidationError

from gameday.adapters.alerts import PayloadError, parse_alertmanager
from gameday.adapters.formats import FORMATS
from gameday.model.alerts import Alert
from gameday.model.eventio import EventError
from gameday.model.events import AlertReceived, Event
from gameday.model.jsonsafe import JSONLimitError, loads_strict

MAX_BODY = 1024 * 1024
REFUSED_EXCERPT = 256  # characters of an unauthenticated body kept in the journal
EXCERPT = 4096  # characters of a body that is not (acceptable) JSON kept in the journal, as text

# sink(format, payload, alerts, received_at=..., error=...) -> journaled event (or anything)
Sink = Callable[..., "Event[AlertReceived] | None"]
"""One delivery to the drill: ``sink(fmt, payload, alerts, *, received_at, error)`` -> its journal event (None: no drill yet)."""


class NotJournaled:
    """What the sink's failure leaves: answered 503 (the sender retries), or, when the journal refused the
    event itself (``final``: the same body can never be journaled), 400; ``status`` 409 when this drill
    takes no webhook at all (a tabletop)."""

    def __init__(self, why: str, *, final: bool = False, status: int = 503):
        self.why, self.final, self.status = why, final, status


class DeliveryRefused(Exception):
    """Raised by a sink that takes no webhook delivery in this drill (a tabletop: its alerts are
    simulated, and a real one must not count as the players' detection): answered 409, not journaled."""


class _Disconnected:
    """The sender went away before its body was complete: no one to answer."""


PARSERS: dict[str, Callable[[Any], list[Alert]]] = {"alertmanager": parse_alertmanager, **FORMATS}


def make_intake_app(sink: Sink, *, max_body: int = MAX_BODY, clock: Callable[[], float] = time.monotonic,
                    verifier: Any = None):
    """A Starlette app serving ``POST /webhooks/{format}``; each delivery goes to ``sink``.

    ``verifier`` (an :class:`~gameday.adapters.intake_auth.IntakeVerifier`, or None for no
    authentication) checks each delivery's credentials against its raw body.
    """
    from starlette.applications import Starlette
    from starlette.routing import Route

    intake = WebhookIntake(sink, max_body=max_body, clock=clock, verifier=verifier)
    return Starlette(routes=[Route("/webhooks/{fmt}", intake.receive, methods=["POST"])])


class WebhookIntake:
    """The endpoint's handler: reads, checks and parses one delivery, and journals it through ``sink``."""

    def __init__(self, sink: Sink, *, max_body: int = MAX_BODY, clock: Callable[[], float] = time.monotonic,
                 verifier: Any = None):
        self.sink, self.max_body, self.clock, self.verifier = sink, max_body, clock, verifier
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-journal")  # one thread: FIFO order

    async def _journal(self, *args: Any, **kwargs: Any) -> Event[AlertReceived] | NotJournaled:
        try:
            event = await asyncio.get_running_loop().run_in_executor(self._writer, partial(self.sink, *args, **kwargs))
        except DeliveryRefused as exc:
            return NotJournaled(str(exc), status=409)
        except (EventError, ValidationError) as exc:  # the event itself cannot be journaled: retrying cannot help
            return NotJournaled(_one_line(exc), final=True)
        except Exception as exc:  # noqa: BLE001 - e.g. the drill's journal is closed: answered 503, never a crash
            return NotJournaled(f"{type(exc).__name__}: {_one_line(exc)}")
        # no journal yet (the drill has not started): 503, so the sender (Alertmanager) retries
        return NotJournaled("the drill has not started yet") if event is None else event

    async def receive(self, request):
        """``POST /webhooks/{fmt}`` (a Starlette ``Request``): the response codes are in the module docstring."""
        from starlette.responses import JSONResponse, Response

        arrived = self.clock()
        fmt = request.path_params["fmt"]
        parser = PARSERS.get(fmt)
        if parser is None:
            return JSONResponse({"error": f"unknown webhook format {fmt!r}; known: {', '.join(PARSERS)}"}, 404)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await self._read_body(request, fmt, arrived)
        if body is None:
            return JSONResponse({"error": f"body larger than {self.max_body} bytes"}, 413)
        if isinstance(body, _Disconnected):
            return Response(status_code=400)  # never sent: uvicorn drops an answer to a closed connection
        if self.verifier is not None:
            auth = self.verifier.verify(request.headers, bytes(body))
            if not auth.ok:
                excerpt = bytes(body[:REFUSED_EXCERPT]).decode("utf-8", errors="replace")
                await self._journal(fmt, excerpt, [], received_at=arrived, error=f"unauthenticated: {auth.reason}")
                return JSONResponse({"error": "unauthenticated"}, 401, headers={"WWW-Authenticate": 'Bearer realm="gameday"'})
        text = body.decode("utf-8", errors="replace")
        if ctype != "application/json" and not ctype.endswith("+json"):
            await self._journal(fmt, text[:EXCERPT], [], received_at=arrived,
                                error=f"unsupported content type {ctype or 'none'!r}")
            return JSONResponse({"error": "content type must be application/json"}, 415)
        try:
            payload = loads_strict(text)
        except json.JSONDecodeError as exc:  # JSONLimitError too: NaN, nesting, a huge integer, a lone surrogate
            what = "JSON beyond the intake's limits" if isinstance(exc, JSONLimitError) else "malformed JSON"
            error = f"{what}: {exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"
            await self._journal(fmt, text[:EXCERPT], [], received_at=arrived, error=error)
            return JSONResponse({"error": error}, 400)
        try:
            alerts = parser(payload)
        except PayloadError as exc:
            await self._journal(fmt, payload, [], received_at=arrived, error=str(exc))
            return JSONResponse({"error": str(exc)}, 400)
        except Exception as exc:  # noqa: BLE001 - an adapter bug answers 400 and is journaled, never takes the intake down
            error = f"{fmt} adapter failed: {type(exc).__name__}: {_one_line(exc)}"[:500]
            await self._journal(fmt, payload, [], received_at=arrived, error=error)
            return JSONResponse({"error": error}, 400)
        event = await self._journal(fmt, payload, alerts, received_at=arrived, error=None)
        if isinstance(event, NotJournaled) and event.final:  # journal the refusal instead, with the body as text
            error = f"cannot be journaled: {event.why}"[:500]
            await self._journal(fmt, text[:EXCERPT], [], received_at=arrived, error=error)
            return JSONResponse({"error": error}, 400)
        if isinstance(event, NotJournaled):
            return JSONResponse({"error": f"not journaled: {event.why}"}, event.status)
        return JSONResponse({"status": "journaled", "alerts": len(alerts), "matched": event.data.matched,
                             "seq": event.seq})

    async def _read_body(self, request, fmt: str, arrived: float) -> bytearray | _Disconnected | None:
        """The raw body; None (journaled as too large) past ``max_body``, declared or streamed;
        :class:`_Disconnected` (journaled as refused) if the sender left before the end of it."""
        from starlette.requests import ClientDisconnect

        declared = request.headers.get("content-length")
        if declared is not None and not (declared.isascii() and declared.isdigit()):
            declared = None  # (the server refuses a malformed Content-Length before this runs)
        if declared is not None and int(declared) > self.max_body:
            await self._journal(fmt, None, [], received_at=arrived,
                                error=f"body too large ({declared} bytes > {self.max_body})")
            return None
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > self.max_body:
                    await self._journal(fmt, None, [], received_at=arrived,
                                        error=f"body too large (> {self.max_body} bytes)")
                    return None
        except ClientDisconnect:
            got = f"{len(body)} of {declared} bytes" if declared is not None else f"{len(body)} bytes"
            await self._journal(fmt, None, [], received_at=arrived,
                                error=f"sender disconnected before the end of the body ({got} received)")
            return _Disconnected()
        return body


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (a pydantic error spans several), at most 300 characters."""
    text = " ".join(str(exc).split())
    return text[:300]
