"""The scorecard: what a drill measured. Produced by :func:`gameday.analysis.scorecard.score_journal`.

Every time is traceable to two journal events (``from_seq`` → ``to_seq``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StepVerdict = Literal["on_time", "late", "missed", "not_applicable"]
DetectionVerdict = Literal["on_time", "late", "silent", "not_applicable"]
RecoveryVerdict = Literal["on_time", "late", "never", "not_applicable"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measure(Out):
    """A duration measured between two events; ``seconds`` is None when an end never happened."""

    name: str
    seconds: float | None
    from_seq: int | None = None
    to_seq: int | None = None
    definition: str


class DetectionResult(Out):
    verdict: DetectionVerdict
    deadline_t: float | None
    detected_t: float | None
    via: str | None = None
    signal: str | None = None
    seq: int | None = None


class StepResult(Out):
    id: str
    action: str
    role: str | None
    anchor: str
    anchor_t: float | None
    deadline_t: float | None
    done_t: float | None
    verdict: StepVerdict
    matched_seq: int | None = None
    author: str | None = None
    author_role: str | None = None
    note: str = ""


class SeverityResult(Out):
    expected: str
    first_declared: str | None
    final: str | None
    correct: bool
    time_to_correct: float | None = Field(None, description="seconds from detection to the first correct classification")
    note: str = ""


class ExecutiveResult(Out):
    required: bool
    within: float | None
    notified_t: float | None
    verdict: Literal["on_time", "late", "missed", "not_required"]
    deadline_t: float | None = None
    note: str = ""


class CommsResult(Out):
    updates: int
    required_every: float | None
    longest_gap: float | None
    verdict: Literal["met", "not_met", "not_required"]
    note: str = ""


class RoleResult(Out):
    required: list[str]
    holders: dict[str, list[str]]
    missing: list[str]
    distinct_people: bool
    ic_did_technical_work: bool
    notes: list[str] = Field(default_factory=list)


class RecoveryResult(Out):
    verdict: RecoveryVerdict
    deadline_t: float | None
    recovered_t: float | None


class ScoreComponent(Out):
    name: str
    weight: float
    earned: float | None = Field(description="fraction 0..1, None when not applicable (excluded)")
    note: str = ""


class Score(Out):
    total: float = Field(ge=0, le=100)
    components: list[ScoreComponent]
    formula: str
    note: str = ""


class Scorecard(Out):
    drill_id: str
    scenario_id: str
    title: str
    mode: str
    outcome: Literal["completed", "aborted", "incomplete"]
    abort_reason: str | None = None
    started_at: str
    ended_at: str | None
    policy: str
    expected_severity: str
    policy_rules: list[str] = Field(default_factory=list, description="the policy level applied (expected severity), in words")
    times: list[Measure]
    detection: DetectionResult
    steps: list[StepResult]
    severity: SeverityResult
    executives: ExecutiveResult
    comms: CommsResult
    roles: RoleResult
    recovery: RecoveryResult
    impact_seconds: float | None
    score: Score
    passed: bool
    failures: list[str] = Field(description="each expectation not met, one line each")
    journal_torn: bool = Field(False, description="the journal's last line was torn (a crash mid-write)")
