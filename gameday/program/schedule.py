"""When the game days fall: the cadence's recurrence rule, the calendar, time zones (pure).

The regular dates come from the RFC 5545 rule (``dateutil.rrule``) counted from ``cadence.start``;
each is held at ``cadence.time`` in ``cadence.timezone`` (``zoneinfo``), so 14:00 Europe/Berlin
stays 14:00 local across daylight saving, and its UTC time moves by the hour instead.

A regular date that is *closed* (a holiday, a blackout, not a working day) is, with
``when_closed: move`` (the default), moved to the next open working day **before the next
regular date** (a game day never lands on or past its successor), else skipped; with
``when_closed: skip`` it is skipped. Either way the plan says why. A closed day is never scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from gameday.model.program_file import ProgramFile

__all__ = ["Skip", "Slot", "closed_reason", "regular_dates", "schedule"]

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: How far a closed game day may move at most (it also stays before the next regular date).
MAX_MOVE_DAYS = 62


@dataclass(frozen=True)
class Slot:
    """A game day in time: the cadence's date, the date held, its start and end (aware, local)."""

    regular: date
    day: date
    start: datetime
    end: datetime
    note: str = ""

    @property
    def start_utc(self) -> datetime:
        """The start in UTC."""
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """The end in UTC."""
        return self.end.astimezone(UTC)


@dataclass(frozen=True)
class Skip:
    """A regular date with no game day, and why."""

    regular: date
    reason: str


def _rule(program: ProgramFile) -> Any:  # dateutil has no type information
    from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

    body = program.cadence.rrule.strip().removeprefix("RRULE:")
    return rrulestr(body, dtstart=datetime.combine(program.cadence.start, clock(0)))


def regular_dates(program: ProgramFile, first: date, last: date) -> list[date]:
    """The cadence's dates from ``first`` to ``last`` (both included), in order, each once."""
    rule = _rule(program)
    found = rule.between(datetime.combine(first, clock(0)), datetime.combine(last, clock.max), inc=True)
    return list(dict.fromkeys(d.date() for d in found))


def _next_regular(program: ProgramFile, after: date) -> date | None:
    found = _rule(program).after(datetime.combine(after, clock.max))
    return found.date() if found is not None else None


def closed_reason(day: date, program: ProgramFile) -> str:
    """Why ``day`` cannot hold a game day ('' if it can): a holiday, a blackout, not a working day."""
    for closure in program.holidays:
        if closure.covers(day):
            return f"holiday {closure.words()}"
    for closure in program.blackouts:
        if closure.covers(day):
            return f"blackout {closure.words()}"
    from gameday.model.program_file import DAYS

    if DAYS[day.weekday()] not in program.working_hours.days:
        return f"not a working day ({DAY_NAMES[day.weekday()]})"
    return ""


def local_span(program: ProgramFile, day: date) -> tuple[datetime, datetime]:
    """A game day's start and end on ``day``, aware, in the program's zone (the end by elapsed time)."""
    zone = ZoneInfo(program.cadence.timezone)
    start = datetime.combine(day, program.cadence.time, tzinfo=zone)
    end = (start.astimezone(UTC) + timedelta(seconds=program.cadence.duration)).astimezone(zone)
    return start, end


def schedule(program: ProgramFile, first: date, last: date) -> tuple[list[Slot], list[Skip]]:
    """The game days whose regular date falls from ``first`` to ``last``, and the regular dates skipped."""
    slots: list[Slot] = []
    skips: list[Skip] = []
    for regular in regular_dates(program, first, last):
        why = closed_reason(regular, program)
        day, note = regular, ""
        if why:
            if program.when_closed == "skip":
                skips.append(Skip(regular, f"{regular}: {why} (when_closed: skip)"))
                continue
            moved = _move(program, regular)
            if moved is None:
                skips.append(Skip(regular, f"{regular}: {why}, and no open working day before the next regular date"))
                continue
            day, note = moved, f"moved from {regular}: {why}"
        start, end = local_span(program, day)
        slots.append(Slot(regular=regular, day=day, start=start, end=end, note=note))
    return slots, skips


def _move(program: ProgramFile, regular: date) -> date | None:
    """The next open working day after ``regular``, before the next regular date (None: there is none)."""
    nxt = _next_regular(program, regular)
    for step in range(1, MAX_MOVE_DAYS + 1):
        day = regular + timedelta(days=step)
        if nxt is not None and day >= nxt:
            return None
        if not closed_reason(day, program):
            return day
    return None
