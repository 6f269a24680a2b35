"""Live updates: journal events pushed to browsers as server-sent events.

The hub is a journal listener (called on the thread that appended the event, after it is
on disk). Each connected page has an asyncio queue on the server's event loop; the hub
hands it events with ``loop.call_soon_threadsafe``. A page treats every message as "the
journal grew" and fetches ``GET /api/state`` again — so a page that reconnects, or
reloads, rebuilds everything from the journal and nothing is kept per client.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from gameday.model.events import Event, InjectPublished, Payload, PhaseChanged
from gameday.web.auth import Principal
from gameday.web.exercise_state import published_row
from gameday.web.state import visible

QUEUE_SIZE = 1000
KEEPALIVE = 15.0
_CLOSE = object()
#: Who may hear of an event: given the event, a test of each connected page's principal.
Audience = Callable[[Event[Payload]], Callable[[Principal], bool]]


def default_audience(event: Event[Payload]) -> Callable[[Principal], bool]:
    """The facilitator hears of every event the timeline shows (and the phases); a responder of
    those :func:`~gameday.web.state.visible` lets them see (an inject addressed to a role: no one)."""
    phase = isinstance(event.data, PhaseChanged)
    return lambda p: visible(event, p.facilitator) or (phase and p.facilitator)


@dataclass(eq=False)
class Client:
    principal: Principal
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def push(self, item: object) -> None:  # on the client's loop
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            if not self.overflowed:
                self.overflowed = True


class LiveHub:
    """Fans journal events out to the connected pages, each to those its ``audience`` lets hear of it."""

    def __init__(self, audience: Audience = default_audience) -> None:
        self._lock = threading.Lock()
        self._clients: set[Client] = set()
        self.closed = False
        self.audience = audience
        #: a player's number for an event (the facilitator's is its seq); None: every page gets seqs
        self.number: Callable[[int], int | None] | None = None

    def on_event(self, event: Event[Payload]) -> None:
        with self._lock:
            clients = list(self._clients)
        if not clients:
            return
        hears = self.audience(event)
        for c in clients:
            if hears(c.principal):
                self._send(c, event)

    def _send(self, c: Client, item: object) -> None:
        try:
            c.loop.call_soon_threadsafe(c.push, item)
        except RuntimeError:  # its loop is gone (server stopped)
            self.unsubscribe(c)

    def subscribe(self, principal: Principal) -> Client:
        client = Client(principal, asyncio.get_running_loop())
        with self._lock:
            self._clients.add(client)
            if self.closed:
                client.push(_CLOSE)
        return client

    def unsubscribe(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)

    def drop(self, person: str) -> None:
        """End the streams of a responder whose link was revoked."""
        with self._lock:
            clients = [c for c in self._clients if c.principal.name == person and not c.principal.facilitator]
        for c in clients:
            self._send(c, _CLOSE)

    def close(self) -> None:
        """End every stream (the drill is over; lets the server stop at once)."""
        with self._lock:
            self.closed = True
            clients = list(self._clients)
        for c in clients:
            self._send(c, _CLOSE)


def _message(event: str, data: dict, ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def stream(hub: LiveHub, client: Client, still_valid: Callable[[], bool]) -> AsyncIterator[str]:
    """The text/event-stream body for one page: ``hello``, then ``journal`` per event (seq and
    kind; with a published inject, what its players see of it, so a page shows it without a round
    trip), ``resync`` after an overflow, ``bye`` at the end; a comment every 15 s."""
    try:
        yield "retry: 2000\n\n"
        yield _message("hello", {})
        while True:
            try:
                item = await asyncio.wait_for(client.queue.get(), KEEPALIVE)
            except TimeoutError:
                if not still_valid():
                    yield _message("bye", {"reason": "revoked"})
                    return
                yield ": keepalive\n\n"
                continue
            if client.overflowed:
                client.overflowed = False
                while not client.queue.empty():
                    client.queue.get_nowait()
                yield _message("resync", {})
                continue
            if item is _CLOSE:
                yield _message("bye", {"reason": "revoked" if not still_valid() else "closed"})
                return
            if isinstance(item, Event):
                number = item.seq if client.principal.facilitator or hub.number is None else hub.number(item.seq)
                data: dict[str, object] = {"seq": number, "kind": item.kind}
                if isinstance(item.data, InjectPublished):  # the page shows it at once (the state follows)
                    data["inject"] = {**published_row(item, facilitator=False), "seq": number}
                yield _message("journal", data, number)
    finally:
        hub.unsubscribe(client)
