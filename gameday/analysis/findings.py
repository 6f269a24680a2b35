"""Findings of a drill, in blameless words: action items, contributing gaps, what went well.

Pure functions of a :class:`~gameday.model.scorecard.Scorecard` and its journal, used by
the postmortem (:mod:`gameday.analysis.postmortem`) and the JUnit report. Texts are
plain and unescaped (they may carry responder-supplied text): renderers escape them.

Words matter here: a finding names a step, a signal or a role, never a person, and says
what happened ("done 40.0s after its deadline"), not who failed.

Each action item also carries its **gap key** (:attr:`ActionItem.gap`): which gap it is, in words
that stay the same from one drill to the next (no measured figure, no policy-scaled duration), so
the same gap in two drills of a scenario is one finding (:mod:`gameday.model.findings` hashes the
scenario id and the key into the finding's id). The keys (``KIND`` or ``KIND:SUBJECT``, the subject
a name from the scenario):

========================  =====================================================================
``no-alert:CHECK``        nothing alerted when CHECK failed (detection silent, or by a person)
``detection-cut-short``   the drill ended before its detection deadline, nothing had detected it
``detection-late:SIGNAL`` detection came after its deadline (``detection-late`` without a signal)
``alerts-unmatched``      alerts fired that matched no detection signal
``step:ID``               response step ID not done by its deadline (late or missed: one gap)
``severity``              severity not right from the start (undeclared, wrong, corrected later)
``executives``            executives not told in time (late or not at all)
``comms-cadence``         stakeholder updates not at the required cadence
``role-missing:ROLE``     no one held ROLE
``roles-shared``          one person held more than one role
``ic-hands-on``           the incident commander did technical work
``recovery``              the steady state came back late, or not before the drill ended
``runbook-failed:NAME``   runbook NAME did not complete
``rollback-failed:FAULT`` the rollback of FAULT did not complete (``injection-failed:FAULT``)
``responders-missing``    a ci drill ran without a responder script
``nothing-injected``      the drill completed with no fault injected
``drill-unfinished``      the drill was aborted or did not finish
========================  =====================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gameday.analysis.alert_entries import alert_entries
from gameday.analysis.clocks import on_incident_clock
from gameday.analysis.failures import FaultFate, fault_fates
from gameday.analysis.matching import EPS, evaluate_steps
from gameday.analysis.timeline import one_line
from gameday.journal import Journal
from gameday.model.duration import human
from gameday.model.events import (
    ActionRecorded,
    ActivityRan,
    AlertReceived,
    DrillStarted,
    FaultInjectionFailed,
    FaultRollbackFailed,
    ImpactStarted,
)
from gameday.model.scorecard import Scorecard, StepResult
from gameday.model.terms import COMMS_LEAD, IC, TECH_LEAD, format_offset

SURFACED = (
    "The drill itself surfaced the gaps below, in practice and before a real incident did: that is the point of a game day."
)

#: Each scenario action as a verb phrase, for sentences like "prompted to <action>".
ACTION_TEXT = {
    "acknowledge": "acknowledge the page",
    "declare_incident": "declare the incident",
    "set_severity": "set the severity",
    "assign_role": "assign the incident roles",
    "notify_executives": "notify executives",
    "post_update": "post a stakeholder update",
    "runbook": "run the runbook",
    "mark_detected": "report the detection",
    "note": "record a note",
    "resolved": "mark the incident resolved",
}


@dataclass(frozen=True)
class ActionItem:
    """One specific improvement, with the incident role that owns it and why it is needed."""

    title: str
    owner_role: str
    why: str
    gap: str = field(default="", compare=False)
    """Which gap it is, stable from drill to drill (``step:ack``; table in the module docstring). Not
    compared: two items are equal by what they say."""


def gap_key(kind: str, subject: str | None = None) -> str:
    """``'step:ack'`` (``kind:subject``), or ``kind`` alone without a subject."""
    return f"{kind}:{subject}" if subject else kind


# ---------------------------------------------------------------- helpers shared with the renderers


def measure(card: Scorecard, *names: str) -> float | None:
    """Seconds of the measure whose name, lower-cased without punctuation, is one of ``names`` (``"mttd"``)."""
    for m in card.times:
        if re.sub(r"[^a-z0-9]", "", m.name.lower()) in names:
            return m.seconds
    return None


def severity_applicable(card: Scorecard) -> bool:
    """Whether severity could be judged in this drill (the scorecard notes 'not applicable' otherwise)."""
    return not str(getattr(card.severity, "note", "") or "").startswith("not applicable")


def via_text(via: str | None, signal: str | None) -> str:
    """How a detection came, with a leading space: ``" via alert db-down"``, ``" reported by a person"``."""
    if via == "alert":
        return " via alert" + (f" {signal}" if signal else "")
    if via == "person":
        return " reported by a person"
    return f" via {via}" if via else ""


def ended_before(card: Scorecard, deadline: float | None) -> bool:
    """The drill ended (``end_t``) before ``deadline``: it did not run long enough to see that deadline pass."""
    end = getattr(card, "end_t", None)
    return end is not None and deadline is not None and end < deadline - 1e-6


def alerts_text(card: Scorecard) -> str:
    """What the webhook received after the injection, for a silent detection: ``'no alert arrived at the drill's webhook'``."""
    n = card.detection.alerts_received
    if n is None:
        return "no alert matched a detection signal"
    if n == 0:
        return "no alert arrived at the drill's webhook"
    return f"{n} alert deliver{'y' if n == 1 else 'ies'} arrived, none matching a detection signal"


