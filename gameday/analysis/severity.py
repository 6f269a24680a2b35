"""The right severity over time, and what it asks for: one notion for the rubric and the scorecard (pure).

A drill with a simulation (``StateChanged`` events in its journal) tells a story whose right severity
changes as the system gets worse (a SEV2 left alone becomes a SEV1). :func:`severity_timeline` reads it:

* before the simulation enters a state with customer impact, the right severity is the scenario's
  ``severity``;
* from a ``StateChanged`` into a state with customer impact (``impact``, not ``recovered``), it is that
  state's ``severity`` (None: the scenario's) — the latest such one at or before the moment;
* a state without customer impact (a recovered one, or a no-impact one) does not lower it: an
  incident's severity does not go down on recovery, so after recovery it stays what it was.

Without a simulation (no ``StateChanged`` at all) it is the scenario's severity throughout.
:func:`worst_severity` is the most severe one the story reached (the scenario's without a state with
impact). :func:`recovery_event` is the one recovery anchor: with a simulation, the first
``StateChanged`` into a recovered state; without one, the first ``RecoveryObserved``.

:func:`executive_deadlines` says when executives must hear: for the level right at the declaration
(else detection), its ``executives_within`` from then (or ``executives_if_open_after`` when the
incident stayed open that long); and for each later escalation while the incident is open (a
severity more severe than every one right since the declaration) whose level asks for executives,
its ``executives_within`` from that ``StateChanged``. :func:`notification_for` finds the notification
that counts for a deadline: the first one at all for the initial level (it may come before the
declaration), the first one after the escalation for a later level. :func:`judge_classification` and
:func:`judge_executives` are the scorecard's severity and executives results, from these rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Literal, NamedTuple, Protocol

from gameday.analysis.clocks import on_incident_clock
from gameday.model.duration import human
from gameday.model.events import DetectionRecorded, Event, FaultInjected, Payload, RecoveryObserved, StateChanged
from gameday.model.policy import SeverityLevel, SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.scorecard import ExecutiveResult, SeverityResult
from gameday.model.terms import SEVERITIES, Severity, format_offset

#: Tolerance for comparing journal times (written with microsecond resolution).
EPS = 1e-6


class SeverityPoint(NamedTuple):
    """From ``t`` (event ``seq``) on, ``severity`` was right; ``change`` moved it there (None: the scenario's, at start)."""

    t: float
    seq: int
    severity: Severity
    change: Event[StateChanged] | None


def has_simulation(events: Sequence[Event[Payload]]) -> bool:
    """The journal tells a simulation's story (it has ``StateChanged`` events)."""
    return any(isinstance(e.data, StateChanged) for e in events)


def severity_timeline(scenario: Scenario, events: Sequence[Event[Payload]]) -> list[SeverityPoint]:
    """The right severity over the drill: the scenario's at start, then one point for every ``StateChanged``
    into a state with customer impact (not recovered), in journal order."""
    points = [SeverityPoint(0.0, -1, scenario.severity, None)]
    for e in events:
        d = e.data
        if isinstance(d, StateChanged) and d.impact and not d.recovered:
            points.append(SeverityPoint(e.t, e.seq, d.severity or scenario.severity, e))  # type: ignore[arg-type]
    return points


def right_severity_at(timeline: Sequence[SeverityPoint], t: float, before_seq: int | None = None) -> Severity:
    """The severity right at ``t`` (the latest point at or before it); with ``before_seq``, just before that event."""
    now = timeline[0].severity
    for p in timeline[1:]:
        if (p.seq >= before_seq) if before_seq is not None else (p.t > t + EPS):
            break
        now = p.severity
    return now


def worst_severity(timeline: Sequence[SeverityPoint]) -> Severity:
    """The most severe the story reached: over the states with customer impact, else the scenario's."""
    reached = [p.severity for p in timeline[1:]] or [timeline[0].severity]
    return min(reached, key=SEVERITIES.index)


def severity_changes(timeline: Sequence[SeverityPoint]) -> list[SeverityPoint]:
    """The points where the right severity changed (each with the ``StateChanged`` that changed it)."""
    return [p for prev, p in pairwise(timeline) if p.severity != prev.severity]


def stricter(a: Severity, b: Severity) -> bool:
    """``a`` is more severe than ``b`` (SEV1 is stricter than SEV2)."""
    return SEVERITIES.index(a) < SEVERITIES.index(b)


def recovery_event(events: Sequence[Event[Payload]]) -> Event[Payload] | None:
    """When the system recovered: with a simulation, the first ``StateChanged`` into a recovered state (a
    ``RecoveryObserved`` there may come from a state without impact that is no recovery); without one, the
    first ``RecoveryObserved``."""
    if has_simulation(events):
        return next((e for e in events if isinstance(e.data, StateChanged) and e.data.recovered), None)
    return next((e for e in events if isinstance(e.data, RecoveryObserved)), None)


def anchor_event(events: Sequence[Event[Payload]], after: str) -> Event[Payload] | None:
    """The event a training deadline counts from: ``start`` (the first event), ``injection`` (the first
    fault), ``detection``, or ``recovery`` (:func:`recovery_event`); None when it has not happened."""
    if after == "recovery":
        return recovery_event(events)
    kind = {"injection": FaultInjected, "detection": DetectionRecorded}.get(after)
    if kind is None:
        return events[0] if events else None
    return next((e for e in events if isinstance(e.data, kind)), None)


# ---------------------------------------------------------------- executives


class Moment(Protocol):
    """Anything journaled: an event, or the scorecard's normalised action."""

    @property
    def t(self) -> float: ...

    @property
    def seq(self) -> int: ...


@dataclass(frozen=True)
class ExecutivesDue:
    """One deadline for telling the executives: ``severity``'s level asked for it by ``due``."""

    severity: Severity
    within: float = 0.0
    due: float = 0.0
    #: when the level became right; None for the initial level (a notification counts whenever it came)
    trigger_t: float | None = None
    trigger_seq: int | None = None
    rule: str = ""
    cause: Event[StateChanged] | None = None


def executive_deadlines(policy: SeverityPolicy, timeline: Sequence[SeverityPoint], start: Moment, since: str,
                        close_t: float, scale: float | None = None) -> list[ExecutivesDue]:
    """When executives must hear, from the incident's ``start`` (the declaration, else detection; ``since``
    words it) to its close (``close_t``): the initial level's deadline, then each escalation's (see the module).
    ``scale``: a time-scaled drill's (each rule's duration with the incident clock beside it)."""
    sev0 = right_severity_at(timeline, start.t, start.seq + 1)
    out: list[ExecutivesDue] = []
    initial = _due(policy.levels.get(sev0), sev0, start.t, since, start.t, close_t, scale=scale)
    if initial is not None:
        out.append(initial)
    worst = sev0
    for p in timeline[1:]:
        if p.seq <= start.seq or p.t > close_t + EPS or not stricter(p.severity, worst):
            continue
        worst = p.severity
        what = f"the escalation to {p.severity} at {format_offset(p.t)}"
        due = _due(policy.levels.get(p.severity), p.severity, p.t, what, start.t, close_t, since, scale)
        if due is not None:
            out.append(ExecutivesDue(due.severity, due.within, due.due, p.t, p.seq, due.rule, p.change))
    return out


def _due(level: SeverityLevel | None, sev: Severity, at: float, what: str, start_t: float, close_t: float,
         since: str | None = None, scale: float | None = None) -> ExecutivesDue | None:
    if level is None:
        return None
    if level.executives_within is not None:
        within = level.executives_within
        span = human(within) + on_incident_clock(within, scale)
        rule = f"{sev}: within {span} of {what}" if within > EPS else f"{sev}: immediately on {what}"
        return ExecutivesDue(sev, within, at + within, rule=rule)
    after = level.executives_if_open_after
    if after is not None and close_t - start_t > after + EPS:
        rule = f"{sev}: if still open {human(after)}{on_incident_clock(after, scale)} after {since or what}"
        return ExecutivesDue(sev, after, max(at, start_t + after), rule=rule)
    return None


def notification_for[M: Moment](due: ExecutivesDue, told: Sequence[M]) -> M | None:
    """The notification that counts for ``due``: the first of ``told`` (journal order) for the initial level,
    else the first after its escalation."""
    return next((n for n in told if due.trigger_seq is None or n.seq > due.trigger_seq), None)


# ---------------------------------------------------------------- the scorecard's results


class Mark(Moment, Protocol):
    """A classification: ``set_severity`` or ``declare_incident`` with a severity."""

    @property
    def severity(self) -> Severity | None: ...


def judge_classification(timeline: Sequence[SeverityPoint], simulated: bool, marks: Sequence[Mark],
                         detection_t: float | None, known: bool) -> tuple[SeverityResult, Fraction | None]:
    """The scorecard's severity result and the fraction it earns (None: nothing to classify, ``known`` False and no
    mark). Expected: the worst severity reached. Without a simulation, correct from the first classification 1,
    corrected later ½, wrong or never classified 0. With one (``simulated``), the first classification is judged
    against the severity right at its own time, and the final one must be the worst reached."""
    expected = worst_severity(timeline)
    marks = [m for m in marks if m.severity is not None]
    first, final = (marks[0].severity, marks[-1].severity) if marks else (None, None)
    first_right = right_severity_at(timeline, marks[0].t, marks[0].seq) if simulated and marks else expected
    good = next((m for m in marks if m.severity == (right_severity_at(timeline, m.t, m.seq) if simulated else expected)),
                None)
    ttc = _r3(max(0.0, good.t - detection_t)) if good and detection_t is not None else None
    result = SeverityResult(expected=expected, first_declared=first, final=final, correct=final == expected,
                            time_to_correct=ttc, first_expected=first_right if simulated and marks else None)
    earned: Fraction | None
    if not marks and not known:
        earned, note = None, "not applicable: no incident was detected or declared, so there was nothing to classify"
    elif final == expected and first == first_right:
        earned, note = Fraction(1), "correct from the first classification"
        if first != expected:
            note += f" ({first} while {first} was right), re-classified {expected} as the situation escalated"
    elif final == expected:
        when = f" while {first_right} was right" if simulated else ""
        earned, note = Fraction(1, 2), f"first classified {first}{when}, corrected to {expected}"
    else:
        earned, note = Fraction(0), f"classified {final}; expected {expected}" if final else "never classified"
        after = [p for p in severity_changes(timeline) if p.severity == expected and marks and p.seq > marks[-1].seq]
        if simulated and after:
            note += f": expected a re-classification after the escalation to {expected} at {format_offset(after[-1].t)}"
    return result.model_copy(update={"note": note}), earned


ExecutiveVerdict = Literal["on_time", "late", "missed"]
_RANK = {"missed": 0, "late": 1, "on_time": 2}


def judge_executives(policy: SeverityPolicy, timeline: Sequence[SeverityPoint], start: Moment | None, since: str,
                     close_t: float, end_t: float, told: Sequence[Moment], scale: float | None = None) -> ExecutiveResult:
    """The scorecard's executives result: every deadline (:func:`executive_deadlines`) judged by the notification
    that counts for it (:func:`notification_for`); the worst of them is shown (on a tie, the latest). ``told``: the
    notifications, in journal order; ``scale``: a time-scaled drill's (the note's policy duration on the incident
    clock too)."""
    first_t = _r3(told[0].t) if told else None
    sev0 = right_severity_at(timeline, start.t, start.seq + 1) if start is not None else worst_severity(timeline)
    level0 = policy.levels.get(sev0)
    if start is None:
        why = f"the policy has no level {sev0}" if level0 is None else "no incident was detected or declared"
        return _not_required(first_t, f"not required: {why}")
    deadlines = executive_deadlines(policy, timeline, start, since, close_t, scale)
    if not deadlines:
        return _not_required(first_t, f"not required: the policy has no level {sev0}" if level0 is None
                             else f"not required by the {sev0} policy")
    judged: list[tuple[ExecutiveVerdict, ExecutivesDue, Moment | None]] = []
    for due in deadlines:
        n = notification_for(due, told)
        if n is None and end_t < due.due - EPS:
            continue  # not yet due when the drill ended
        judged.append(("missed" if n is None else "on_time" if n.t <= due.due + EPS else "late", due, n))
    if not judged:
        due = deadlines[0]
        return _not_required(first_t, f"not required: the drill ended before executives were due ({due.rule})", due.due)
    verdict, due, n = min(reversed(judged), key=lambda j: _RANK[j[0]])
    return ExecutiveResult(required=True, within=_r3(due.within), notified_t=_r3(n.t) if n else None, verdict=verdict,
                           deadline_t=_r3(due.due), note=due.rule)


def _not_required(first_t: float | None, note: str, deadline: float | None = None) -> ExecutiveResult:
    return ExecutiveResult(required=False, within=None, notified_t=first_t, verdict="not_required",
                           deadline_t=_r3(deadline), note=note)


def _r3(x: float | None) -> float | None:
    """Milliseconds, the precision of every time in a scorecard (no -0.0)."""
    return None if x is None else round(x, 3) + 0.0
