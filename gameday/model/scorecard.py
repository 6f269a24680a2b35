"""The scorecard: what a drill measured. Produced by :func:`gameday.analysis.scorecard.score_journal`.

Every time is traceable to two journal events (``from_seq`` → ``to_seq``).

The verdict and the score tell one story (``docs/scoring.md``, "Score and verdict"): a drill
that did not finish is *not scored* and never passes; a drill with nothing to judge says
*nothing to score*; a drill that did not pass never shows 100, one that passed never shows 0.
Every report words its headline with :func:`headline` and :func:`verdict_reason`, so the
one-line summary, the scorecard, JUnit and the postmortem cannot disagree.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)

# every part's base, and the customer-impact part: their own modules, re-exported here
from gameday.model.scorecard_base import Out as Out
from gameday.model.scorecard_impact import ImpactResult as ImpactResult
from gameday.model.scorecard_impact import LoadWindow as LoadWindow
from gameday.model.scorecard_impact import RequestFigures as RequestFigures
from gameday.model.scorecard_impact import RevenueEstimate as RevenueEstimate
from gameday.model.scorecard_impact import UnknownSpan as UnknownSpan

StepVerdict = Literal["on_time", "late", "missed", "not_applicable"]
DetectionVerdict = Literal["on_time", "late", "silent", "not_applicable"]
RecoveryVerdict = Literal["on_time", "late", "never", "not_applicable"]
#: ``scored``: a total over the components that apply; ``nothing_to_score``: the drill finished with a
#: fault injected but no pass gate applied; ``not_scored``: the drill did not finish, or injected nothing.
ScoreStatus = Literal["scored", "nothing_to_score", "not_scored"]
Verdict = Literal["passed", "not_passed", "aborted", "incomplete"]
#: The components that decide ``passed``: each one that applies must earn full marks.
GATES = ("detection", "steps", "recovery")




class Measure(Out):
    """A duration measured between two events; ``seconds`` is None when an end never happened.

    ``seconds`` is on the journal's clock (``t``: the scenario clock in a tabletop). A tabletop's
    measures also carry ``wall_seconds``, the same measure on the wall clock (the events' ``wall``
    times); a time-scaled drill's (``policy.scale`` below 1) carry ``incident_seconds``, the same
    measure on the incident clock the scenario declares (``seconds ÷ scale``). Other drills'
    measures leave them out altogether (their scorecards are as they were)."""

    name: str
    seconds: float | None
    from_seq: int | None = None
    to_seq: int | None = None
    definition: str
    wall_seconds: float | None = Field(None, description="tabletop only: the measure on the wall clock")
    incident_seconds: float | None = Field(None, description="time-scaled drill only: the measure on the incident "
                                           "clock (seconds ÷ policy.scale)")

    @model_serializer(mode="wrap")
    def _wall_only_when_given(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        for key in ("wall_seconds", "incident_seconds"):
            if key not in self.model_fields_set and isinstance(data, dict):
                data.pop(key, None)
        return data


class DetectionLag(Out):
    """One part of the way from the fault to a person on it (see :mod:`gameday.analysis.anatomy`): seconds
    between two journaled instants, or None with ``unknown`` saying why."""

    seconds: float | None
    from_seq: int | None = None
    to_seq: int | None = None
    definition: str
    unknown: str | None = Field(None, description="why seconds is None: the part cannot be known from the journal")


class DetectionResult(Out):
    verdict: DetectionVerdict
    deadline_t: float | None
    detected_t: float | None
    via: str | None = None
    signal: str | None = None
    seq: int | None = None
    alerts_received: int | None = Field(None, description="alert deliveries journaled after the first injection "
                                        "(matched or not); None without an injection")
    alert_starts_at: str | None = Field(None, description="the detecting alert's own start time (UTC), as journaled")
    condition_lag: DetectionLag | None = Field(None, description="first injection -> the detecting alert's own start "
                                               "time: scrape, rule evaluation, for:")
    notification_lag: DetectionLag | None = Field(None, description="the alert's start time -> its webhook's arrival: "
                                                  "grouping, routing, paging")
    human_lag: DetectionLag | None = Field(None, description="the alert's arrival -> the first person's acknowledgement")


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
    first_expected: str | None = Field(None, exclude_if=lambda v: v is None, description="with a simulation only: the "
                                       "severity right when the first classification was made (it is judged against it)")


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
    required: list[str] = Field(description="the roles asked for: see asked_by")
    asked_by: Literal["scenario", "steps", "none"] = Field(
        "scenario", description="scenario: its roles: list; steps: no roles: list, the roles its steps name for people; "
        "none: neither, so no role is required")
    holders: dict[str, list[str]]
    missing: list[str]
    distinct_people: bool
    ic_did_technical_work: bool
    notes: list[str] = Field(default_factory=list)


class FaultResult(Out):
    """What became of one fault, from the journal alone (``FaultInjected`` is journaled as an injection
    starts: a ``FaultInjectionFailed`` after it makes the fault ``injection_failed``, never injected)."""

    id: str
    status: Literal["injected", "injection_failed", "skipped", "not_injected"]
    t: float | None = Field(None, description="when it was injected, its injection started, or it was skipped")
    rollback: Literal["rolled_back", "rollback_failed", "not_needed", "none"] = Field(
        "none", description="the last rollback event: not_needed is FaultNotRolledBack; none: no rollback journaled")


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
    status: ScoreStatus = "scored"
    total: float | None = Field(ge=0, le=100, description="None unless status is scored")
    components: list[ScoreComponent]
    formula: str
    note: str = Field("", description="why the drill is not scored, or has nothing to score")

    @model_validator(mode="after")
    def _total_iff_scored(self) -> Score:
        if (self.total is None) == (self.status == "scored"):
            raise ValueError(f"a {self.status.replace('_', ' ')} score " + ("has no total" if self.total is not None
                                                                              else "needs a total"))
        return self


Rating = Literal["P", "S", "M", "U"]
InjectStatus = Literal["published", "held", "skipped", "unpublished"]


class ObjectiveStep(Out):
    """One critical task of an objective: a response step and its verdict (as in ``steps``)."""

    id: str
    verdict: StepVerdict
    deadline_t: float | None
    done_t: float | None


class ObjectiveInject(Out):
    """An inject of the MSEL that tests the objective, and what became of it."""

    id: str
    status: InjectStatus
    t: float | None = Field(None, description="when it was published (else held or skipped), scenario clock")
    seq: int | None = Field(None, description="the InjectPublished (else InjectHeld / InjectSkipped) event")


class RatingOverride(Out):
    """The facilitator's rating (the latest ``ObjectiveRated`` of the objective), with its note."""

    rating: Rating
    note: str
    by: str
    t: float
    seq: int