def silent_why(card: Scorecard) -> str:
    """Why a detection is silent, in one blameless sentence that only says what the journal shows."""
    d = card.detection
    if ended_before(card, d.deadline_t):
        return (f"Nothing had detected the fault when the drill ended at {format_offset(card.end_t)}, before its "
                f"{format_offset(d.deadline_t)} deadline: {alerts_text(card)}, and no one reported it.")
    return (f"Nothing detected the fault by its deadline ({format_offset(d.deadline_t)}): {alerts_text(card)} and no one "
            "reported it, while the conductor's probes saw the impact.")


def fates(journal: Journal) -> list[FaultFate]:
    """What became of each of the scenario's faults (and any other the journal names)."""
    start = journal.first(DrillStarted)
    return fault_fates(journal.events, [f.id for f in start.data.scenario.faults] if start else [])


def _team_roles(card: Scorecard, journal: Journal) -> list[str]:
    """The scenario's roles (its own or the default ones), for owners of action items."""
    start = journal.first(DrillStarted)
    return list(start.data.scenario.roles) if start else list(card.roles.required)


def late_by(done: float | None, deadline: float | None, scale: float | None = None) -> str:
    """How long after ``deadline`` something was ``done``, for people (``'40.0s'``); ``'—'`` if unknown. ``scale``:
    a time-scaled drill's (``'40.0s (40m00s on the incident clock)'``; only for a positive figure)."""
    if done is None or deadline is None:
        return "—"
    return span(done - deadline, scale if done > deadline else None)


def span(seconds: float | None, scale: float | None) -> str:
    """A judged duration (how late, a gap, a cadence), with the incident clock beside it in a time-scaled drill:
    ``'30.0s (30m00s on the incident clock)'``; ``human(seconds)`` alone in a drill on one clock."""
    return human(seconds) + on_incident_clock(seconds, scale)


@dataclass(frozen=True)
class CadenceMiss:
    """A recurring step (``every:``) done by its deadline and judged late for a gap in its cadence: it is due
    every ``every`` seconds while the incident is open, and ``longest_gap`` seconds passed without it."""

    every: float
    longest_gap: float

    def text(self, scale: float | None = None) -> str:
        """``'due every 30.0s while the incident is open; the longest gap was 33.0s'`` (the scorecard's failure
        line's words), with the incident clock beside each duration in a time-scaled drill."""
        return (f"due every {span(self.every, scale)} while the incident is open; "
                f"the longest gap was {span(self.longest_gap, scale)}")


