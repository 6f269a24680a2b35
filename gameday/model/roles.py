"""Who holds which role: a pure projection of ``RoleAssigned`` events, defined once.

A ``RoleAssigned`` gives its role to its person and takes it from whoever held it before:
a role has at most one holder; a person may hold several roles. Nothing else changes a
role (a revoked join link does not take roles away). An assignment with an empty person or
role is ignored. The control room, the stakeholder updates and the analysis all ask here.

For "who held it at that moment", pass the events before that moment
(``role_holders(events[:i])``).
"""

from __future__ import annotations

from collections.abc import Iterable

from gameday.model.events import Event, Payload, RoleAssigned


def role_holders(events: Iterable[Event[Payload]]) -> dict[str, str]:
    """Role -> its current holder, after ``events`` (in journal order).

    The dict is ordered by when each role was *first* assigned (a hand-over keeps the role's
    place, so callers that show it sort it themselves anyway).
    """
    holders: dict[str, str] = {}
    for e in events:
        data = e.data
        if isinstance(data, RoleAssigned) and data.person and data.role:
            holders[data.role] = data.person
    return holders


def roles_of(events: Iterable[Event[Payload]]) -> dict[str, str]:
    """Person -> the role they were most recently assigned among those they still hold.

    A person holding no role is absent. This is the role an action is recorded with when
    its author names none (the control room's default).
    """
    evs = list(events)
    held = role_holders(evs)
    latest: dict[str, str] = {}
    for e in evs:
        data = e.data
        if isinstance(data, RoleAssigned) and data.person and held.get(data.role) == data.person:
            latest[data.person] = data.role
    return latest


def roles_held(events: Iterable[Event[Payload]], person: str) -> list[str]:
    """The roles ``person`` holds after ``events``, sorted."""
    return sorted(role for role, who in role_holders(events).items() if who == person)
