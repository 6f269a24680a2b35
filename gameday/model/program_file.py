"""The program file (``program.yaml`` at the project root): the game days' cadence, the calendar
they must fit in, the roster that staffs them and the scenario pool (format ``gameday/v1``,
``kind: Program``).

Frozen and strict like the scenario (:class:`~gameday.model.scenario_base.Strict`). The checks
between fields (a time zone that does not exist, a recurrence rule that does not parse, a game
day outside working hours, a prerequisite naming a role no one may hold, a prerequisite cycle,
one name twice on the roster) are raised together as one
:class:`~gameday.model.crosscheck.CrossCheckError`, each located at its path, and offered for a
file with type errors too (:meth:`ProgramFile.check_partial`), so ``gameday validate`` shows
every problem at once. What needs the scenario files (each path loads, each staffed role can
be held) is checked by :mod:`gameday.program.programfile`.

Clock times are written quoted (``time: "14:00"``): YAML 1.1 reads an unquoted ``14:00`` as
the number 840 (base 60), and that is refused with a hint.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from gameday.model.duration import Duration
from gameday.model.names import person_key
from gameday.model.scenario_base import Strict
from gameday.model.terms import Role

__all__ = ["DAYS", "Cadence", "Closure", "Member", "PoolEntry", "ProgramFile", "Roster", "WorkingHours", "program_problems"]

Loc = tuple[str | int, ...]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names, Monday first (``date.weekday()`` indexes them)."""

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
#: Recurrences finer than a day are refused: a game day is a date and a time.
_TOO_FINE = ("HOURLY", "MINUTELY", "SECONDLY")


def _clock(value: Any) -> Any:
    """``"14:00"`` as a time; an unquoted ``14:00`` (YAML 1.1's base-60 number) refused with the fix."""
    if isinstance(value, bool):
        raise ValueError(f"expected a time like \"14:00\", got {value!r}")
    if isinstance(value, int):
        h, m = divmod(value, 60)
        hint = f" (YAML read {h}:{m:02d} as the base-60 number {value}): quote it, \"{h:02d}:{m:02d}\"" if h < 24 else ""
        raise ValueError(f"expected a time like \"14:00\", got the number {value}{hint}")
    if isinstance(value, str):
        match = _CLOCK.match(value.strip())
        if match is None:
            raise ValueError(f"expected a time like \"14:00\" (24-hour, HH:MM), got {value!r}")
        return time(int(match.group(1)), int(match.group(2)))
    return value


Clock = Annotated[time, BeforeValidator(_clock), Field(description='a local time "HH:MM" (quoted), 24-hour')]


def _day_or_closure(value: Any) -> Any:
    """A bare date in ``holidays:``/``blackouts:`` is a closure of that one day."""
    if isinstance(value, (dt.date, str)):
        return {"date": value}
    return value


class Closure(Strict):
    """A day (``date``) or a range of days (``from``, ``to``, both included) with no game day, and why."""

    date: dt.date | None = Field(None, description="one day")
    from_: dt.date | None = Field(None, alias="from", description="the first day of a range")
    to: dt.date | None = Field(None, description="the last day of a range (included)")
    reason: str = Field("", description="shown in the plan when a game day moves or is skipped")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_kind(self) -> Closure:
        if self.date is not None and (self.from_ is not None or self.to is not None):
            raise ValueError("give either 'date' or 'from' and 'to', not both")
        if self.date is None and (self.from_ is None or self.to is None):
            raise ValueError("give 'date', or 'from' and 'to' (a range, both days included)")
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self

    @property
    def first(self) -> dt.date:
        """The first day closed."""
        return self.date or self.from_  # type: ignore[return-value]  # one of them is set (validated)

    @property
    def last(self) -> dt.date:
        """The last day closed (included)."""
        return self.date or self.to  # type: ignore[return-value]

    def covers(self, day: dt.date) -> bool:
        """True if ``day`` is closed by this entry."""
        return self.first <= day <= self.last

    def words(self) -> str:
        """``2027-12-24`` or ``2027-12-24..2028-01-01``, with the reason: for the plan's notes."""
        span = str(self.first) if self.first == self.last else f"{self.first}..{self.last}"
        return f"{span} ({self.reason})" if self.reason.strip() else span


ClosureItem = Annotated[Closure, BeforeValidator(_day_or_closure)]