def cadence_misses(journal: Journal) -> dict[str, CadenceMiss]:
    """The recurring steps late only for their cadence, by step id: done by their deadline, with a gap between
    repeats longer than ``every``. A step done after its deadline is not here (how late it was says why).
    Read from the journal as the scorecard reads it (:func:`~gameday.analysis.matching.evaluate_steps`)."""
    start = journal.first(DrillStarted)
    if start is None or not any(s.every is not None for s in start.data.scenario.response):
        return {}
    out = {}
    for st in evaluate_steps(start.data.scenario, journal.events):
        every, gap = st.step.every, st.longest_gap
        on_time = st.done_t is not None and st.deadline_t is not None and st.done_t <= st.deadline_t + EPS
        if st.verdict == "late" and on_time and every is not None and gap is not None and gap > every + EPS:
            out[st.id] = CadenceMiss(every, gap)
    return out


def step_lateness(step: StepResult, misses: dict[str, CadenceMiss], scale: float | None = None) -> str:
    """Why a late step is late, to follow its name: ``'was done 3.0s after its deadline'``, or for a recurring step
    done by its deadline (``misses``: :func:`cadence_misses`) ``'is due every 30.0s while the incident is open; the
    longest gap was 33.0s'``; ``scale``: a time-scaled drill's (the incident clock beside each duration)."""
    miss = misses.get(step.id)
    if miss is not None:
        return f"is {miss.text(scale)}"
    return f"was done {late_by(step.done_t, step.deadline_t, scale)} after its deadline"


def step_name(step: StepResult) -> str:
    """``'ack (acknowledge the page)'``."""
    return f"{step.id} ({ACTION_TEXT.get(step.action, step.action)})"


def impacted_checks(journal: Journal) -> list[str]:
    """Names of the steady-state checks the conductor's probes saw failing, in order of first failure."""
    seen: list[str] = []
    for e in journal.of(ImpactStarted):
        check = e.data.check
        if check and check not in seen:
            seen.append(check)
    return seen


def unmatched_alerts(journal: Journal) -> list[str]:
    """Names of firing alerts that matched no detection signal, in order of arrival."""
    names: list[str] = []
    for e in journal.of(AlertReceived):
        for a in alert_entries(e.data):
            if not a.matched and a.status == "firing" and a.alertname not in names:
                names.append(a.alertname)
    return names


def _owner(preferred: str, roles: list[str]) -> str:
    """``preferred`` if the scenario has that role (or names none), else the incident commander or its first role."""
    if not roles or preferred in roles:
        return preferred
    return IC if IC in roles else roles[0]


def _failed_runbooks(journal: Journal) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for e in journal.of(ActionRecorded, ActivityRan):
        d = e.data
        if isinstance(d, ActionRecorded) and d.action == "runbook_finished" and not d.ok:
            out.setdefault(d.runbook or "?", one_line(d.error or "no error text", 160))
        elif isinstance(d, ActivityRan) and d.phase == "runbook" and d.status == "failed":
            out.setdefault(d.owner or "?", one_line(d.error or "no error text", 160))
    return list(out.items())


# ---------------------------------------------------------------- action items


def action_items(card: Scorecard, journal: Journal) -> list[ActionItem]:
    """Specific, owned improvements, most important first.

    Order: detection (a silent detection always leads: one "add an alert" item per
    impacted check), missed then late steps, severity, executives, comms cadence, role
    coverage, recovery, broken runbooks, faults and rollbacks, an unfinished drill.
    Owners are the scenario's roles (``tech-lead``, ``comms-lead``, ``incident-commander``
    by default), or the step's own role.
    """
    roles = _team_roles(card, journal)
    items: list[ActionItem] = []
    items += _detection_items(card, journal, _owner(TECH_LEAD, roles))
    items += _step_items(card, roles, cadence_misses(journal))
    items += _policy_items(card, _owner(IC, roles), _owner(COMMS_LEAD, roles))
    items += _role_items(card, _owner(IC, roles), _owner(TECH_LEAD, roles))
    items += _system_items(card, journal, _owner(TECH_LEAD, roles), _owner(IC, roles))
    return items


