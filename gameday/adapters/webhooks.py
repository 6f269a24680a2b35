"""The detection intake: an HTTP endpoint that takes alert webhooks and hands them to the conductor.

``POST /webhooks/alertmanager`` takes Alertmanager's v4 body. Everything received is
journaled (through the sink), matched or not, refused or not. Responses:

* 200 — journaled (the body says whether it matched a detection signal)
* 400 — not JSON, or not the expected shape (journaled with the error)
* 413 — body larger than the limit (journaled without the body)
* 415 — content type is not JSON (journaled)

The arrival time is read when the request reaches the application, before the body is
parsed, and is the time the journal records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from gameday.adapters.alerts import Alert, PayloadError, parse_alertmanager

MAX_BODY = 1024 * 1024

# sink(format, payload, alerts, received_at=..., error=...) -> journaled event (or anything)
Sink = Callable[..., Any]

PARSERS: dict[str, Callable[[Any], list[Alert]]] = {"alertmanager": parse_alertmanager}


def make_intake_app(sink: Sink, *, max_body: int = MAX_BODY, clock: Callable[[], float] = time.monotonic):
    """A Starlette app serving ``POST /webhooks/{format}``; each delivery goes to ``sink``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def receive(request: Request) -> JSONResponse:
        arrived = clock()
        fmt = request.path_params["fmt"]
        parser = PARSERS.get(fmt)
        if parser is None:
            return JSONResponse({"error": f"unknown webhook format {fmt!r}; known: {', '.join(PARSERS)}"}, 404)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            sink(fmt, None, [], received_at=arrived, error=f"body too large ({declared} bytes > {max_body})")
            return JSONResponse({"error": f"body larger than {max_body} bytes"}, 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                sink(fmt, None, [], received_at=arrived, error=f"body too large (> {max_body} bytes)")
                return JSONResponse({"error": f"body larger than {max_body} bytes"}, 413)
        text = body.decode("utf-8", errors="replace")
        if ctype != "application/json" and not ctype.endswith("+json"):
            sink(fmt, text[:4096], [], received_at=arrived, error=f"unsupported content type {ctype or 'none'!r}")
            return JSONResponse({"error": "content type must be application/json"}, 415)
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            sink(fmt, text[:4096], [], received_at=arrived, error=f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
            return JSONResponse({"error": f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"}, 400)
        try:
            alerts = parser(payload)
        except PayloadError as exc:
            sink(fmt, payload, [], received_at=arrived, error=str(exc))
            return JSONResponse({"error": str(exc)}, 400)
        event = sink(fmt, payload, alerts, received_at=arrived, error=None)
        matched = bool(getattr(event, "data", {}).get("matched"))
        return JSONResponse({"status": "journaled", "alerts": len(alerts), "matched": matched,
                             "seq": getattr(event, "seq", None)})

    return Starlette(routes=[Route("/webhooks/{fmt}", receive, methods=["POST"])])
