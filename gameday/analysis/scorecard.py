"""The scorecard: a pure function of a journal (no clock, no I/O).

:func:`score_journal` reads the scenario and the (already scaled) severity policy from
the ``DrillStarted`` event, the facts and step verdicts from
:mod:`gameday.analysis.matching`, and measures the drill; the blameless ``failures`` lines
are worded by :mod:`gameday.analysis.failures`.

Score formula (also in ``docs/scoring.md``)::

    total = 100 × Σ(weight × earned) / Σ(weight of applicable components)

clamped to [0, 100] and rounded half-even to one decimal, computed exactly (rational
arithmetic) from the unrounded fractions. Weights come from ``scenario.scoring``
(defaults: detection 25, steps 30, recovery 20, severity 10, comms 10, roles 5). Each
component earns a fraction 0..1:

* detection — on_time 1, late 0.5, silent 0;
* steps — mean over applicable steps of on_time 1, late 0.5, missed 0;
* recovery — on_time 1, late 0.5, never 0;
* severity — correct at first 1, corrected later 0.5, wrong or never classified 0 (with a simulation,
  the first classification is judged against the severity right at its time, the final one against
  the worst reached, and executives are due for each escalation: :mod:`gameday.analysis.severity`);
* comms — cadence met 1; otherwise required_every / longest_gap clamped to [0, 1], 0 if
  no update was posted at all;
* roles — fraction of required roles held by someone × (1 if no person held two required
  roles at once, else 0.5).

A component that is not applicable (no injection, no incident known, no step due, no
cadence required, no roles asked for) has ``earned = None`` and is excluded from both
sums, never counted as 0 or 1 silently; a component weighted 0 is switched off (neither
scored nor a gate). The roles asked for are the scenario's ``roles:`` when the file names
them (``DrillStarted.roles_declared``), else the roles its steps name for people.

Score and verdict tell one story (``docs/scoring.md``, "Score and verdict"):

* the **verdict** is ``aborted`` or ``incomplete`` when the drill did not complete; else
  ``passed`` when a fault was injected and every pass gate that applies (detection, steps,
  recovery) earned full marks — detection and recovery do not apply when the probes saw no
  customer impact (the system absorbed the fault) — and ``not_passed`` otherwise;
* the **score** is *not scored* (``total`` None) for a drill that did not complete or
  injected nothing, *nothing to score* when no pass gate applies, else the total above —
  never 100 for a drill that did not pass, never 0 for one that passed (a rounding edge is
  held at 99.9 / 0.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from gameday.analysis.anatomy import detection_anatomy
from gameday.analysis.clocks import incident_scale, on_incident_clock, scaled_clocks_note, with_incident_seconds
from gameday.analysis.failures import failure_lines, fault_fates
from gameday.analysis.impact import measure_impact
from gameday.analysis.matching import EPS, Action, Facts, evaluate_steps, impact_start, r3, read_facts
from gameday.analysis.measures import impacted_at_injection, impacted_time, measure_times
from gameday.analysis.severity import (
    SeverityPoint,
    has_simulation,
    judge_classification,
    judge_executives,
    severity_timeline,
    worst_severity,
)
from gameday.errors import JournalError
from gameday.journal import Journal
from gameday.model.duration import human
from gameday.model.events import (
    AlertReceived,
    DrillStarted,
    ProductionAllowed,
    RespondersNotLoaded,
)
from gameday.model.policy import SeverityLevel, SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.scorecard import (
    GATES,
    CommsResult,
    DetectionResult,
    DetectionVerdict,
    ExecutiveResult,
    FaultResult,
    Measure,
    RecoveryResult,
    RecoveryVerdict,
    RoleResult,
    Score,
    Scorecard,
    ScoreComponent,
    ScoreStatus,
    SeverityResult,
    StepResult,
)
from gameday.model.terms import IC, Mode, format_offset

FORMULA = (
    "total = 100 × Σ(weight × earned) / Σ(weight of applicable components), clamped to [0, 100], "
    "rounded half-even to 0.1; components that are not applicable (earned = none) are excluded"
)
Outcome = Literal["completed", "aborted", "incomplete"]
_FRACTION = {"on_time": Fraction(1), "late": Fraction(1, 2)}
#: Why a pass gate does not apply, once a fault was injected and the drill completed.
_NOT_APPLYING = {
    "detection": "the probes saw no customer impact and nothing was detected",
    "steps": "no response step fell due",
    "recovery": "no customer impact to recover from",
}


def score_journal(journal: Journal) -> Scorecard:
    """Measure and score one drill journal. Pure and deterministic.

    Raises :class:`~gameday.errors.JournalError` (line 1) when the journal does not begin
    with ``DrillStarted`` or its ``drill_id`` is empty, and (with its line) for an action
    without an author or a role assignment with an empty person or role. (A ``DrillStarted``
    whose scenario or policy is not valid never gets this far: reading the journal refuses it.)
    """
    scenario, policy, drill_id, mode = drill_setup(journal)
    roles_declared = journal.events[0].data.roles_declared if isinstance(journal.events[0].data, DrillStarted) else True
    facts = read_facts(scenario, journal.events, journal.path)
    statuses = evaluate_steps(scenario, journal.events, facts=facts)
    steps = [s.result() for s in statuses]
    timeline = severity_timeline(scenario, journal.events)
    expected = worst_severity(timeline)
    level = policy.levels.get(expected)
    times = measure_times(facts)
    detection = _detection(scenario, facts)
    recovery = _recovery(scenario, facts)
    severity, severity_earned = _severity(timeline, has_simulation(journal.events), facts)
    executives = _executives(policy, timeline, facts)
    comms, comms_earned = _comms(level, facts)
    roles, roles_earned = _roles(scenario, facts, roles_declared, mode)
    aborted = facts.aborted is not None or (facts.ended is not None and facts.ended.data.outcome == "aborted")
    outcome: Outcome = "aborted" if aborted else "completed" if facts.ended else "incomplete"
    reasons = (facts.aborted.data.reason if facts.aborted else None, facts.ended.data.reason if facts.ended else None)
    reason = next((r for r in reasons if r), None)
    due = [s for s in steps if s.verdict != "not_applicable"]
    earned = {
        "detection": None if detection.verdict == "not_applicable" else _FRACTION.get(detection.verdict, Fraction(0)),
        "steps": sum((_FRACTION.get(s.verdict, Fraction(0)) for s in due), Fraction(0)) / len(due) if due else None,
        "recovery": None if recovery.verdict == "not_applicable" else _FRACTION.get(recovery.verdict, Fraction(0)),
        "severity": severity_earned,
        "comms": comms_earned,
        "roles": roles_earned,
    }
    notes = {
        "detection": detection.verdict.replace("_", " "),
        "steps": _step_counts(steps),
        "recovery": recovery.verdict.replace("_", " "),
        "severity": severity.note,
        "comms": comms.verdict.replace("_", " ") if comms_earned is not None else comms.note,
        "roles": "" if roles_earned is not None else "not applicable: the scenario asks for no roles "
                 "(no roles: list, and no step names a role for a person)",
    }
    fates = fault_fates(journal.events, [f.id for f in scenario.faults])
    faults = [FaultResult(id=f.fault, status=f.status, t=r3(f.t), rollback=f.rollback) for f in fates]
    injected = any(f.status == "injected" for f in fates)
    score, passed = _score(scenario, earned, notes, outcome, injected)
    failures = failure_lines(scenario, facts, outcome, reason, statuses, detection=detection, recovery=recovery,
                             severity=severity, executives=executives, comms=comms, roles=roles)
    warnings = [_production_warning(e.data) for e in journal.events if isinstance(e.data, ProductionAllowed)]
    warnings += [_responders_warning(e.data) for e in journal.events if isinstance(e.data, RespondersNotLoaded)]
    tabletop: dict[str, Any] = {}
    if mode == "tabletop":  # only there: other drills' scorecards stay byte-identical
        times, tabletop = _tabletop(scenario, journal, facts, times, steps)
    scale = incident_scale(journal.events)
    if scale is not None:  # a time-scaled drill: its measures on the incident clock too (unscaled cards unchanged)
        times = with_incident_seconds(times, scale)
        note = scaled_clocks_note(scale)
        tabletop |= {"clocks": f"{tabletop['clocks']}; {note}" if "clocks" in tabletop else note, "scale": scale}
    return Scorecard(
        drill_id=drill_id, scenario_id=scenario.id, title=scenario.title, mode=mode, outcome=outcome,
        abort_reason=reason if outcome == "aborted" else None, started_at=journal.events[0].wall,
        ended_at=facts.ended.wall if facts.ended else None, policy=policy.name, expected_severity=expected,
        policy_rules=policy_rules(expected, level, scale),
        times=times, detection=detection, steps=steps, severity=severity, executives=executives, comms=comms,
        roles=roles, recovery=recovery, impact_seconds=times[-1].seconds, faults=faults, score=score,
        passed=passed, failures=failures, warnings=warnings, end_t=r3(facts.end_t), journal_torn=journal.torn,
        impact=measure_impact(journal), **tabletop,
    )  # fmt: skip


def _tabletop(scenario: Scenario, journal: Journal, facts: Facts, times: list[Measure],
              steps: list[StepResult]) -> tuple[list[Measure], dict[str, Any]]:
    """A tabletop's measures on both clocks, its objectives rated and the exercise in figures."""
    from gameday.analysis.clocks import CLOCKS_NOTE, on_both_clocks
    from gameday.analysis.exercise import exercise_summary
    from gameday.analysis.objectives import rate_objectives

    walled = on_both_clocks(times, journal.events, lambda at: r3(impacted_time(facts, at)[0]))
    extra = {"clocks": CLOCKS_NOTE, "objectives": rate_objectives(scenario, steps, journal.events),
             "exercise": exercise_summary(scenario, journal.events, r3(facts.end_t))}
    return walled, extra