def _detection_items(card: Scorecard, journal: Journal, tech: str) -> list[ActionItem]:
    d = card.detection
    checks = impacted_checks(journal) or ["the steady-state check"]
    items = []
    if d.verdict == "silent" and not ended_before(card, d.deadline_t):
        why = silent_why(card)
        items += [ActionItem(f"Add an alert that fires when {check} fails", tech, why, _no_alert(journal, check))
                  for check in checks]  # fmt: skip
    elif d.verdict == "silent" and card.outcome == "completed":  # ended early: unknown what monitoring would have done
        items.append(ActionItem("Let the drill run until its detection deadline", tech, silent_why(card),
                                "detection-cut-short"))
    elif d.verdict == "late":
        what = f"the alert behind signal {d.signal}" if d.via == "alert" and d.signal else "alerting on this failure"
        late = late_by(d.detected_t, d.deadline_t, card.scale)
        why = f"Detection came at {format_offset(d.detected_t)}, {late} after its deadline."
        items.append(ActionItem(f"Make {what} fire sooner", tech, why,
                                gap_key("detection-late", d.signal if d.via == "alert" else None)))
    if d.via == "person" and d.verdict in ("on_time", "late"):
        why = (
            "The problem was detected by a person, not by monitoring; automated detection is faster "
            "and does not depend on someone looking."
        )
        items.append(ActionItem(f"Add an alert that fires when {checks[0]} fails", tech, why, _no_alert(journal, checks[0])))
    unmatched = unmatched_alerts(journal)
    if unmatched and d.verdict in ("silent", "late"):
        why = f"These alerts fired but matched no detection signal: {', '.join(unmatched)}."
        items.append(ActionItem("Connect the alerts that did fire to the scenario's detection signals", tech, why,
                                "alerts-unmatched"))
    return items


def _no_alert(journal: Journal, check: str) -> str:
    """``no-alert:CHECK``; ``no-alert`` when no check was seen failing (the title's generic wording)."""
    return gap_key("no-alert", check if impacted_checks(journal) else None)


def _step_items(card: Scorecard, roles: list[str], misses: dict[str, CadenceMiss]) -> list[ActionItem]:
    items = []
    for s in [s for s in card.steps if s.verdict == "missed"] + [s for s in card.steps if s.verdict == "late"]:
        owner = _owner(s.role or IC, roles)
        miss = misses.get(s.id) if s.verdict == "late" else None
        if s.verdict == "missed":
            title = f"Make sure someone is prompted to {ACTION_TEXT.get(s.action, s.action)} (step {s.id})"
            why = (
                f"It was not done during the drill (deadline {format_offset(s.deadline_t)}). What made it hard? "
                f"Check the {owner} checklist and runbook for this step."
            )
        elif miss is not None:  # done by its deadline: the cadence, not the deadline, was missed
            title = f"Keep step {step_name(s)} at its cadence while the incident is open"
            why = (f"It was first done at {format_offset(s.done_t)}, by its deadline ({format_offset(s.deadline_t)}), "
                   f"and is {miss.text(card.scale)}.")
        else:
            title = f"Bring step {step_name(s)} within its deadline"
            why = (
                f"It was done at {format_offset(s.done_t)}, {late_by(s.done_t, s.deadline_t, card.scale)} after its deadline "
                f"({format_offset(s.deadline_t)})."
            )
        items.append(ActionItem(title, owner, why, gap_key("step", s.id)))
    return items


def _policy_items(card: Scorecard, ic: str, comms: str) -> list[ActionItem]:
    items = []
    sev, expected = card.severity, card.expected_severity
    if severity_applicable(card) and not sev.correct:
        if sev.first_declared is None and sev.final is None:
            items.append(ActionItem(f"Declare a severity early (this failure is {sev.expected})", ic,
                                    "No severity was declared during the drill.", "severity"))  # fmt: skip
        else:
            why = f"Severity was first declared as {sev.first_declared or 'none'} and ended as {sev.final or 'none'}."
            items.append(ActionItem(f"Clarify the severity criteria for this failure (expected {sev.expected})", ic, why,
                                    "severity"))
    elif severity_applicable(card) and sev.first_declared and sev.first_declared != (sev.first_expected or sev.expected):
        why = f"Severity was first declared as {sev.first_declared} and corrected later."
        items.append(ActionItem(f"Classify this failure as {sev.first_expected or sev.expected} from the start", ic, why,
                                "severity"))
    ex = card.executives
    covered_by_step = any(s.action == "notify_executives" and s.verdict in ("late", "missed") for s in card.steps)
    if ex.verdict in ("late", "missed") and not covered_by_step:
        if ex.within is None:
            when = "as the policy requires"
        else:
            when = "immediately" if ex.within == 0 else f"within {span(ex.within, card.scale)}"
        why = f"Executives were told at {format_offset(ex.notified_t)}." if ex.verdict == "late" else (
            "Executives were not notified during the drill.")  # fmt: skip
        items.append(ActionItem(f"Notify executives {when} for a {expected} incident", comms, why, "executives"))
    co = card.comms
    if co.verdict == "not_met":
        why = (f"{co.updates} update(s) were posted; the longest gap was {span(co.longest_gap, card.scale)}." if co.updates
               else "No stakeholder update was posted during the drill.")  # fmt: skip
        items.append(ActionItem(f"Post stakeholder updates at least every {span(co.required_every, card.scale)}", comms,
                                why, "comms-cadence"))  # the key, not the title, is the finding's identity
    return items


