"""The scorecard's ``failures``: one blameless line per expectation not met; and what became of each
fault (:func:`fault_fates`), the one reading of fault events every report's sentences about faults use.

Each line says what the system and the process did, not who failed. Moved out of
:mod:`gameday.analysis.scorecard`, whose :func:`~gameday.analysis.scorecard.score_journal`
measures the drill and calls :func:`failure_lines` with its results. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from gameday.analysis.clocks import incident_scale, on_incident_clock
from gameday.analysis.matching import EPS, Facts, StepStatus, describe, impact_start, simulated_faults
from gameday.model import events
from gameday.model.duration import human
from gameday.model.scenario import Scenario
from gameday.model.scorecard import CommsResult, DetectionResult, ExecutiveResult, RecoveryResult, RoleResult, SeverityResult
from gameday.model.terms import format_offset

__all__ = ["FaultFate", "failure_lines", "fault_fates", "faults_text"]

FaultStatus = Literal["injected", "injection_failed", "skipped", "not_injected"]
RollbackStatus = Literal["rolled_back", "rollback_failed", "not_needed", "none"]


@dataclass(frozen=True)
class FaultFate:
    """What the journal says became of one fault: the only source for a report's sentences about it.

    ``status``: ``injected`` (``FaultInjected`` and no ``FaultInjectionFailed`` after it),
    ``injection_failed`` (the injection started, or was tried, and did not succeed),
    ``skipped`` (``FaultSkipped``: never injected), ``not_injected`` (the journal has nothing:
    the drill ended first). ``t`` is when it was injected, tried or skipped; ``error`` the
    injection's error; ``by`` who skipped it. ``rollback`` is the last rollback event's
    outcome (``not_needed``: ``FaultNotRolledBack``, the fault has nothing to undo; ``none``:
    no rollback journaled), at ``rollback_t``, with ``rollback_reason`` (a ``FaultRolledBack``
    reason) or ``rollback_error``. ``forgotten_by``: who struck it off the fault ledger
    without a rollback (``FaultForgotten``).
    """

    fault: str
    status: FaultStatus
    t: float | None = None
    error: str | None = None
    by: str | None = None
    rollback: RollbackStatus = "none"
    rollback_t: float | None = None
    rollback_reason: str | None = None
    rollback_error: str | None = None
    forgotten_by: str | None = None

    @property
    def touched(self) -> bool:
        """An injection was started (whether or not it succeeded): something may need rolling back."""
        return self.status in ("injected", "injection_failed")


def fault_fates(journal_events: Iterable[events.Event[events.Payload]], fault_ids: Sequence[str] = ()) -> list[FaultFate]:
    """Each fault's fate: ``fault_ids`` (the scenario's, in order) first, then any other fault the events name."""
    evs = list(journal_events)
    order = list(dict.fromkeys(fault_ids))
    for e in evs:
        fault = getattr(e.data, "fault", None)
        if isinstance(e.data, (events.FaultInjected, events.FaultInjectionFailed, events.FaultSkipped, events.FaultRolledBack,
                               events.FaultRollbackFailed, events.FaultNotRolledBack)) and fault not in order:
            order.append(str(fault))
    return [_fate(fid, evs) for fid in order]


def _fate(fid: str, evs: Sequence[events.Event[events.Payload]]) -> FaultFate:
    started: events.Event[events.Payload] | None = None
    failed: events.FaultInjectionFailed | None = None
    failed_t = 0.0
    skipped: events.FaultSkipped | None = None
    skipped_t = 0.0
    fate = FaultFate(fid, "not_injected")
    for e in evs:
        d = e.data
        if getattr(d, "fault", None) != fid:
            continue
        if isinstance(d, events.FaultInjected) and started is None:
            started = e
        elif isinstance(d, events.FaultInjectionFailed) and failed is None:
            failed, failed_t = d, e.t
        elif isinstance(d, events.FaultSkipped) and skipped is None:
            skipped, skipped_t = d, e.t
        elif isinstance(d, events.FaultRolledBack):
            fate = replace(fate, rollback="rolled_back", rollback_t=e.t, rollback_reason=d.reason, rollback_error=None)
        elif isinstance(d, events.FaultRollbackFailed):
            fate = replace(fate, rollback="rollback_failed", rollback_t=e.t, rollback_reason=None, rollback_error=d.error)
        elif isinstance(d, events.FaultNotRolledBack):
            fate = replace(fate, rollback="not_needed", rollback_t=e.t, rollback_reason=d.reason, rollback_error=None)
        elif isinstance(d, events.FaultForgotten):
            fate = replace(fate, forgotten_by=d.by)
    if failed is not None:
        return replace(fate, status="injection_failed", t=started.t if started is not None else failed_t, error=failed.error)
    if started is not None:
        return replace(fate, status="injected", t=started.t)
    if skipped is not None:
        return replace(fate, status="skipped", t=skipped_t, by=skipped.by)
    return fate


def failure_lines(scenario: Scenario, facts: Facts, outcome: str, reason: str | None, statuses: Sequence[StepStatus], *,
                  detection: DetectionResult, recovery: RecoveryResult, severity: SeverityResult,
                  executives: ExecutiveResult, comms: CommsResult, roles: RoleResult) -> list[str]:  # fmt: skip
    """The failures of a measured drill, in order: outcome, detection, steps, then recovery, severity,
    executives, comms and roles. Empty when every expectation was met."""
    return [
        *_outcome_failures(scenario, facts, outcome, reason),
        *_detection_failures(scenario, facts, detection),
        *_step_failures(statuses, incident_scale(facts.events)),
        *_other_failures(scenario, facts, recovery, severity, executives, comms, roles),
    ]


def _span(seconds: float | None, scale: float | None) -> str:
    """A judged duration (late by, a gap, a cadence), with the incident clock beside it in a time-scaled drill."""
    return human(seconds) + on_incident_clock(seconds, scale)


def faults_text(fates: Sequence[FaultFate], *, simulated: bool = False) -> str:
    """What became of the faults, for the outcome line: injected, failed, rolled back or not (from the journal only).
    ``simulated``: a tabletop's shadows, which began and ended (nothing was injected or rolled back)."""
    touched = [f for f in fates if f.touched]
    if simulated:
        still = [f.fault for f in touched if f.rollback == "none"]
        return ("no simulated fault had begun" if not touched else
                f"the simulated shadow of {', '.join(still)} was still open at the end (nothing was injected)" if still else
                "every simulated fault ended (nothing was injected)")
    failed = [f.fault for f in fates if f.status == "injection_failed"]
    forgotten = [f"{f.fault} (by {f.forgotten_by})" for f in touched if f.forgotten_by]
    open_ = [f.fault for f in touched if f.rollback == "none" and not f.forgotten_by]
    broken = [f.fault for f in touched if f.rollback == "rollback_failed" and not f.forgotten_by]
    parts = []
    if not touched:
        parts.append("no fault had been injected")
    if failed:
        parts.append(f"the injection of {', '.join(failed)} did not succeed")
    if open_:
        parts.append(f"no rollback is journaled for {', '.join(open_)}: run 'gameday recover' to be sure")
    if broken:
        parts.append(f"the rollback of {', '.join(broken)} did not complete: run 'gameday recover'")
    if forgotten:
        parts.append(f"struck off the fault ledger without a rollback: {', '.join(forgotten)}")
    if touched and not open_ and not broken and not forgotten:
        base = "every fault whose injection started" if failed else "every injected fault"
        none_needed = [f.fault for f in touched if f.rollback == "not_needed"]
        if not none_needed:
            parts.append(f"{base} was rolled back")
        elif len(none_needed) < len(touched):
            parts.append(f"{base} was rolled back, except {', '.join(none_needed)}, which needed no rollback")
        else:
            parts.append(f"{', '.join(none_needed)} needed no rollback")
    return "; ".join(parts)


