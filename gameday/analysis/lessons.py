"""What went well and what contributed to the gaps: the blameless review's two questions, answered from the
scorecard and the journal (the postmortem's and the AAR's). Split from :mod:`gameday.analysis.findings`,
which turns the gaps into action items."""

from __future__ import annotations

from gameday.analysis.failures import FaultFate
from gameday.analysis.findings import (
    SURFACED,
    alerts_text,
    cadence_misses,
    ended_before,
    fates,
    late_by,
    severity_applicable,
    span,
    step_lateness,
    step_name,
    unmatched_alerts,
    via_text,
)
from gameday.analysis.matching import simulated_faults
from gameday.analysis.timeline import one_line
from gameday.journal import Journal
from gameday.model.events import (
    SteadyStateChecked,
)
from gameday.model.scorecard import Scorecard, fault_injected
from gameday.model.terms import format_offset


def contributing_gaps(card: Scorecard, journal: Journal) -> list[str]:
    """What made the response hard: process and system gaps, in blameless words. Never empty."""
    gaps = list(getattr(card, "warnings", []))
    faults = fates(journal)
    if not any(f.status == "injected" for f in faults):
        gaps.append("No fault was injected, so the response was not tested.")
    for f in faults:
        if f.status == "injection_failed":
            gaps.append(f"Fault {f.fault} could not be injected ({one_line(f.error or 'no error text', 160)}), "
                        "so the drill did not test what it set out to.")
        if f.rollback == "rollback_failed":
            error = one_line(f.rollback_error or "no error text", 160)
            gaps.append(f"The rollback of fault {f.fault} did not complete ({error}).")
    d = card.detection
    if d.verdict == "silent" and ended_before(card, d.deadline_t):
        gaps.append(f"Nothing had detected the problem when the drill ended at {format_offset(card.end_t)} "
                    f"(before the {format_offset(d.deadline_t)} deadline): {alerts_text(card)}.")
    elif d.verdict == "silent":
        gaps.append(f"Monitoring stayed silent: {alerts_text(card)}, and no one reported the problem by the deadline.")
    elif d.verdict == "late":
        gaps.append(f"Detection came {late_by(d.detected_t, d.deadline_t, card.scale)} after its deadline.")
    unmatched = unmatched_alerts(journal)
    if unmatched:
        gaps.append(f"Alerts fired that matched no detection signal: {', '.join(unmatched)}.")
    misses = cadence_misses(journal)
    for s in card.steps:
        if s.verdict == "late":
            gaps.append(f"Step {step_name(s)} {step_lateness(s, misses, card.scale)}.")
        elif s.verdict == "missed":
            gaps.append(f"Step {step_name(s)} was not done during the drill.")
    if card.roles.missing:
        gaps.append(f"No one held: {', '.join(card.roles.missing)}.")
    if card.roles.ic_did_technical_work:
        gaps.append("The incident commander also did hands-on technical work.")
    sev = card.severity
    if severity_applicable(card) and not sev.correct:
        gaps.append(f"Severity was classified as {sev.first_declared or 'nothing'}; this failure is {sev.expected}.")
    if card.executives.verdict == "late":
        gaps.append("Executives were notified after the policy's deadline.")
    elif card.executives.verdict == "missed":
        gaps.append("Executives were not notified.")
    if card.comms.verdict == "not_met":
        gaps.append(f"Stakeholder updates came less often than every {span(card.comms.required_every, card.scale)}.")
    if card.recovery.verdict == "late":
        gaps.append("Recovery came after its deadline.")
    elif card.recovery.verdict == "never":
        gaps.append("Recovery did not happen before the drill ended.")
    gaps += _load_gaps(card)
    return gaps or [_no_gaps(card, faults)]


def _no_gaps(card: Scorecard, faults: list[FaultFate]) -> str:
    """The sentence for a drill without measured gaps, saying only what the journal supports."""
    if card.outcome != "completed":
        return f"No gap in the response was measured before the drill was {card.outcome}."
    if _absorbed(card):
        return "No gaps were measured: the probes saw no customer impact, so there was no response to measure."
    return "No gaps in the response were measured: the fault played out as the scenario expected."