class Cadence(Strict):
    """When game days recur: an RFC 5545 recurrence rule from ``start``, at ``time`` in ``timezone``."""

    rrule: str = Field(description="an RFC 5545 RRULE, e.g. 'FREQ=MONTHLY;BYDAY=1TH' (the first Thursday of each month); "
                       "without DTSTART (that is 'start') and by day or coarser")
    time: Clock
    duration: Duration = Field(description="how long a game day lasts, e.g. 2h")
    timezone: str = Field(description="an IANA time zone, e.g. Europe/Berlin: the time stays local across daylight saving")
    start: dt.date = Field(description="the first day the rule counts from")


class WorkingHours(Strict):
    """The days and hours a game day must fit in."""

    days: list[Day] = Field(default_factory=lambda: list(DAYS[:5]), min_length=1, description="working days (mon..sun)")
    from_: Clock = Field(time(9, 0), alias="from")
    to: Clock = Field(time(17, 0))

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Absence(Strict):
    """Days a person is away (both included)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    reason: str = ""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        """True if the person is away on ``day``."""
        return self.from_ <= day <= self.to


class Member(Strict):
    """A person on the roster: the roles they may hold, when they are away."""

    name: str = Field(min_length=1, description="as written in the control room (the names rule)")
    roles: list[Role] = Field(min_length=1, description="the roles this person may hold")
    absences: list[Absence] = Field(default_factory=list)
    experience: list[Role] = Field(default_factory=list, description="roles held before the drills gameday has "
                                   "journals of: they count for prerequisites (not as turns)")
    trainee: bool = Field(False, description="a trainee incident commander: given incident-commander in a game day only "
                          "once on the IC rung of the training ladder (people with training sessions count as trainees too)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        from gameday.model.names import check_name

        return check_name(value)  # NameRefused is a ValueError: a located problem

    def absent(self, day: dt.date) -> Absence | None:
        """The absence covering ``day``, if any."""
        return next((a for a in self.absences if a.covers(day)), None)


class Roster(Strict):
    """The people, and which roles must have been held before another."""

    people: list[Member] = Field(min_length=1)
    prerequisites: dict[Role, list[Role]] = Field(
        default_factory=dict, description="role -> roles a person must have held at least once before (in a past drill "
        "or earlier in the plan), e.g. incident-commander: [scribe]")


class PoolEntry(Strict):
    """A scenario of the pool, and the roles its game day staffs."""

    path: str = Field(min_length=1, description="the scenario file, relative to the program file's folder")
    roles: list[Role] | None = Field(None, description="the roles to staff (default: the program's roles:, else the "
                                     "scenario's own roles:)")


def _pool_entry(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class ProgramFile(Strict):
    """The game-day program, format ``gameday/v1``, ``kind: Program``."""

    api_version: Literal["gameday/v1"] = Field(alias="apiVersion")
    kind: Literal["Program"]
    name: str = Field(min_length=1, description="the program's name: in the calendar and agendas, and part of each "
                      "game day's calendar UID (keep it stable)")
    cadence: Cadence
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    holidays: list[ClosureItem] = Field(default_factory=list, description="days with no game day: a date, or "
                                        "{date|from+to, reason}")
    blackouts: list[ClosureItem] = Field(default_factory=list, description="change freezes and the like, as holidays")
    when_closed: Literal["move", "skip"] = Field(
        "move", description="a game day on a closed day (holiday, blackout, not a working day): move to the next open "
        "working day before the next regular one (else skipped), or skip it")
    stale_days: int = Field(90, ge=1, le=3660, description="a scenario not run for this many days is stale")
    roles: list[Role] | None = Field(None, description="the roles every game day staffs (default: each scenario's roles:)")
    roster: Roster
    scenarios: list[Annotated[PoolEntry, BeforeValidator(_pool_entry)]] = Field(
        min_length=1, description="the pool: paths, or {path, roles}")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _cross(self) -> ProgramFile:
        from gameday.model.crosscheck import CrossCheckError

        problems = program_problems(self)
        if problems:
            raise CrossCheckError(problems)
        return self

    @classmethod
    def check_partial(cls, data: dict[Any, Any]) -> list[tuple[Loc, str]]:
        """The cross checks over the sections of ``data`` that validate by themselves (a file with type
        errors elsewhere): its problems are shown together with the type errors."""
        out: list[tuple[Loc, str]] = []
        if not isinstance(data, dict):
            return out
        section_models: dict[str, Any] = {"cadence": Cadence, "working_hours": WorkingHours, "roster": Roster}
        parts: dict[str, Any] = {}
        for key, model in section_models.items():
            if key in data:
                try:
                    parts[key] = model.model_validate(data[key])
                except ValueError:
                    continue
        if "cadence" in parts:
            out += _cadence_problems(parts["cadence"], parts.get("working_hours", WorkingHours()))
        if "roster" in parts:
            out += _roster_problems(parts["roster"])
        return out


# ---------------------------------------------------------------------------------- cross checks
def program_problems(program: ProgramFile) -> list[tuple[Loc, str]]:
    """Every problem between the program's fields, each with its path (empty: none)."""
    return _cadence_problems(program.cadence, program.working_hours) + _roster_problems(program.roster)