class ObjectiveResult(Out):
    """An exercise objective rated P / S / M / U (HSEEP), with its evidence (``docs/scoring.md``, "Objectives").

    ``derived`` follows from its steps' verdicts (None: none of them fell due); ``rating`` is the
    facilitator's ``override`` when there is one, else ``derived``."""

    id: str
    title: str
    capability: str | None = None
    steps: list[ObjectiveStep]
    derived: Rating | None
    derived_rule: str = Field(description="why the steps give that rating, in words")
    override: RatingOverride | None = None
    rating: Rating | None
    injects: list[ObjectiveInject] = Field(default_factory=list, description="MSEL injects naming it as their objective")
    decisions: list[int] = Field(default_factory=list, description="seqs of the DecisionRecorded answering those injects")
    notes: list[int] = Field(default_factory=list, description="seqs of the EvaluatorNoted about it")


class PaceRecord(Out):
    """One ``PaceSet``: how the scenario clock ran against the wall clock from then on."""

    pace: str
    factor: float | None
    by: str
    t: float
    seq: int


class ExerciseSummary(Out):
    """What a tabletop's journal says of the exercise itself: pace, injects, decisions, hot wash."""

    paces: list[PaceRecord]
    injects: int = Field(description="injects of the MSEL (and any other the journal names)")
    injects_published: int
    injects_held: int = Field(description="held and never published or skipped afterwards")
    injects_skipped: int
    injects_unpublished: int = Field(description="never published, held or skipped")
    contingencies_fired: int = Field(description="injects published as a contingency")
    decisions: int
    evaluator_notes: int
    hot_wash_entries: int
    objective_overrides: int
    pauses: int
    scenario_seconds: float | None = Field(description="drill start → end on the scenario clock (the journal's t)")
    wall_seconds: float | None = Field(description="drill start → end on the wall clock (the events' wall times)")