def _role_items(card: Scorecard, ic: str, tech: str) -> list[ActionItem]:
    roles = card.roles
    items = []
    for role in roles.missing:
        title = f"Make sure someone takes the {role} role early in every incident"
        items.append(ActionItem(title, ic, f"No one held {role} during the drill.", gap_key("role-missing", role)))
    if not roles.distinct_people:
        why = _holders_text(card) or "One person held more than one role."
        items.append(ActionItem("Give each incident role its own person", ic, why, "roles-shared"))
    if roles.ic_did_technical_work:
        why = "The incident commander also did technical work, so coordinating and fixing competed for the same attention."
        why += "".join(f" ({n})" for n in roles.notes if "incident commander" in n)
        items.append(ActionItem(f"Keep the incident commander on coordination; hand hands-on work to the {tech}", ic, why,
                                "ic-hands-on"))
    return items


def _holders_text(card: Scorecard) -> str:
    """Which roles ended up with one person (roles, not people: the review is about the process)."""
    people: dict[str, list[str]] = {}
    for role, names in card.roles.holders.items():
        for name in names:
            people.setdefault(name, []).append(role)
    shared = sorted({" and ".join(sorted(rs)) for rs in people.values() if len(rs) > 1})
    return "; ".join(f"{combo} were held by one person" for combo in shared) + "." if shared else ""


def _system_items(card: Scorecard, journal: Journal, tech: str, ic: str) -> list[ActionItem]:
    items = []
    r = card.recovery
    if r.verdict == "late" or (r.verdict == "never" and card.outcome == "completed"):
        if r.verdict == "late":
            late = late_by(r.recovered_t, r.deadline_t, card.scale)
            why = f"The steady state held again at {format_offset(r.recovered_t)}, {late} after its deadline."
        else:
            why = "The steady state did not hold again before the drill ended."
        items.append(ActionItem("Shorten time to recovery: rehearse or automate the remediation runbook", tech, why, "recovery"))
    for name, error in _failed_runbooks(journal):
        items.append(ActionItem(f"Fix runbook {name} so it completes", tech, f"It did not succeed during the drill: {error}",
                                gap_key("runbook-failed", name)))
    for e in journal.of(FaultRollbackFailed, FaultInjectionFailed):
        d = e.data
        if not isinstance(d, (FaultRollbackFailed, FaultInjectionFailed)):
            continue
        verb = "rollback" if isinstance(d, FaultRollbackFailed) else "injection"
        why = f"It did not complete: {one_line(d.error or 'no error text', 160)}"
        items.append(ActionItem(f"Make the {verb} of fault {d.fault} reliable", tech, why, gap_key(f"{verb}-failed", d.fault)))
    for warning in getattr(card, "warnings", []):
        items.append(ActionItem("Give this ci drill a responder script", ic, warning, "responders-missing"))
    faults = fates(journal)
    if card.outcome == "completed" and not any(f.status == "injected" for f in faults):
        skipped = "; ".join(f"{f.fault} was skipped by {f.by}" for f in faults if f.status == "skipped")
        why = f"No fault was injected{f' ({skipped})' if skipped else ''}, so the drill tested nothing."
        items.append(ActionItem("Run the drill again with its faults injected", ic, why, "nothing-injected"))
    if card.outcome != "completed":
        why = f"This drill was {card.outcome}" + (f": {card.abort_reason}." if card.abort_reason else ".")
        items.append(ActionItem("Run the drill again to completion", ic, why, "drill-unfinished"))
    return items


# ---------------------------------------------------------------- gaps and what went well