def _cadence_problems(cadence: Cadence, hours: WorkingHours) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = []
    zone = zone_of(cadence.timezone)
    if isinstance(zone, str):
        out.append((("cadence", "timezone"), zone))
    rule = rrule_problem(cadence.rrule)
    if rule:
        out.append((("cadence", "rrule"), rule))
    if cadence.duration <= 0 or cadence.duration > 24 * 3600:
        out.append((("cadence", "duration"), "a game day lasts more than 0s and at most 24h"))
    if hours.to <= hours.from_:
        out.append((("working_hours", "to"), f"working hours end ({hours.to:%H:%M}) before they start ({hours.from_:%H:%M})"))
    else:
        start = cadence.time.hour * 3600 + cadence.time.minute * 60
        end = start + cadence.duration
        open_, close = (hours.from_.hour * 3600 + hours.from_.minute * 60, hours.to.hour * 3600 + hours.to.minute * 60)
        if start < open_ or end > close:
            from gameday.model.duration import format_duration

            out.append((("cadence", "time"), (f"the game day ({cadence.time:%H:%M} for {format_duration(cadence.duration)}) "
                        f"is outside working hours ({hours.from_:%H:%M}-{hours.to:%H:%M})")))
    return out


def zone_of(name: str) -> Any:
    """The ``ZoneInfo`` for an IANA name, or a message (str) saying why there is none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        return f"{name!r} is not an IANA time zone name (like Europe/Berlin)"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name!r}: expected an IANA name like Europe/Berlin or America/New_York"


def rrule_problem(text: str) -> str:
    """Why ``text`` is no usable recurrence rule ('' if it is one)."""
    from datetime import datetime

    from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

    body = text.strip().removeprefix("RRULE:")
    if not body:
        return "empty recurrence rule: expected e.g. 'FREQ=MONTHLY;BYDAY=1TH'"
    upper = body.upper()
    if "DTSTART" in upper or "\n" in body:
        return "one RRULE only, without DTSTART (the first day is cadence.start)"
    freq = re.search(r"(?:^|;)FREQ=([A-Z]+)", upper)
    if freq is None:
        return f"the recurrence rule {text!r} has no FREQ (e.g. 'FREQ=MONTHLY;BYDAY=1TH')"
    if freq.group(1) in _TOO_FINE:
        return f"FREQ={freq.group(1)}: a game day recurs by day or coarser (DAILY, WEEKLY, MONTHLY, YEARLY)"
    try:
        rrulestr(body, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        return f"the recurrence rule {text!r} does not parse (RFC 5545 RRULE): {exc}"
    return ""


def _roster_problems(roster: Roster) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for i, person in enumerate(roster.people):
        key = person_key(person.name)
        if key in seen:
            out.append((("roster", "people", i, "name"), f"{person.name!r} is on the roster twice (also people[{seen[key]}])"))
        else:
            seen[key] = i
        if len(set(person.roles)) != len(person.roles):
            out.append((("roster", "people", i, "roles"), "a role is listed twice"))
    holdable = {role for person in roster.people for role in person.roles}
    for role, needs in roster.prerequisites.items():
        if role not in holdable:
            out.append((("roster", "prerequisites", role), f"unknown role {role!r}: no one on the roster may hold it"))
        for j, need in enumerate(needs):
            if need == role:
                out.append((("roster", "prerequisites", role, j), f"{role!r} cannot be its own prerequisite"))
            elif need not in holdable:
                out.append((("roster", "prerequisites", role, j),
                            f"unknown role {need!r}: no one on the roster may hold it, so no one could ever hold {role!r}"))
    cycle = _cycle(roster.prerequisites)
    if cycle:
        out.append((("roster", "prerequisites", cycle[0]),
                    f"prerequisites go round in a circle ({' -> '.join([*cycle, cycle[0]])}): no one could hold the first"))
    return out




def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """One cycle of the prerequisite graph (roles in order), or [] (self-loops are reported apart)."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []
