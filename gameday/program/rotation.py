"""Who holds which role on a game day: a fair, explainable rotation (pure).

For each game day, the roles are filled one by one, the role with the fewest eligible people
first (so a scarce role is not starved by a common one). For a role, a person is **eligible**
if they may hold it (the roster), are not absent that day, have held each of its
prerequisites at least once before (in a past drill or earlier in the plan), are not already
holding another role that day, and, for incident-commander, are not a trainee below the IC rung
of the training ladder. Among the eligible:

1. fewest turns in that role (past drills and the plan so far) first;
2. then the longest since their last turn in that role (never is longest);
3. then name order (case-insensitive), so the plan is deterministic.

The incident commander of the previous game day is never chosen again when anyone else is
eligible. Each assignment says why, in words (``dana: fewest incident-commander turns (1), last
2027-02-04``), and lists the people passed over with their reason. A role no one is eligible
for is left open, saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from gameday.model.names import person_key
from gameday.model.program_file import Member
from gameday.model.program_plan import Assignment
from gameday.model.terms import IC

__all__ = ["Turn", "assign_day", "rotate"]


@dataclass(frozen=True)
class Turn:
    """A role a person held on a day (a past drill's ``RoleAssigned``, or the plan's own)."""

    person: str
    role: str
    day: date
    source: str = "plan"


def _key(person: Member) -> tuple[str, str]:
    return (person_key(person.name), person.name)


def _last_ic(turns: Sequence[Turn], day: date) -> str | None:
    """The person key of the incident commander of the latest game day before ``day``."""
    past = [t for t in turns if t.role == IC and t.day < day]
    if not past:
        return None
    latest = max(t.day for t in past)
    return person_key([t for t in past if t.day == latest][-1].person)


def assign_day(day: date, roles: Sequence[str], people: Sequence[Member], prerequisites: Mapping[str, Sequence[str]],
               turns: Sequence[Turn], ic_blocked: Mapping[str, str] | None = None) -> list[Assignment]:
    """The assignments of one game day, in the order of ``roles`` (rules in the module docstring).

    ``turns``: every role held before ``day`` (others are ignored); ``ic_blocked``: person key
    (:func:`~gameday.model.program_file.person_key`) -> why they may not be incident commander yet.
    """
    blocked = ic_blocked or {}
    before = [t for t in turns if t.day < day]
    held: dict[tuple[str, str], list[date]] = {}
    for t in before:
        held.setdefault((person_key(t.person), t.role), []).append(t.day)
    last_ic = _last_ic(before, day)

    def unavailable(person: Member, role: str, taken: Mapping[str, str]) -> str:
        key = person_key(person.name)
        away = person.absent(day)
        if away is not None:
            return f"absent {away.from_}..{away.to}" + (f" ({away.reason})" if away.reason.strip() else "")
        missing = [need for need in prerequisites.get(role, []) if not held.get((key, need)) and need not in person.experience]
        if missing:
            return f"has not held {', '.join(missing)} yet (prerequisite of {role})"
        if role == IC and key in blocked:
            return blocked[key]
        if key in taken:
            return f"already {taken[key]} that day"
        return ""

    def candidates(role: str, taken: Mapping[str, str]) -> list[Member]:
        return [p for p in people if role in p.roles and not unavailable(p, role, taken)]

    order = sorted(range(len(roles)), key=lambda i: (len(candidates(roles[i], {})), i))
    taken: dict[str, str] = {}
    chosen: dict[int, Assignment] = {}
    for i in order:
        role = roles[i]
        chosen[i] = _fill(role, people, candidates(role, taken), held, last_ic,
                          partial(unavailable, role=role, taken=taken))
        person = chosen[i].person
        if person is not None:
            taken[person_key(person)] = role
    return [chosen[i] for i in range(len(roles))]


def _fill(role: str, people: Sequence[Member], eligible: list[Member], held: Mapping[tuple[str, str], list[date]],
          last_ic: str | None, why_not: Callable[[Member], str]) -> Assignment:
    passed = [f"{p.name}: {why}" for p in people if role in p.roles and (why := why_not(p))]
    skipped_last = False
    if role == IC and last_ic is not None:
        others = [p for p in eligible if person_key(p.name) != last_ic]
        again = [p for p in eligible if person_key(p.name) == last_ic]
        if others and again:
            passed.append(f"{again[0].name}: incident commander last game day (never twice in a row)")
            eligible, skipped_last = others, True
    if not eligible:
        why = "no one eligible: " + ("; ".join(passed) if passed else f"no one on the roster may hold {role}")
        return Assignment(role=role, person=None, why=why, passed_over=passed)

    def count(p: Member) -> int:
        return len(held.get((person_key(p.name), role), []))

    def last(p: Member) -> date:
        return max(held.get((person_key(p.name), role), []), default=date.min)

    ranked = sorted(eligible, key=lambda p: (count(p), last(p), _key(p)))
    best = ranked[0]
    n, when = count(best), last(best)
    when_text = "never" if when == date.min else str(when)
    again_ic = role == IC and last_ic is not None and person_key(best.name) == last_ic
    if len(ranked) == 1:
        why = f"{best.name}: the only one eligible ({n} {role} turn{'' if n == 1 else 's'}, last {when_text})"
        if again_ic:
            why += "; incident commander again in a row: no one else is eligible"
        return Assignment(role=role, person=best.name, why=why, passed_over=passed)
    tied = [p for p in ranked[1:] if count(p) == n]
    if not tied:
        why = f"{best.name}: fewest {role} turns ({n}), last {when_text}"
    else:
        names = ", ".join(p.name for p in tied[:3]) + (" ..." if len(tied) > 3 else "")
        same_last = [p for p in tied if last(p) == when]
        if not same_last:
            why = f"{best.name}: fewest {role} turns ({n}, tied with {names}), longest since the last turn ({when_text})"
        else:
            why = (f"{best.name}: fewest {role} turns ({n}, tied with {names}), last turn {when_text} like "
                   f"{', '.join(p.name for p in same_last[:3])}: then name order")
    if skipped_last:
        why += "; the last game day's incident commander passed over"
    return Assignment(role=role, person=best.name, why=why, passed_over=passed)


def rotate(days: Sequence[tuple[date, Sequence[str]]], people: Sequence[Member],
           prerequisites: Mapping[str, Sequence[str]], history: Sequence[Turn] = (),
           ic_blocked: Mapping[str, str] | None = None) -> list[list[Assignment]]:
    """The assignments of each game day in turn (``days`` in date order), each day's counting the
    history and the plan's earlier days."""
    turns = list(history)
    out = []
    for day, roles in days:
        assignments = assign_day(day, roles, people, prerequisites, turns, ic_blocked)
        turns += [Turn(a.person, a.role, day) for a in assignments if a.person is not None]
        out.append(assignments)
    return out
