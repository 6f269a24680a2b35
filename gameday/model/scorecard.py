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


class RequestFigures(Out):
    """Load-generator figures of one request name (or a group of them) over a window."""

    name: str
    requests: int
    failures: int
    failure_rate: float | None = Field(description="failures / requests, 0..1; None without requests")
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class LoadWindow(Out):
    """What the load generator measured over one window of the drill (whole stats intervals)."""

    from_t: float | None
    to_t: float | None
    intervals: int
    seconds: float = Field(description="sum of the lengths of the stats intervals counted")
    total: RequestFigures
    customer_facing: RequestFigures
    by_name: list[RequestFigures]


class RevenueEstimate(Out):
    """Revenue lost in the impact window, with the formula and the numbers plugged into it."""

    currency: str
    basis: Literal["revenue_per_minute", "value_per_request"]
    lost: float | None
    per_minute: float | None = Field(description="lost ÷ minutes of stats intervals in the impact window")
    lower_bound: bool = Field(False, description="load data is missing for part of the window: at least this much")
    value_per_success: float | None
    expected_successes: float | None
    actual_successes: int | None
    shortfall: float | None
    formula: str
    computation: str = ""
    note: str = ""


class UnknownSpan(Out):
    """A stretch of the drill when the load generator was not running: impact unknown there."""

    from_t: float
    to_t: float | None
    reason: str
    seq: int


class ImpactResult(Out):
    """What customers felt, measured by the load generator (``None`` on a scorecard: no load configured)."""

    status: Literal["measured", "partial", "unknown"]
    note: str = ""
    customer_facing: list[str]
    window_definition: str
    baseline: LoadWindow | None
    during: LoadWindow | None
    peak_error_rate: float | None = Field(description="highest failure rate of all requests in one interval of the window")
    peak_error_t: float | None
    peak_customer_facing_error_rate: float | None
    degraded_seconds: float | None
    degraded_minutes: float | None
    degraded_definition: str
    revenue: RevenueEstimate | None
    unknown: list[UnknownSpan] = Field(default_factory=list)
    unseen_names: list[str] = Field(default_factory=list, description="customer-facing names no stats interval mentions")


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
    impact: ImpactResult | None = Field(None, description="customer impact from the load generator; None without load")