def _outcome_failures(scenario: Scenario, facts: Facts, outcome: str, reason: str | None) -> list[str]:
    fates = fault_fates(facts.events, [f.id for f in scenario.faults])
    faults = faults_text(fates, simulated=simulated_faults(facts.events))
    if outcome == "aborted":
        when = format_offset((facts.aborted or facts.ended or facts.events[-1]).t)
        return [f"The drill was aborted ({reason or 'no reason recorded'}) at {when}; {faults}"]
    if outcome == "incomplete":
        return [f"The journal ends at {format_offset(facts.events[-1].t)} without DrillEnded: the drill did not finish; {faults}"]
    if not any(f.status == "injected" for f in fates):
        skipped = [f"{f.fault} skipped by {f.by}" for f in fates if f.status == "skipped"]
        why = f" ({'; '.join(skipped)})" if skipped else ""
        touched = any(f.touched for f in fates)  # a failed injection: say what became of it
        return [f"No fault was injected{why}: the drill tested nothing" + (f"; {faults}" if touched else "")]
    return []


def _ended_before(facts: Facts, deadline: float | None) -> bool:
    """The journal ends before ``deadline``: the drill did not run long enough to see it pass."""
    return deadline is not None and facts.end_t < deadline - EPS


def _detection_failures(scenario: Scenario, facts: Facts, d: DetectionResult) -> list[str]:
    deadline = format_offset(d.deadline_t)
    if d.verdict == "late":
        how = f"alert {d.signal}" if d.via == "alert" and d.signal else d.via or "recorded"
        late_by = _span((d.detected_t or 0.0) - (d.deadline_t or 0.0), incident_scale(facts.events))
        came = f"came at {format_offset(d.detected_t)}, {late_by} after the {deadline} deadline"
        return [f"Detection was late: the first detection ({how}) {came}"]
    if d.verdict == "silent" and _ended_before(facts, d.deadline_t):
        return [
            (f"Detection was silent: impact started at {format_offset(impact_start(facts))} and nothing had detected it "
             f"when the drill ended at {format_offset(facts.end_t)}, before its {deadline} deadline")
        ]
    if d.verdict == "silent":
        return [
            (f"Detection was silent: impact started at {format_offset(impact_start(facts))} and no alert or person "
             f"detected it within {human(scenario.detection.within)} of the injection (by {deadline})")
        ]
    # not applicable is no expectation missed: no fault went in (the outcome line says so), or the
    # system absorbed it (the probes saw no impact, nothing was detected)
    return []


