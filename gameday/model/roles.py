"""Who holds which role: a pure projection of ``RoleAssigned`` events, defined once.

A ``RoleAssigned`` gives its role to its person and takes it from whoever held it before:
a role has at most one holder; a person may hold several roles. Nothing else changes a
role (a revoked join link does not take roles away). An assignment with an empty person or
role is ignored. The control room, the stakeholder updates, the timeline and the scorecard
all ask here: :class:`RoleBook` answers "who held it just before event N", the functions
below "who holds it now".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gameday.model.events import Event, Payload, RoleAssigned


class RoleBook:
    """Every role assignment of a drill, in journal order: who held which role when."""

    def __init__(self, assignments: Sequence[tuple[int, float, str, str]]):
        #: (seq, t, person, role), in journal order.
        self.assignments = list(assignments)

    @classmethod
    def from_events(cls, events: Iterable[Event[Payload]]) -> RoleBook:
        return cls([(e.seq, e.t, e.data.person, e.data.role) for e in events
                    if isinstance(e.data, RoleAssigned) and e.data.person and e.data.role])

    def current(self, before_seq: int | None = None) -> dict[str, str]:
        """Role -> its holder just before event ``before_seq`` (None: after every event), ordered by
        when each role was *first* assigned (a hand-over keeps the role's place)."""
        holders: dict[str, str] = {}
        for seq, _t, person, role in self.assignments:
            if before_seq is not None and seq >= before_seq:
                break
            holders[role] = person
        return holders

    def holder(self, role: str, before_seq: int) -> str | None:
        """The person holding ``role`` just before event ``before_seq``."""
        return self.current(before_seq).get(role)

    def held_by(self, person: str, before_seq: int | None = None) -> list[str]:
        """The roles ``person`` held just before event ``before_seq``, in the order they were first assigned."""
        return [role for role, who in self.current(before_seq).items() if who == person]

    def roles_of(self, person: str, before_seq: int) -> list[str]:
        """Roles ``person`` held just before event ``before_seq``, sorted."""
        return sorted(self.held_by(person, before_seq))

    def holders(self) -> dict[str, list[str]]:
        """Role -> its holders in order of hand-over (a repeated assignment is listed once)."""
        out: dict[str, list[str]] = {}
        for _s, _t, person, role in self.assignments:
            people = out.setdefault(role, [])
            if not people or people[-1] != person:
                people.append(person)
        return out


def role_holders(events: Iterable[Event[Payload]]) -> dict[str, str]:
    """Role -> its current holder, after ``events`` (in journal order)."""
    return RoleBook.from_events(events).current()


def roles_of(events: Iterable[Event[Payload]]) -> dict[str, str]:
    """Person -> the role they were most recently assigned among those they still hold.

    A person holding no role is absent. This is the role an action is recorded with when
    its author names none (the control room's default).
    """
    book = RoleBook.from_events(events)
    held = book.current()
    return {person: role for _s, _t, person, role in book.assignments if held.get(role) == person}


def roles_held(events: Iterable[Event[Payload]], person: str) -> list[str]:
    """The roles ``person`` holds after ``events``, sorted."""
    return sorted(RoleBook.from_events(events).held_by(person))
