"""The scorecard's ``failures``: one blameless line per expectation not met.

Each line says what the system and the process did, not who failed. Moved out of
:mod:`gameday.analysis.scorecard`, whose :func:`~gameday.analysis.scorecard.score_journal`
measures the drill and calls :func:`failure_lines` with its results. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from gameday.analysis.matching import EPS, Facts, StepStatus, describe, impact_start
from gameday.model.duration import human
from gameday.model.events import FaultInjected, FaultRolledBack
from gameday.model.scenario import Scenario
from gameday.model.scorecard import CommsResult, DetectionResult, ExecutiveResult, RecoveryResult, RoleResult, SeverityResult
from gameday.model.terms import format_offset

__all__ = ["failure_lines"]


def failure_lines(scenario: Scenario, facts: Facts, outcome: str, reason: str | None, statuses: Sequence[StepStatus], *,
                  detection: DetectionResult, recovery: RecoveryResult, severity: SeverityResult,
                  executives: ExecutiveResult, comms: CommsResult, roles: RoleResult) -> list[str]:  # fmt: skip
    """The failures of a measured drill, in order: outcome, detection, steps, then recovery, severity,
    executives, comms and roles. Empty when every expectation was met."""
    return [
        *_outcome_failures(facts, outcome, reason),
        *_detection_failures(scenario, facts, detection),
        *_step_failures(statuses),
        *_other_failures(scenario, recovery, severity, executives, comms, roles),
    ]


def _outcome_failures(facts: Facts, outcome: str, reason: str | None) -> list[str]:
    injected = [e.data.fault for e in facts.events if isinstance(e.data, FaultInjected)]
    rolled = {e.data.fault for e in facts.events if isinstance(e.data, FaultRolledBack)}
    open_faults = sorted(set(injected) - rolled)
    if not injected:
        faults = "no fault had been injected"
    elif open_faults:
        faults = f"no rollback is journaled for {', '.join(open_faults)}: run 'gameday recover' to be sure"
    else:
        faults = "every injected fault was rolled back"
    if outcome == "aborted":
        when = format_offset((facts.aborted or facts.ended or facts.events[-1]).t)
        return [f"The drill was aborted ({reason or 'no reason recorded'}) at {when}; {faults}"]
    if outcome == "incomplete":
        return [f"The journal ends at {format_offset(facts.events[-1].t)} without DrillEnded: the drill did not finish; {faults}"]
    return []


def _detection_failures(scenario: Scenario, facts: Facts, d: DetectionResult) -> list[str]:
    deadline = format_offset(d.deadline_t)
    if d.verdict == "late":
        how = f"alert {d.signal}" if d.via == "alert" and d.signal else d.via or "recorded"
        late_by = human((d.detected_t or 0.0) - (d.deadline_t or 0.0))
        came = f"came at {format_offset(d.detected_t)}, {late_by} after the {deadline} deadline"
        return [f"Detection was late: the first detection ({how}) {came}"]
    if d.verdict == "silent":
        return [
            (f"Detection was silent: impact started at {format_offset(impact_start(facts))} and no alert or person "
             f"detected it within {human(scenario.detection.within)} of the injection (by {deadline})")
        ]
    if d.verdict == "not_applicable":
        why = "the fault caused no observed impact and nothing was detected"
        why = "no fault was injected" if facts.injection is None else why
        return [f"Detection could not be assessed: {why}"]
    return []


def _step_failures(statuses: Sequence[StepStatus]) -> list[str]:
    out = []
    for s in statuses:
        label = f"Step '{s.step.id}' ({describe(s.step)})"
        if s.verdict == "missed":
            out.append(f"{label} was not done by its {format_offset(s.deadline_t)} deadline")
        elif s.verdict == "late" and s.done_t is not None and s.deadline_t is not None and s.done_t > s.deadline_t + EPS:
            late_by = human(s.done_t - s.deadline_t)
            deadline = format_offset(s.deadline_t)
            out.append(f"{label} was done at {format_offset(s.done_t)}, {late_by} after its {deadline} deadline")
        elif s.verdict == "late" and s.step.every is not None:
            every, gap = human(s.step.every), human(s.longest_gap)
            out.append(f"{label} is due every {every} while the incident is open; the longest gap was {gap}")
    return out


def _other_failures(scenario: Scenario, recovery: RecoveryResult, severity: SeverityResult,
                    executives: ExecutiveResult, comms: CommsResult, roles: RoleResult) -> list[str]:  # fmt: skip
    out = []
    if recovery.verdict == "late":
        late_by = human((recovery.recovered_t or 0.0) - (recovery.deadline_t or 0.0))
        out.append(
            f"Recovery was late: the steady state held again at {format_offset(recovery.recovered_t)}, "
            f"{late_by} after the {format_offset(recovery.deadline_t)} deadline"
        )
    elif recovery.verdict == "never":
        out.append(f"Recovery was never observed (deadline {format_offset(recovery.deadline_t)})")
    if not severity.correct and not severity.note.startswith("not applicable"):
        got = f"classified {severity.final}" if severity.final else "never classified"
        out.append(f"Severity was {got}; the scenario's ground truth is {severity.expected}")
    if executives.verdict == "late":
        late_by = human((executives.notified_t or 0.0) - (executives.deadline_t or 0.0))
        out.append(
            f"Executives were notified at {format_offset(executives.notified_t)}, {late_by} after the policy deadline "
            f"{format_offset(executives.deadline_t)} ({executives.note})"
        )
    elif executives.verdict == "missed":
        out.append(f"Executives were not notified (policy {executives.note}, by {format_offset(executives.deadline_t)})")
    if comms.verdict == "not_met":
        asks = f"the {scenario.severity} policy asks for one at least every {human(comms.required_every)}"
        gap = f"Stakeholder updates: the longest gap was {human(comms.longest_gap)}"
        gap = "No stakeholder update was posted" if comms.updates == 0 else gap
        out.append(f"{gap}; {asks}")
    out += [f"No one held the {role} role" for role in roles.missing]
    out += [n for n in roles.notes if " at the same time " in n]
    return out
