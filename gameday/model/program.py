"""The program's models of a trainee's progress across training sessions (pure; no I/O).

:mod:`gameday.program.training` builds them from many training journals: a :class:`Profile` (each
rubric item's verdicts session by session, the rung on the incident commander ladder and why,
what to practise next) and a :class:`Draw` (the next scenario from the wheel, every candidate's
weight, and why). Both are printed by ``gameday train profile`` / ``gameday train next`` and
dumped as they are by ``--json``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gameday.model.rubric import RubricItemId, Rung, Verdict

Trend = Literal["improving", "steady", "slipping"]
Outcome = Literal["completed", "aborted", "unfinished"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleHeld(_Frozen):
    """A role a person held in a drill that was not a training drill (a ``RoleAssigned`` event)."""

    person: str
    role: str
    drill_id: str
    mode: str
    journal: str = Field(description="the journal it was read from")


class Standing(_Frozen):
    """A trainee's rung on the incident commander ladder, why, and what the next rung asks for."""

    rung: Rung
    reason: str = Field(description="why this rung, in words, from the sessions")
    next: str = Field(description="what the next rung still asks for (empty on the top rung)")


class SessionRow(_Frozen):
    """One training session, as the profile lists it."""

    drill_id: str
    scenario_id: str
    scenario_title: str
    difficulty: int | None = None
    started_wall: str
    outcome: Outcome
    score: float
    hints: int = 0


class ItemPoint(_Frozen):
    """One session's verdict on one rubric item."""

    drill_id: str
    started_wall: str
    verdict: Verdict


class ItemHistory(_Frozen):
    """A rubric item across the sessions: its verdicts in order, its trend, its average points."""

    id: RubricItemId
    title: str
    verdicts: list[ItemPoint] = Field(default_factory=list, description="one per session, oldest first")
    trend: Trend = Field("steady", description="the later verdicts against the earlier ones (see the module docs)")
    mean: float | None = Field(None, description="average points (met 1, partly 0.5, missed 0) over the applicable "
                               "verdicts; None if never applicable")


class Practice(_Frozen):
    """An item to practise next: one of the weakest over the last sessions, with its latest coaching line."""

    id: RubricItemId
    title: str
    recent_mean: float = Field(description="average points over the last (up to 3) sessions where it applied")
    coaching: str = Field("", description="the latest coaching line the rubric gave for it")
    coaching_from: str | None = Field(None, description="the drill that coaching line comes from")


class Profile(_Frozen):
    """A trainee's progress across training sessions."""

    trainee: str
    sessions: list[SessionRow] = Field(default_factory=list, description="oldest first")
    items: list[ItemHistory] = Field(default_factory=list, description="in rubric order")
    standing: Standing
    practise: list[Practice] = Field(default_factory=list, description="the weakest items, weakest first")
    roles_elsewhere: list[RoleHeld] = Field(default_factory=list, description="roles held in other drills")


class Candidate(_Frozen):
    """A scenario on the wheel and its weight."""

    path: str
    scenario_id: str
    title: str
    difficulty: int
    fit: float = Field(description="how well its difficulty fits the target (1 inside the range)")
    exercises: list[RubricItemId] = Field(default_factory=list, description="the trainee's practice items it exercises")
    weight: float = Field(description="fit x (1 + the number of practice items it exercises); 0: left out")
    left_out: str = Field("", description="why it cannot be drawn this time (the scenario of the latest session)")


class Skipped(_Frozen):
    """A scenario file not on the wheel, and why."""

    path: str
    reason: str


class Draw(_Frozen):
    """The next scenario from the wheel, how it was drawn, and why."""

    trainee: str
    rung: Rung
    target: tuple[int, int] = Field(description="the difficulty range aimed at (inclusive)")
    seed: int
    chosen: Candidate | None = Field(None, description="None: no scenario could be drawn")
    candidates: list[Candidate] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    practise: list[RubricItemId] = Field(default_factory=list, description="the weak items the draw leaned towards")
    why: str = Field(description="the draw in one line")