def _step_failures(statuses: Sequence[StepStatus], scale: float | None) -> list[str]:
    out = []
    for s in statuses:
        label = f"Step '{s.step.id}' ({describe(s.step)})"
        if s.verdict == "missed":
            out.append(f"{label} was not done by its {format_offset(s.deadline_t)} deadline")
        elif s.verdict == "late" and s.done_t is not None and s.deadline_t is not None and s.done_t > s.deadline_t + EPS:
            late_by = _span(s.done_t - s.deadline_t, scale)
            deadline = format_offset(s.deadline_t)
            out.append(f"{label} was done at {format_offset(s.done_t)}, {late_by} after its {deadline} deadline")
        elif s.verdict == "late" and s.step.every is not None:
            every, gap = _span(s.step.every, scale), _span(s.longest_gap, scale)
            out.append(f"{label} is due every {every} while the incident is open; the longest gap was {gap}")
    return out


def _other_failures(scenario: Scenario, facts: Facts, recovery: RecoveryResult, severity: SeverityResult,
                    executives: ExecutiveResult, comms: CommsResult, roles: RoleResult) -> list[str]:  # fmt: skip
    out, scale = [], incident_scale(facts.events)
    if recovery.verdict == "late":
        late_by = _span((recovery.recovered_t or 0.0) - (recovery.deadline_t or 0.0), scale)
        out.append(
            f"Recovery was late: the steady state held again at {format_offset(recovery.recovered_t)}, "
            f"{late_by} after the {format_offset(recovery.deadline_t)} deadline"
        )
    elif recovery.verdict == "never" and _ended_before(facts, recovery.deadline_t):
        out.append(f"Recovery was not observed before the drill ended at {format_offset(facts.end_t)} "
                   f"(deadline {format_offset(recovery.deadline_t)})")
    elif recovery.verdict == "never":
        out.append(f"Recovery was never observed (deadline {format_offset(recovery.deadline_t)})")
    if not severity.correct and not severity.note.startswith("not applicable"):
        got = f"classified {severity.final}" if severity.final else "never classified"
        out.append(f"Severity was {got}; the scenario's ground truth is {severity.expected}")
    if executives.verdict == "late":
        late_by = _span((executives.notified_t or 0.0) - (executives.deadline_t or 0.0), scale)
        out.append(
            f"Executives were notified at {format_offset(executives.notified_t)}, {late_by} after the policy deadline "
            f"{format_offset(executives.deadline_t)} ({executives.note})"
        )
    elif executives.verdict == "missed":
        out.append(f"Executives were not notified (policy {executives.note}, by {format_offset(executives.deadline_t)})")
    if comms.verdict == "not_met":
        asks = f"the {scenario.severity} policy asks for one at least every {_span(comms.required_every, scale)}"
        gap = f"Stakeholder updates: the longest gap was {_span(comms.longest_gap, scale)}"
        gap = "No stakeholder update was posted" if comms.updates == 0 else gap
        out.append(f"{gap}; {asks}")
    out += [f"No one held the {role} role" for role in roles.missing]
    out += [n for n in roles.notes if " at the same time " in n]
    return out
