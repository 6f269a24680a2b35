"""The plan: the next game days, each with a scenario and a person for every role (pure).

:func:`make_plan` puts together the schedule (:mod:`gameday.program.schedule`), the scenario
choice (:mod:`gameday.program.choice`) and the rotation (:mod:`gameday.program.rotation`) over
the history of past drills (:mod:`gameday.program.history`, read by the caller). The same
program, history and dates give the same plan.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from gameday.model.program_plan import GameDay, Plan, ScenarioPick, SkippedDay
from gameday.program.choice import Candidate, Run, choose
from gameday.program.history import History
from gameday.program.programfile import LoadedProgram
from gameday.program.rotation import Turn, assign_day
from gameday.program.schedule import schedule

__all__ = ["game_day_uid", "make_plan", "months_after"]


def months_after(first: date, months: int) -> date:
    """The last day of a plan of ``months`` months starting on ``first`` (the day before the same day
    ``months`` months later; the end of the month when that day does not exist)."""
    from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]

    end: date = first + relativedelta(months=months)
    return end - timedelta(days=1)


def game_day_uid(program_name: str, regular: date) -> str:
    """A game day's calendar UID: from the program's name and the cadence's date (not the date it was
    moved to), so a re-export updates the event rather than adding another."""
    digest = hashlib.sha256(f"{' '.join(program_name.split())}\n{regular.isoformat()}".encode()).hexdigest()[:24]
    return f"{regular:%Y%m%d}-{digest}@gameday"


def make_plan(loaded: LoadedProgram, history: History, first: date, last: date) -> Plan:
    """The game days whose regular date falls from ``first`` to ``last`` (both included)."""
    program = loaded.program
    slots, skips = schedule(program, first, last)
    pool = [Candidate(p.path, p.scenario.id, tuple(p.scenario.tags)) for p in loaded.pool]
    runs: list[Run] = list(history.runs)
    turns: list[Turn] = list(history.turns)
    days: list[GameDay] = []
    for number, slot in enumerate(slots, start=1):
        index, why = choose(slot.day, pool, runs, program.stale_days)
        chosen = loaded.pool[index]
        runs.append(Run(chosen.scenario.id, slot.day, "planned"))
        assignments = assign_day(slot.day, chosen.roles, program.roster.people, program.roster.prerequisites, turns,
                                 history.ic_blocked)
        turns += [Turn(a.person, a.role, slot.day) for a in assignments if a.person is not None]
        sc = chosen.scenario
        days.append(GameDay(
            number=number, uid=game_day_uid(program.name, slot.regular), regular=slot.regular, date=slot.day,
            start_local=slot.start.isoformat(), end_local=slot.end.isoformat(),
            start_utc=slot.start_utc.isoformat().replace("+00:00", "Z"),
            end_utc=slot.end_utc.isoformat().replace("+00:00", "Z"), timezone=program.cadence.timezone, note=slot.note,
            scenario=ScenarioPick(path=chosen.path, scenario_id=sc.id, title=sc.title, description=sc.description,
                                  tags=list(sc.tags), why=why),
            roles=assignments))
    return Plan(program=program.name, timezone=program.cadence.timezone, first=first, last=last, game_days=days,
                skipped=[SkippedDay(regular=s.regular, reason=s.reason) for s in skips], warnings=list(history.warnings))