def _production_warning(d: ProductionAllowed) -> str:
    """The line every report carries for a drill run with --allow-production."""
    what = (f"against production: {', '.join(d.targets)} declared production by the scenario" if d.targets else
            "with production allowed: no target was declared production, but containers labelled production could "
            "be touched")
    return f"PRODUCTION: this drill ran with --allow-production, {what}"


def _responders_warning(d: RespondersNotLoaded) -> str:
    steps = f": no one was there to do step(s) {', '.join(d.steps)}, which no automated runbook covers" if d.steps else ""
    return (f"This ci drill ran without a responder script{steps}. Name one with responders: in the scenario "
            "or pass --responders FILE.")


def drill_setup(journal: Journal) -> tuple[Scenario, SeverityPolicy, str, Mode]:
    """The scenario, policy, drill id and mode from the journal's ``DrillStarted`` event.

    The scenario and policy were validated when the journal was read; what is left to
    refuse (:class:`JournalError`, line 1) is a journal that does not begin with
    ``DrillStarted`` (one assembled in memory) or an empty ``drill_id``.
    """
    first = journal.events[0] if journal.events else None
    if first is None or not isinstance(first.data, DrillStarted):
        raise JournalError(journal.path, 1, "the journal does not begin with DrillStarted")
    data = first.data
    if not data.drill_id:
        raise JournalError(journal.path, 1, "DrillStarted data: 'drill_id' must be a non-empty string")
    return data.scenario, data.policy, data.drill_id, data.mode


