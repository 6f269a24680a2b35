"""The trends' data: one row per drill, and what ``gameday trends`` writes (``trends.json``).

A :class:`DrillRow` is what the trends need of one drill, taken from its scorecard (the drill's
own analysis of its journal, :func:`gameday.analysis.scorecard.score_journal`) and from the
journal's first event (``DrillStarted``: the scenario's tags and detection signals). Rows are
flat so that they become a pandas frame, a CSV line and a cache entry without translation.

Times are seconds on the journal's clock (a tabletop's and a training drill's: the scenario
clock); a measure that did not happen is ``None``, never 0.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MODES",
    "CoverageRow",
    "DrillRow",
    "FrequencyRow",
    "PersonRow",
    "ReadinessRow",
    "RepeatSummary",
    "SeriesRow",
    "TrendsReport",
    "Turn",
]

#: The drill modes, never mixed in one series: gameday (a live game day), ci, tabletop, training.
MODES = ("gameday", "ci", "tabletop", "training")
MODE_LABEL = {"gameday": "live", "ci": "ci", "tabletop": "tabletop", "training": "training"}


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Turn(_Row):
    """A role held in a drill, by a person (as the scorecard names them)."""

    person: str
    role: str


class DrillRow(_Row):
    """One drill, as the trends read it."""

    journal: str = Field(description="the journal's path, as found")
    source: Literal["scorecard", "scored"] = Field(
        description="scorecard: the drill's own scorecard beside the journal was current and read; scored: the "
        "journal was scored now")
    drill_id: str
    scenario_id: str
    title: str
    mode: str
    started_at: str = Field(description="the drill's start, UTC ISO 8601 (its first event's wall time)")
    outcome: str
    verdict: str
    score: float | None = Field(description="0..100; None when not scored or nothing to score")
    fault_injected: bool
    mttd: float | None
    mtta: float | None
    mttr: float | None
    recovery: float | None = Field(description="first injection → steady state observed again")
    steps_due: int = Field(description="steps that applied (on time, late or missed)")
    steps_on_time: int
    severity_judged: bool = Field(description="severity could be judged in this drill")
    severity_correct: bool
    detection: str = Field(description="the detection verdict: on_time, late, silent, not_applicable")
    detected_by: str | None = Field(description="the signal (or person) that detected first")
    signals: list[str] = Field(description="the detection signals the scenario expected")
    tags: list[str]
    turns: list[Turn] = Field(description="who held which role")
    people: list[str] = Field(description="everyone who held a role or did a step, sorted")


class SeriesRow(_Row):
    """One scenario's drills of one mode in one month: medians of the measures, rates of the verdicts."""

    scenario_id: str
    mode: str
    month: str
    drills: int
    passed: int
    score: float | None
    mttd: float | None
    mtta: float | None
    mttr: float | None
    recovery: float | None
    steps_on_time: float | None = Field(description="on-time steps ÷ steps due, 0..1")
    severity_accuracy: float | None = Field(description="correct ÷ judged, 0..1")


class FrequencyRow(_Row):
    month: str
    mode: str
    drills: int


class PersonRow(_Row):
    person: str
    drills: int = Field(description="drills they held a role in or did a step of")
    ic_turns: int = Field(description="drills they were incident commander in (live game days and tabletops)")
    ic_training: int = Field(description="training drills they were the trainee incident commander in")
    roles: dict[str, int] = Field(description="role → drills held")
    first: str
    last: str
    last_ic: str | None


class CoverageRow(_Row):
    """A detection signal of a scenario, over the drills that injected a fault (any mode but tabletop, training)."""

    scenario_id: str
    signal: str
    exercised: int = Field(description="drills that injected a fault and expected this signal")
    detected_by_it: int = Field(description="drills it detected first")
    silent: int = Field(description="drills with no detection at all (a silent failure)")
    last_exercised: str | None
    last_silent: str | None


class ReadinessRow(_Row):
    """A scenario's readiness: its last real run's result, decayed with staleness (``docs/readiness.md``)."""

    scenario_id: str
    readiness: float
    result: float = Field(description="1 passed, 0.5 not passed, 0 never run")
    decay: float
    last_run: str | None
    last_verdict: str | None
    age_days: int | None
    why: str


class RepeatSummary(_Row):
    """From ``findings.yaml``: how often a closed finding came back (the repeat-incident rate)."""

    findings: int
    open: int
    closed: int
    ever_closed: int
    repeats: int
    repeat_rate: float | None = Field(description="findings that came back after being closed ÷ findings ever closed")


class TrendsReport(_Row):
    """``trends.json``: everything the page shows, as data (deterministic for the same journals and ``as_of``)."""

    as_of: str
    journals: int
    skipped: list[str]
    drills: list[DrillRow]
    series: list[SeriesRow]
    overall: list[SeriesRow] = Field(description="per mode and month over every scenario (scenario_id '*'): is the "
                                     "team getting faster?")
    frequency: list[FrequencyRow]
    people: list[PersonRow]
    coverage: list[CoverageRow]
    readiness: list[ReadinessRow]
    repeats: RepeatSummary | None