def _absent(value: object) -> bool:
    return value is None


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
    faults: list[FaultResult] = Field(default_factory=list, description="each fault's fate, scenario order")
    score: Score
    passed: bool
    failures: list[str] = Field(description="each expectation not met, one line each")
    warnings: list[str] = Field(default_factory=list, description="journaled facts about how the drill was run that "
                                "explain its result (a ci drill without responders), one line each")
    end_t: float | None = Field(None, description="seconds from drill start to DrillEnded (else the last event)")
    journal_torn: bool = Field(False, description="the journal's last line was torn (a crash mid-write)")
    impact: ImpactResult | None = Field(None, description="customer impact from the load generator; None without load")
    # tabletop or time-scaled drill only (left out of other drills' scorecards altogether, which stay as they were)
    clocks: str | None = Field(None, exclude_if=_absent, description="tabletop or time-scaled drill: which clock "
                               "the times and figures are on")
    scale: float | None = Field(None, exclude_if=_absent, description="time-scaled drill only: the scenario's "
                                "policy.scale (1 s of this drill stands for 1/scale s of an incident)")
    # tabletop only
    objectives: list[ObjectiveResult] | None = Field(None, exclude_if=_absent, description="tabletop: objectives rated")
    exercise: ExerciseSummary | None = Field(None, exclude_if=_absent, description="tabletop: the exercise in figures")

    @computed_field(description="passed, not_passed, aborted or incomplete: follows outcome and passed")  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> Verdict:
        """Never stored, so never out of step with ``outcome`` and ``passed``."""
        return verdict_of(self.outcome, self.passed)

    @model_validator(mode="before")
    @classmethod
    def _read_verdict(cls, data: Any) -> Any:
        """A scorecard read back from JSON carries its verdict: it must follow outcome and passed."""
        if isinstance(data, dict) and "verdict" in data:
            data = dict(data)
            given = data.pop("verdict")
            if given != verdict_of(data.get("outcome"), bool(data.get("passed"))):
                raise ValueError(f"verdict {given!r} does not follow outcome {data.get('outcome')!r} and passed")
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Scorecard:
        if self.passed and self.outcome != "completed":
            raise ValueError(f"an {self.outcome} drill cannot pass")
        if self.passed and self.score.status == "not_scored":
            raise ValueError("a drill that is not scored cannot pass")
        return self


def fault_injected(card: Scorecard) -> bool:
    """At least one fault was injected (a card without ``faults``: judged by the detection deadline)."""
    if card.faults:
        return any(f.status == "injected" for f in card.faults)
    return card.detection.deadline_t is not None


def verdict_of(outcome: object, passed: bool) -> Verdict:
    """The verdict of a drill: its outcome when it did not complete, else passed or not."""
    if outcome in ("aborted", "incomplete"):
        return "aborted" if outcome == "aborted" else "incomplete"
    return "passed" if passed else "not_passed"


VERDICT_LABEL: dict[str, str] = {"passed": "PASSED", "not_passed": "NOT PASSED", "aborted": "ABORTED",
                                 "incomplete": "INCOMPLETE"}


def score_text(card: Scorecard) -> str:
    """The score as people read it: ``'81.3/100'``, ``'not scored'`` or ``'nothing to score'``.

    Only a completed drill with a total shows a number, whatever a hand-built card holds."""
    s = card.score
    if card.outcome != "completed" or s.status == "not_scored":
        return "not scored"
    if s.status == "nothing_to_score" or s.total is None:
        return "nothing to score"
    return f"{s.total:.1f}/100"


def headline(card: Scorecard) -> str:
    """``'NOT PASSED — score 81.3/100'``, ``'ABORTED — not scored'``, ``'PASSED — nothing to score'``."""
    text = score_text(card)
    return f"{VERDICT_LABEL[card.verdict]} — {'score ' + text if text[0].isdigit() else text}"


def verdict_reason(card: Scorecard) -> str:
    """Why the verdict and the score are what they are, in one sentence (unescaped: may carry an abort reason)."""
    s = card.score
    if card.verdict == "aborted":
        why = f" ({card.abort_reason})" if card.abort_reason else ""
        return f"The drill was aborted{why}: a drill that did not finish is not scored and does not pass."
    if card.verdict == "incomplete":
        return "The journal ends without DrillEnded (the drill did not finish): it is not scored and does not pass."
    if s.status != "scored":
        note = (s.note or ("nothing to score" if s.status == "nothing_to_score" else "not scored")).rstrip(".")
        return note[:1].upper() + note[1:] + "."
    comps = {c.name: c for c in s.components if c.earned is not None and c.weight > 0}
    short = [c for c in comps.values() if c.earned is not None and c.earned < 1]
    if card.passed:
        if not short:
            return "All expectations met (every one that applied)."
        lost = ", ".join(c.name for c in short)
        return f"Every pass gate that applied (detection, steps, recovery) was met; points were lost on {lost}."
    gates = [c for c in short if c.name in GATES]
    unmet = "; ".join(f"{c.name} ({c.note})" if c.note else c.name for c in gates) or "see the expectations not met"
    return f"Not every pass gate was met: {unmet}."