def policy_rules(severity: str, level: SeverityLevel | None, scale: float | None = None) -> list[str]:
    """The policy level applied to a drill, in words (durations already scaled; a time-scaled drill's
    ``scale`` adds each one on the incident clock)."""
    if level is None:
        return [f"the policy has no level {severity}: no executive or update requirement"]

    def dur(seconds: float) -> str:
        return human(seconds) + on_incident_clock(seconds, scale)

    if level.executives_within is not None:
        when = "immediately" if level.executives_within <= EPS else f"within {dur(level.executives_within)}"
        executives = f"executives notified {when} after the incident is declared (or detected)"
    elif level.executives_if_open_after is not None:
        executives = f"executives notified if the incident is still open {dur(level.executives_if_open_after)} after it began"
    else:
        executives = "no executive notification required"
    every = level.update_every
    updates = f"stakeholder updates at least every {dur(every)} while open" if every is not None else "no update cadence"
    return [f"{severity}: {level.description}", executives, updates]
















def _detection(scenario: Scenario, facts: Facts) -> DetectionResult:
    if facts.injection is None:
        return DetectionResult(verdict="not_applicable", deadline_t=None, detected_t=None)
    deadline = facts.injection.t + scenario.detection.within
    inj_seq = facts.injection.seq
    alerts = sum(1 for e in facts.events if e.seq > inj_seq and isinstance(e.data, AlertReceived))
    det = facts.detection
    a = detection_anatomy(facts)
    if det is None:
        silent: DetectionVerdict = "silent" if impact_start(facts) is not None else "not_applicable"
        return DetectionResult(verdict=silent, deadline_t=r3(deadline), detected_t=None, alerts_received=alerts,
                               alert_starts_at=a.starts_at, condition_lag=a.condition, notification_lag=a.notification,
                               human_lag=a.human)
    return DetectionResult(
        verdict="on_time" if det.t <= deadline + EPS else "late",
        deadline_t=r3(deadline),
        detected_t=r3(det.t),
        via=det.data.via,
        signal=det.data.signal or det.data.alertname or None,
        seq=det.seq,
        alerts_received=alerts,
        alert_starts_at=a.starts_at, condition_lag=a.condition, notification_lag=a.notification, human_lag=a.human,
    )