def _absorbed(card: Scorecard) -> bool:
    """A fault went in and the probes saw no customer impact (detection and recovery not applicable after an injection)."""
    return (card.detection.verdict == "not_applicable" and fault_injected(card)
            and card.recovery.verdict == "not_applicable")


def _load_gaps(card: Scorecard) -> list[str]:
    """Where the load generator could not see: a gap of the drill's instruments, not of the system or the team."""
    impact = getattr(card, "impact", None)
    if impact is None:
        return []
    out = [f"The load generator was not running from {format_offset(s.from_t)}"
           f"{'' if s.to_t is None else f' to {format_offset(s.to_t)}'} ({s.reason}): customer impact is unknown there."
           for s in impact.unknown]
    if impact.unseen_names:
        out.append(f"No load was measured for the customer-facing request(s) {', '.join(impact.unseen_names)}: "
                   "check the locustfile's request names.")
    return out


def went_well(card: Scorecard, journal: Journal) -> list[str]:
    """What met expectations or limited the impact. Never empty: with nothing else, the drill surfacing gaps is the win."""
    good = []
    d = card.detection
    if d.verdict == "on_time":
        good.append(f"Detection came at {format_offset(d.detected_t)}{via_text(d.via, d.signal)}, within its deadline.")
    on_time = [s.id for s in card.steps if s.verdict == "on_time"]
    due = [s for s in card.steps if s.verdict != "not_applicable"]
    if on_time:
        good.append(f"{len(on_time)} of the {len(due)} step(s) that fell due were done on time: {', '.join(on_time)}.")
    if severity_applicable(card) and card.severity.correct:
        good.append(f"Severity was classified correctly as {card.severity.expected}.")
    if card.executives.verdict == "on_time":
        good.append("Executives were notified on time.")
    if card.comms.verdict == "met":
        good.append(f"Stakeholder updates kept their cadence ({card.comms.updates} posted).")
    roles = card.roles
    if roles.required and not roles.missing and roles.distinct_people and not roles.ic_did_technical_work:
        good.append("Every role was covered by its own person, and the incident commander stayed on coordination.")
    if card.recovery.verdict == "on_time":
        good.append(f"Recovery came at {format_offset(card.recovery.recovered_t)}, within its deadline.")
    impact = getattr(card, "impact", None)
    during = impact.during if impact is not None and impact.status == "measured" else None
    if during is not None and during.customer_facing.requests and not during.customer_facing.failures:
        good.append(f"No customer-facing request failed during the impact window ({during.customer_facing.requests} made).")
    faults = fates(journal)
    touched = [f for f in faults if f.touched]
    if card.outcome == "completed" and touched and _absorbed(card):
        good.append("The system absorbed the fault: the conductor's probes saw no customer impact.")
    if not touched and card.outcome == "aborted":
        failing = _preflight_failing(journal)
        good.append(f"The preflight check found the steady state not holding ({', '.join(failing)}) and the drill "
                    "stopped before injecting anything." if failing else
                    "The drill stopped before any fault was injected: nothing needed rolling back.")
    if not good:
        good.append(SURFACED)
    if touched and all(f.status == "injected" and f.rollback == "rolled_back" for f in touched):
        good.append("Every simulated fault ended; nothing was injected on a real system." if simulated_faults(journal.events)
                    else "Every fault was rolled back cleanly.")
    return good


def _preflight_failing(journal: Journal) -> list[str]:
    """The checks failing at the preflight steady-state check (empty when it held or was not journaled)."""
    for e in journal.of(SteadyStateChecked):
        d = e.data
        if isinstance(d, SteadyStateChecked) and d.stage == "preflight" and not d.ok:
            return [c.check for c in d.checks if not c.ok] or ["a check failed"]
    return []
