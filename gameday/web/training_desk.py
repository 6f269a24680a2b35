"""The trainee's side of a training drill's control room: who may do what, over the trainee's desk
(:class:`gameday.sim.training.TrainingDesk`).

Everything is journaled by the desk, through the conductor; this module checks the caller and the
input, and turns the desk's :class:`~gameday.sim.msel.ExerciseError` into a
:class:`~gameday.web.room.RoomError` with the same status (404, 409, 422).

**Who gives instructions.** Taking command, giving a task, calling for strong objections, recording
a decision and handing command over are the incident commander's: only the person holding the
``incident-commander`` role now may (the trainee from the start; whoever they handed command to
after). Anyone else's token gets 403. The **facilitator** (the coach) may record them *for* the
incident commander, as the room lets the facilitator record any person's action: the journal names
the incident commander as the one who said it (``as`` may name them; naming anyone else is 403), so
a coach typing what the trainee said out loud scores as the trainee's. A **hint** is the trainee's
to ask for (the facilitator may ask on their behalf); it costs the same either way.

**Who starts.** The facilitator or the trainee (:meth:`TrainingRoomDesk.start`, the one rule): by
``POST /api/drill/start`` (``gameday act DRILL start``) or ``POST /api/training/start``, so one person
can practise alone. Before the start, whatever the trainee asks for is 409 "the drill has not started
yet", saying who starts it (:meth:`TrainingRoomDesk.require_live`), not a 403 about who may do it.

A task goes to a known person: a simulated responder, the person the scenario's handover names, or
someone invited to the room (names match without regard to case, and are journaled as written
there); any other name is a 404. A time box is a duration (``"5m"``, ``"90s"``) or a number of
seconds, more than zero and at most a day (else 422).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gameday.model.duration import parse_duration
from gameday.model.events import Event, Payload
from gameday.model.roles import role_holders
from gameday.model.terms import IC
from gameday.web.auth import FACILITATOR, Principal
from gameday.web.room import RoomError, _name

if TYPE_CHECKING:
    from gameday.sim.training import TrainingDesk
    from gameday.web.room import ControlRoom

MAX_BOX = 24 * 3600.0  # the longest time box, in seconds


class TrainingRoomDesk:
    """One training drill's trainee desk in the control room (thread-safe: the desk is)."""

    def __init__(self, room: ControlRoom, desk: TrainingDesk):
        self.room, self.desk = room, desk

    @property
    def trainee(self) -> str:
        return self.desk.trainee

    # ------------------------------------------------------------ starting
    def start(self, who: Principal) -> None:
        """The facilitator or the trainee starts the drill (403 for anyone else, 409 once started): the rule
        of both ``/api/drill/start`` and ``/api/training/start`` in a training drill."""
        if not who.facilitator and who.name != self.trainee:
            raise RoomError(403, f"only the facilitator or the trainee ({self.trainee}) can start this drill")
        if self.room.gate.is_set():
            raise RoomError(409, "the drill has already been started")
        self.room.gate.set()

    def require_live(self) -> None:
        """409 unless the drill has started and is not over; before the start, saying who starts it."""
        if not self.room.over() and not self.room.started():
            raise RoomError(409, f"the drill has not started yet (the trainee, {self.trainee}, or the facilitator "
                                 "starts it)")
        self.room.require_live()

    # ------------------------------------------------------------ the incident commander's instructions
    def take_command(self, who: Principal, text: str, as_: str | None = None) -> Event[Payload]:
        by = self._commander(who, as_)
        return self._call(lambda: self.desk.take_command(by, text.strip()))

    def assign_task(self, who: Principal, to: str, kind: str, text: str, within: float | str | None,
                    runbook: str | None, audience: str | None, as_: str | None = None) -> Event[Payload]:
        by = self._commander(who, as_)
        person = self._known(to)
        box = time_box(within)
        return self._call(lambda: self.desk.assign_task(by, person, kind, text.strip(), box, runbook or None,
                                                        audience or None))

    def call_objections(self, who: Principal, proposal: str, within: float | str | None,
                        as_: str | None = None) -> Event[Payload]:
        by = self._commander(who, as_)
        box = time_box(within)
        return self._call(lambda: self.desk.call_objections(by, proposal.strip(), box))

    def decide(self, who: Principal, decision: str, rationale: str, options: Sequence[str],
               as_: str | None = None) -> Event[Payload]:
        by = self._commander(who, as_)
        opts = [o.strip() for o in options if o.strip()]
        return self._call(lambda: self.desk.decide(by, decision.strip(), rationale.strip(), opts))

    def hand_over(self, who: Principal, to: str, briefing: str, as_: str | None = None) -> Event[Payload]:
        by = self._commander(who, as_)
        person = self._known(to)
        if not briefing.strip():
            raise RoomError(422, "brief the incoming incident commander: what is happening, what is in flight, who does what")
        return self._call(lambda: self.desk.hand_over(by, person, briefing.strip()))

    def hint(self, who: Principal) -> Event[Payload]:
        """A hint for the trainee (asked by them, or by the facilitator for them); it costs points."""
        if not who.facilitator and who.name != self.trainee:
            raise RoomError(403, f"hints are for the trainee ({self.trainee})")
        self.require_live()
        return self._call(lambda: self.desk.hint(self.trainee))

    # ------------------------------------------------------------ helpers
    def _commander(self, who: Principal, as_: str | None) -> str:
        """The incident commander the caller speaks as (see the module), after the drill is checked live."""
        self.require_live()
        holder = role_holders(self.room.events).get(IC)
        if who.facilitator:
            if holder is None:
                raise RoomError(409, "nobody holds the incident commander's role: assign it first")
            if as_ and as_ != FACILITATOR and _name(as_) != holder:
                raise RoomError(403, f"only the incident commander ({holder}) gives instructions: the facilitator "
                                     f"records them for {holder}, not for {as_}")
            return holder
        if as_ and " ".join(as_.split()) != who.name:
            raise RoomError(403, f"this link belongs to {who.name}; it cannot act as {as_}")
        if holder != who.name:
            raise RoomError(403, f"only the incident commander gives instructions, and {who.name} does not hold the role"
                                 + (f" ({holder} does)" if holder else ""))
        return who.name

    def _known(self, name: str) -> str:
        """``name`` as the room knows the person (404 for a stranger)."""
        wanted = _name(name).casefold()
        handover = self.room.scenario.training.handover
        known = [*self.desk.responder_names(), *([handover.to] if handover is not None else []),
                 *self.room.registry.people(), *role_holders(self.room.events).values()]
        for person in known:
            if person.casefold() == wanted:
                return person
        raise RoomError(404, f"no one named {name!r} is in this drill (simulated responders: "
                             f"{', '.join(self.desk.responder_names()) or 'none'})")

    def _call[T](self, fn: Callable[[], T]) -> T:
        """``fn()`` (a desk call), its ExerciseError as a RoomError (the conductor wakes the drill's thread
        for what the desk journals, so the simulated responders look at it now)."""
        from gameday.sim.msel import ExerciseError

        try:
            return fn()
        except ExerciseError as exc:
            raise RoomError(exc.status, exc.message) from None


def time_box(value: float | str | None) -> float | None:
    """A time box in seconds from a duration (``"5m"``) or a number of seconds; None for none (an empty text
    too). 422 for one that cannot be read, is not positive, or is over a day."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RoomError(422, "'within': a time box is a duration like '5m' or a number of seconds")
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise RoomError(422, f"'within': {exc}") from None
    else:
        seconds = float(value)
    if not seconds > 0:
        raise RoomError(422, "'within': a time box must be longer than zero")
    if seconds > MAX_BOX:
        raise RoomError(422, "'within': a time box is at most 24h")
    return seconds