def _declared(facts: Facts) -> Action | None:
    return next((a for a in facts.actions if a.action == "declare_incident" and a.t >= facts.window_t - EPS), None)


def _incident_start(facts: Facts) -> float | None:
    """When the team knew of the incident: detection, else the first declaration."""
    if facts.detection is not None:
        return facts.detection.t
    declared = _declared(facts)
    return declared.t if declared else None


def _severity(timeline: list[SeverityPoint], simulated: bool, facts: Facts) -> tuple[SeverityResult, Fraction | None]:
    marks = [a for a in facts.actions if a.action in ("set_severity", "declare_incident") and a.t >= facts.window_t - EPS]
    detected = facts.detection.t if facts.detection else None
    return judge_classification(timeline, simulated, marks, detected, _incident_start(facts) is not None)


def _executives(policy: SeverityPolicy, timeline: list[SeverityPoint], facts: Facts) -> ExecutiveResult:
    declared = _declared(facts)
    start = declared or facts.detection
    tells = (a for a in facts.actions if a.action == "notify_executives" or a.audience == "executive")
    told = [a for a in tells if a.action in ("notify_executives", "post_update") and a.t >= facts.window_t - EPS]
    close = facts.resolved.t if facts.resolved else facts.end_t
    since = "declaration" if declared else "detection"
    return judge_executives(policy, timeline, start, since, close, facts.end_t, told, incident_scale(facts.events))


def _comms(level: SeverityLevel | None, facts: Facts) -> tuple[CommsResult, Fraction | None]:
    every = level.update_every if level else None
    updates = [a for a in facts.actions if a.action == "post_update" and a.t >= facts.window_t - EPS]
    start = _incident_start(facts)
    if start is None:
        note = "not applicable: no incident was detected or declared"
        result = CommsResult(updates=len(updates), required_every=r3(every), longest_gap=None, verdict="not_required", note=note)
        return result, None
    close = max(start, facts.resolved.t if facts.resolved else facts.end_t)
    points = [start, *(a.t for a in updates if start < a.t <= close), close]
    longest = max(b - a for a, b in pairwise(points))
    until = "the 'resolved' action" if facts.resolved else "the end of the drill"
    since = "detection" if facts.detection else "declaration"
    note = f"measured from {format_offset(start)} ({since}) to {format_offset(close)} ({until})"
    result = CommsResult(
        updates=len(updates), required_every=r3(every), longest_gap=r3(longest), verdict="not_required", note=note
    )
    if every is None:
        return result, None
    met = longest <= every + EPS
    earned = Fraction(1) if met else Fraction(0) if not updates else min(Fraction(1), Fraction(every) / Fraction(longest))
    return result.model_copy(update={"verdict": "met" if met else "not_met"}), earned


def asked_roles(scenario: Scenario, declared: bool, mode: Mode) -> tuple[list[str], Literal["scenario", "steps", "none"]]:
    """The roles a drill asks for: the scenario's ``roles:`` when its file names them; else the roles its
    steps name for people (a step's ``role``, an ``assign_role`` step's ``expect``), leaving out steps an
    automated runbook does in this mode (automation is never held to roles)."""
    if declared:
        return list(scenario.roles), "scenario"
    named: list[str] = []
    for step in scenario.response:
        runbook = scenario.runbooks.get(step.runbook or "")
        if step.action == "runbook" and runbook is not None and mode in runbook.automated_in:
            continue
        named += [r for r in (step.role, step.expect if step.action == "assign_role" else None) if r and r not in named]
    return named, "steps" if named else "none"


