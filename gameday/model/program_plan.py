"""The game-day plan: the next game days, each with its scenario and a person for every role, and why.

Built by :func:`gameday.program.plan.make_plan` (pure, from the program file and the history of
past drills); printed by ``gameday program plan`` (a table, or these models as ``--json``),
exported as iCalendar (:mod:`gameday.program.ics`), and the first game day as an agenda by
``gameday program next``.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assignment(_Frozen):
    """A role of a game day, who holds it and why (``person`` None: no one was eligible)."""

    role: str
    person: str | None
    why: str = Field(description="the rule that chose this person, in words")
    passed_over: list[str] = Field(default_factory=list, description="people who may hold the role but could not "
                                   "this time, each with why (absent, prerequisite, in a row, already another role...)")


class ScenarioPick(_Frozen):
    """The scenario of a game day and why it was chosen."""

    path: str = Field(description="as written in the program file's pool")
    scenario_id: str
    title: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    why: str


class GameDay(_Frozen):
    """One planned game day."""

    number: int = Field(description="1 for the first game day of the plan")
    uid: str = Field(description="stable across exports: from the program's name and the regular date")
    regular: dt.date = Field(description="the date the cadence gives")
    date: dt.date = Field(description="the date it is held (differs from regular when moved)")
    start_local: str = Field(description="ISO 8601 with the zone's offset that day")
    end_local: str
    start_utc: str = Field(description="ISO 8601, UTC")
    end_utc: str
    timezone: str
    note: str = Field("", description="why it moved, if it did")
    scenario: ScenarioPick
    roles: list[Assignment]


class SkippedDay(_Frozen):
    """A regular date with no game day, and why."""

    regular: dt.date
    reason: str


class Plan(_Frozen):
    """The game days from ``first`` to ``last`` (both included)."""

    program: str
    timezone: str
    first: dt.date
    last: dt.date
    game_days: list[GameDay] = Field(default_factory=list)
    skipped: list[SkippedDay] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="history that could not be read, one line each")
