"""The facilitator's console of a tabletop, and what players may record there: who may do what,
over the MSEL player's desk (:class:`gameday.sim.msel.MselPlayer`).

Everything is journaled by the player, through the conductor; this module only checks the caller
and the input. The facilitator publishes, holds and skips injects, advances the scenario clock to
the next inject, sets the pace, rules that the players' fix works, writes evaluator notes and
overrides objective ratings. Anyone may write the decision log and a hot wash entry (the author is
the caller; a player writes their own hot wash, the facilitator may write one for a named person).
The player's :class:`~gameday.sim.msel.ExerciseError` becomes a :class:`~gameday.web.room.RoomError`
with the same status (404, 409, 422), so the API answers it like every other error.

A player never learns anything of an inject that did not reach them: every route that takes an
inject id answers a player the same 404 whether the inject does not exist, is not yet published, or
went to a role they do not hold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from gameday.model.events import Event, InjectPublished, Payload
from gameday.model.roles import role_holders
from gameday.web.auth import FACILITATOR, Principal
from gameday.web.exercise_state import inject_reaches
from gameday.web.room import RoomError, _name

if TYPE_CHECKING:
    from gameday.sim.msel import MselPlayer
    from gameday.web.room import ControlRoom

MAX_PANELS = 64  # rendered panels kept (each a few tens of KiB)


class ExerciseDesk:
    """One tabletop's console over its MSEL player (thread-safe: the player is)."""

    def __init__(self, room: ControlRoom, player: MselPlayer):
        self.room, self.player = room, player
        self._panels: dict[tuple[str, float], str] = {}
        self._render_lock = threading.Lock()  # matplotlib's rc settings are process-wide

    # ------------------------------------------------------------ facilitator
    def publish(self, who: Principal, inject: str) -> Event[Payload]:
        self._live_facilitator(who)
        return self._call(lambda: self.player.publish_now(inject, FACILITATOR))

    def hold(self, who: Principal, inject: str) -> Event[Payload]:
        self._live_facilitator(who)
        return self._call(lambda: self.player.hold(inject, FACILITATOR))

    def skip(self, who: Principal, inject: str) -> Event[Payload]:
        self._live_facilitator(who)
        return self._call(lambda: self.player.skip(inject, FACILITATOR))

    def next(self, who: Principal) -> str:
        """Advance the scenario clock to the next scheduled inject (published on the drill's thread)."""
        self._live_facilitator(who)
        return self._call(lambda: self.player.next(FACILITATOR))

    def set_pace(self, who: Principal, text: str) -> Event[Payload]:
        from gameday.sim.pace import PaceError, parse_pace

        self._live_facilitator(who)
        try:
            pace = parse_pace(text)
        except PaceError as exc:
            raise RoomError(422, str(exc).replace("--pace ", "pace ", 1)) from None
        return self._call(lambda: self.player.set_pace(pace, FACILITATOR))

    def mitigate(self, who: Principal) -> list[str]:
        """The fix works: every open simulated shadow clears (the fault ids cleared)."""
        self._live_facilitator(who)
        return self._call(lambda: self.player.mitigate(FACILITATOR))

    def note(self, who: Principal, text: str, objective: str | None) -> Event[Payload]:
        self._live_facilitator(who)
        _needs_text(text, "an evaluator note needs its text")
        return self._call(lambda: self.player.evaluator_note(text, FACILITATOR, objective))

    def rate(self, who: Principal, objective: str, rating: Literal["P", "S", "M", "U"], note: str) -> Event[Payload]:
        self._live_facilitator(who)
        return self._call(lambda: self.player.rate(objective, rating, note, FACILITATOR))

    # ------------------------------------------------------------ anyone
    def decide(self, who: Principal, decision: str, options: Sequence[str], decided_by: str, rationale: str,
               inject: str | None) -> Event[Payload]:
        """An entry of the decision log, written by the caller."""
        self.room.require_live()
        _needs_text(decision, "a decision needs its text")
        by = FACILITATOR if decided_by.strip().casefold() == FACILITATOR else _name(decided_by)
        opts = [o.strip() for o in options if o.strip()]
        if inject is not None and not who.facilitator and self._reached(who, inject) is None:
            raise _not_yours(inject)
        return self._call(lambda: self.player.decide(decision.strip(), by, who.name, opts, rationale.strip(), inject))

    def hot_wash(self, who: Principal, person: str | None, went_well: str, to_improve: str) -> Event[Payload]:
        """A hot wash entry: a player's own; the facilitator's for the person named (else their own)."""
        self.room.require_live()
        if who.facilitator:
            name = _name(person) if person else FACILITATOR
        else:
            if person and " ".join(person.split()) != who.name:
                raise RoomError(403, f"this link belongs to {who.name}; it cannot write the hot wash of {person}")
            name = who.name
        return self._call(lambda: self.player.hot_wash(name, went_well.strip(), to_improve.strip(), who.name))

    # ------------------------------------------------------------ panels
    def panel_svg(self, who: Principal, inject: str) -> str:
        """The inject's dashboard panel as SVG, drawn up to its publication (the facilitator also
        previews an unpublished one, up to now). A player: 404 unless it was published to them."""
        from gameday.sim.panel import render_panel

        entry = self.player.by_id.get(inject)
        published = self._reached(who, inject)
        if published is None and not who.facilitator:
            raise _not_yours(inject)
        if entry is None:
            raise RoomError(404, f"no inject named {inject!r}")
        if entry.panel is None:
            raise RoomError(404, f"inject {inject!r} has no dashboard panel")
        until = published.t if published is not None else self.room.now_t()
        key = (inject, until)
        with self._render_lock:
            svg = self._panels.get(key)
            if svg is None:
                svg = render_panel(self.room.scenario, entry, self.room.events, until)
                if published is not None:  # an unpublished preview changes as time goes on: not kept
                    if len(self._panels) >= MAX_PANELS:
                        self._panels.pop(next(iter(self._panels)))
                    self._panels[key] = svg
        return svg

    # ------------------------------------------------------------ helpers
    def _reached(self, who: Principal, inject: str) -> Event[Payload] | None:
        """The first publication of ``inject`` that reached the caller (the facilitator: any), else None."""
        events = self.room.events
        roles = {r for r, p in role_holders(events).items() if p == who.name}
        for e in events:
            d = e.data
            if isinstance(d, InjectPublished) and d.inject == inject and (who.facilitator or inject_reaches(d, roles)):
                return e
        return None

    def _live_facilitator(self, who: Principal) -> None:
        if not who.facilitator:
            raise RoomError(403, "only the facilitator can do this")
        self.room.require_live()

    @staticmethod
    def _call[T](fn: Callable[[], T]) -> T:
        from gameday.sim.msel import ExerciseError

        try:
            return fn()
        except ExerciseError as exc:
            raise RoomError(exc.status, exc.message) from None


def _needs_text(text: str, message: str) -> None:
    if not text.strip():
        raise RoomError(422, message)


def _not_yours(inject: str) -> RoomError:
    """The one answer a player gets about an inject that did not reach them (whether or not it exists)."""
    return RoomError(404, f"no inject {inject[:64]!r} was published to you")