def _roles(scenario: Scenario, facts: Facts, declared: bool, mode: Mode) -> tuple[RoleResult, Fraction | None]:
    required, asked_by = asked_roles(scenario, declared, mode)
    book = facts.roles
    holders = book.holders()
    missing = [r for r in required if r not in holders]
    notes: list[str] = []
    doubled: list[str] = []
    for seq, t, person, _role in book.assignments:
        held = [r for r in required if book.holder(r, seq + 1) == person]
        if len(held) > 1 and person not in doubled:
            doubled.append(person)
            notes.append(f"one person held {' and '.join(held)} at the same time (from {format_offset(t)})")
    notes += [f"{role} was handed over: {' → '.join(people)}" for role, people in sorted(holders.items()) if len(people) > 1]
    runs = [a for a in facts.actions if a.action == "runbook_started" and not a.automated]
    ic_runs = [a for a in runs if a.role == IC or book.holder(IC, a.seq) == a.author]
    if ic_runs:
        notes.append(
            f"the incident commander also ran the {ic_runs[0].runbook or 'a'} runbook; "
            "the IC role works best hands-off — consider handing technical steps to the tech lead"
        )
    result = RoleResult(required=required, asked_by=asked_by, holders=holders, missing=missing,
                        distinct_people=not doubled, ic_did_technical_work=bool(ic_runs), notes=notes)  # fmt: skip
    if not required:
        return result, None
    return result, Fraction(len(required) - len(missing), len(required)) * (Fraction(1, 2) if doubled else 1)


def _recovery(scenario: Scenario, facts: Facts) -> RecoveryResult:
    if facts.injection is None:
        return RecoveryResult(verdict="not_applicable", deadline_t=None, recovered_t=None)
    deadline = facts.injection.t + scenario.recovery.within
    rec = facts.recovery
    if rec is None and impact_start(facts) is None and not impacted_at_injection(facts):
        # the probes never saw customer impact: the system absorbed the fault, nothing to recover from
        return RecoveryResult(verdict="not_applicable", deadline_t=r3(deadline), recovered_t=None)
    verdict: RecoveryVerdict = "never" if rec is None else "on_time" if rec.t <= deadline + EPS else "late"
    return RecoveryResult(verdict=verdict, deadline_t=r3(deadline), recovered_t=r3(rec.t) if rec else None)


def _score(scenario: Scenario, earned: dict[str, Fraction | None], notes: dict[str, str], outcome: Outcome,
           injected: bool) -> tuple[Score, bool]:
    """The score and ``passed``, one story (exact rational arithmetic, rounded half-even once at the end)."""
    comps, num, den = [], Fraction(0), Fraction(0)
    applying: dict[str, Fraction] = {}
    for name, frac in earned.items():
        weight = Fraction(getattr(scenario.scoring, name))
        note = notes[name]
        if frac is not None and weight > 0:
            num, den = num + weight * frac, den + weight
            applying[name] = frac
        elif frac is not None:
            note = f"{note}; weight 0: not counted" if note else "weight 0: not counted"
        shown = None if frac is None else r3(float(frac))
        comps.append(ScoreComponent(name=name, weight=round(float(weight), 3) + 0.0, earned=shown, note=note))
    gates = [g for g in GATES if g in applying]
    passed = outcome == "completed" and injected and all(applying[g] == 1 for g in gates)
    status: ScoreStatus = "scored"
    if outcome != "completed":
        status, why = "not_scored", ("not scored: the drill was aborted before it finished" if outcome == "aborted"
                                     else "not scored: the journal ends before the drill did")
    elif not injected:
        status, why = "not_scored", "not scored: no fault was injected, so nothing was tested"
    elif not gates:
        why = "; ".join(f"{g}: {'weight 0' if earned[g] is not None else _NOT_APPLYING[g]}" for g in GATES)
        status, why = "nothing_to_score", f"nothing to score: no pass gate applied ({why})"
    if status != "scored":
        return Score(status=status, total=None, components=comps, formula=FORMULA, note=why), passed
    total = round(min(Fraction(100), max(Fraction(0), 100 * num / den)), 1)
    if passed and total == 0:
        total, note = Fraction(1, 10), "held at 0.1: a drill that passed never shows 0"
    elif not passed and total == 100:
        total, note = Fraction(999, 10), "held at 99.9: a drill that did not pass never shows 100"
    else:
        note = ""
    return Score(total=float(total), components=comps, formula=FORMULA, note=note), passed


def _step_counts(steps: Sequence[StepResult]) -> str:
    counts = {v: sum(1 for s in steps if s.verdict == v) for v in ("on_time", "late", "missed", "not_applicable")}
    return ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in counts.items() if n) or "no steps"
