"""The facts a stakeholder update is written from: a pure function of the journal so far.

:func:`comms_facts` reads journal events (by the contract in :mod:`gameday.model.events`),
the scenario, the severity policy applied and the drill time "now", and returns a
:class:`CommsFacts`: the service and what customers see, the severity declared (else the
expected one), when the incident started and was detected, the impact so far (the
conductor's own probes; the customers' failure rate and the revenue figure when load
measures them), when the next update is due, and the ETA (unknown until recovery).

Money (see :mod:`gameday.comms.loadfacts`): the revenue lost so far is the scorecard's figure
(:func:`gameday.analysis.impact.measure_impact`) when it can tell, else the business figure times the
customers' failure rate per stats interval; the revenue lost *per minute now* is the latest
interval's (``revenue_per_minute`` × failure rate, or failures × ``value_per_request``).

``clock_scale`` is a time-scaled drill's ``policy.scale`` (None for a drill on one clock): the revenue lost is
then on the incident clock, and the internal and executive templates give the impact's duration on it too
(duration ÷ ``clock_scale``), beside the drill's own.

No clock is read and nothing is written: same events, same facts. Responder-supplied
text (names, roles, alert names) is flattened to one line here, its control and formatting
characters shown as ``<U+XXXX>`` (:func:`gameday.model.textsafe.one_line`); every renderer
still escapes for its own format (HTML, Slack, Teams).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gameday.analysis.clocks import incident_scale
from gameday.analysis.matching import EPS, VENDOR_ACTORS, first_detection, first_injection, first_recovery
from gameday.comms.loadfacts import load_facts
from gameday.journal import events_of
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillStarted,
    Event,
    ImpactEnded,
    ImpactStarted,
    Payload,
)
from gameday.model.load import Business
from gameday.model.policy import DEFAULT_POLICY, SeverityPolicy
from gameday.model.roles import role_holders
from gameday.model.scenario import Scenario
from gameday.model.terms import Severity
from gameday.model.textsafe import one_line

#: Update statuses, in the order an incident moves through them.
STATUSES = ("investigating", "mitigating", "monitoring", "resolved")


@dataclass(frozen=True)
class CommsFacts:
    """What an update may say. Times: ``*_t`` offsets from drill start, ``*_at`` UTC ISO wall times."""

    # the drill and the scenario
    drill_id: str | None
    mode: str | None
    title: str
    service: str
    symptom: str
    # severity: declared, else the scenario's expected severity
    severity: str
    severity_declared: bool
    severity_expected: str
    severity_description: str | None
    declared: bool  # an incident was declared
    # times
    now_t: float
    now_at: str | None
    started_t: float | None  # the incident began: the first injection
    started_at: str | None
    started_from: str | None  # injection (None before it)
    detected: bool
    detected_t: float | None
    detected_at: str | None
    detected_via: str | None  # alert | person
    detected_signal: str | None
    # state
    status: str  # investigating | mitigating | monitoring | resolved
    recovered: bool
    recovered_t: float | None
    recovered_at: str | None
    resolved: bool
    resolved_t: float | None
    resolved_at: str | None
    # impact (ground truth from the conductor's probes)
    impact_ongoing: bool
    impact_since_t: float | None  # customers first affected (after injection)
    impact_since_at: str | None
    impact_seconds: float  # time during which at least one check failed, so far
    failing_checks: tuple[str, ...]
    # load and money (None when not measured)
    load_measured: bool
    requests: int | None
    failures: int | None
    failure_rate: float | None  # customers' requests failing, latest load interval (0..1)
    failure_rate_overall: float | None  # since the incident started
    currency: str
    revenue_per_minute: float | None  # normal revenue through the service (business context)
    revenue_per_minute_lost: float | None  # estimated now, when load measures it
    revenue_lost: float | None  # estimated so far, when load measures it
    revenue_lost_is_lower_bound: bool  # load data is missing for part of the incident
    revenue_lost_drill_clock: float | None  # a time-scaled drill: the loss over the drill's own time (else None)
    clock_scale: float | None  # a time-scaled drill: policy.scale (revenue_lost is on the incident clock, and templates
    # give durations on it too: duration ÷ clock_scale); None for a drill on one clock
    # cadence
    update_every: float | None  # policy cadence for the severity (already scaled)
    updates_posted: int
    last_update_t: float | None
    last_update_at: str | None
    next_update_t: float | None
    next_update_at: str | None
    next_update_in: float | None  # seconds from now (negative: overdue)
    update_overdue: bool
    # resolution
    eta_seconds: float | None  # 0 once recovered; None: unknown
    eta_known: bool
    runbooks_started: tuple[str, ...]
    roles: dict[str, str] = field(default_factory=dict)  # role -> current holder (untrusted, one line)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def comms_facts(
    events: Iterable[Event[Payload]],
    scenario: Scenario | None = None,
    policy: SeverityPolicy | None = None,
    now_t: float | None = None,
    *,
    business: Business | None = None,
) -> CommsFacts:
    """The facts of a drill at ``now_t`` (default: the last event's time).

    ``scenario`` is the drill's :class:`~gameday.model.scenario.Scenario` (None: the one
    ``DrillStarted`` recorded); ``policy`` the severity policy applied to the drill, already
    scaled (None: the one ``DrillStarted`` recorded, else the default scaled by the
    scenario). ``business`` is the project's business context; the scenario's wins.
    Events after ``now_t`` are ignored.
    """
    evs = list(events)
    if now_t is None:
        now_t = evs[-1].t if evs else 0.0
    evs = [e for e in evs if e.t <= now_t + EPS]
    started_ev = next(iter(events_of(evs, DrillStarted)), None)
    start = started_ev.data if started_ev is not None else None
    sc = scenario if scenario is not None else (start.scenario if start is not None else None)
    pol = _policy(policy, start, sc)
    biz = sc.business if sc is not None and sc.business is not None else business
    walls = _Walls(evs)

    actions = events_of(evs, ActionRecorded)
    injected = first_injection(evs)
    # milestones as the scorecard defines them (after the injection); any detection tells the
    # team, a person's report included, whatever the scenario's people_count says for MTTD
    detection = first_detection(evs, injected, people_count=True)
    detected = detection.data if detection is not None and isinstance(detection.data, DetectionRecorded) else None
    inj_t = injected.t if injected else None
    recovery = first_recovery(evs, injected)
    resolved = next((a for a in actions if a.data.action == "resolved" and a.data.author not in VENDOR_ACTORS
                     and (inj_t is None or a.t >= inj_t - EPS)), None)  # as the scorecard's resolution
    declared = next((a for a in actions if a.data.action == "declare_incident"), None)

    # severity: the last classification, else the expected one
    marks = [a for a in actions if a.data.action in ("set_severity", "declare_incident") and a.data.severity is not None]
    expected: Severity | None = sc.severity if sc is not None else None
    declared_level: Severity | None = marks[-1].data.severity if marks else None
    severity = declared_level or expected
    level = pol.levels.get(severity) if severity is not None else None

    # when the incident started: the first injection (a detection counts only after one)
    started_t, started_from = (injected.t, "injection") if injected is not None else (None, None)

    impact = _impact(evs, inj_t, now_t)
    load = load_facts(evs, biz, started_t, now_t)
    if recovery is not None and impact.ongoing and (impact.last_start_t or 0.0) > recovery.t:
        recovery = None  # customers are hit again after the recovery: not recovered

    # cadence: from the last update, else from when the team knew (detection, else declaration)
    updates = [a for a in actions if a.data.action == "post_update"]
    last_update = updates[-1] if updates else None
    knew_t = detection.t if detection else (declared.t if declared else None)
    every = level.update_every if level is not None else None
    base_t = last_update.t if last_update else knew_t
    closed = resolved is not None
    next_t = base_t + every if (every is not None and base_t is not None and not closed) else None

    # status
    runbooks = tuple(one_line(a.data.runbook, 80) for a in actions if a.data.action == "runbook_started")
    if closed:
        status = "resolved"
    elif recovery is not None:
        status = "monitoring"
    elif runbooks:
        status = "mitigating"
    else:
        status = "investigating"

    return CommsFacts(
        drill_id=_text(start.drill_id) if start else None,
        mode=_text(start.mode) if start else None,
        title=one_line(sc.title if sc else "", 200),
        service=one_line((sc.service if sc else None) or "the service", 120),
        symptom=one_line(sc.symptom if sc else "", 400),
        severity=severity or "SEV?",
        severity_declared=bool(marks),
        severity_expected=expected or "SEV?",
        severity_description=level.description if level is not None else None,
        declared=declared is not None,
        now_t=round(now_t, 6),
        now_at=walls.at(now_t),
        started_t=started_t,
        started_at=walls.at(started_t),
        started_from=started_from,
        detected=detection is not None,
        detected_t=detection.t if detection else None,
        detected_at=walls.at(detection.t) if detection else None,
        detected_via=_text(detected.via) if detected else None,
        detected_signal=_text(detected.signal or detected.alertname) if detected else None,
        status=status,
        recovered=recovery is not None,
        recovered_t=recovery.t if recovery else None,
        recovered_at=walls.at(recovery.t) if recovery else None,
        resolved=closed,
        resolved_t=resolved.t if resolved else None,
        resolved_at=walls.at(resolved.t) if resolved else None,
        impact_ongoing=impact.ongoing,
        impact_since_t=impact.since_t,
        impact_since_at=walls.at(impact.since_t),
        impact_seconds=round(impact.seconds, 3),
        failing_checks=impact.failing,
        load_measured=load.measured,
        requests=load.requests,
        failures=load.failures,
        failure_rate=load.rate_now,
        failure_rate_overall=load.rate_overall,
        currency=biz.currency if biz else "USD",
        revenue_per_minute=biz.revenue_per_minute if biz else None,
        revenue_per_minute_lost=load.money_per_minute,
        revenue_lost=load.money_lost,
        revenue_lost_is_lower_bound=load.lower_bound,
        revenue_lost_drill_clock=load.money_lost_drill_clock,
        clock_scale=incident_scale(evs),
        update_every=every,
        updates_posted=len(updates),
        last_update_t=last_update.t if last_update else None,
        last_update_at=walls.at(last_update.t) if last_update else None,
        next_update_t=next_t,
        next_update_at=walls.at(next_t),
        next_update_in=round(next_t - now_t, 6) if next_t is not None else None,
        update_overdue=next_t is not None and now_t > next_t + EPS,
        eta_seconds=0.0 if (recovery is not None or closed) else None,
        eta_known=recovery is not None or closed,
        runbooks_started=runbooks,
        roles={one_line(role, 80): one_line(person, 80) for role, person in role_holders(evs).items()},
    )


# ------------------------------------------------------------------ helpers
def _policy(given: SeverityPolicy | None, start: DrillStarted | None, sc: Scenario | None) -> SeverityPolicy:
    """The policy given, else the one the drill recorded, else the default scaled by the scenario."""
    if given is not None:
        return given
    if start is not None:
        return start.policy
    return DEFAULT_POLICY.scaled(sc.policy.scale if sc is not None else 1.0)


def _text(value: str | None) -> str | None:
    return one_line(value, 120) if value else None


def _parse_wall(wall: str) -> datetime | None:
    try:
        return datetime.strptime(wall, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(wall.replace("Z", "+00:00")).astimezone(UTC)
        except (AttributeError, ValueError):
            return None


class _Walls:
    """Drill offset -> UTC wall time, anchored at the latest event at or before it (pauses move the anchor)."""

    def __init__(self, events: list[Event[Payload]]):
        self.anchors = [(e.t, w) for e in events if (w := _parse_wall(e.wall)) is not None]

    def at(self, t: float | None) -> str | None:
        if t is None or not self.anchors:
            return None
        anchor_t, anchor_wall = self.anchors[0]
        for et, wall in self.anchors:
            if et <= t + EPS:
                anchor_t, anchor_wall = et, wall
            else:
                break
        when = anchor_wall + timedelta(seconds=t - anchor_t)
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class _Impact:
    ongoing: bool
    since_t: float | None
    seconds: float
    failing: tuple[str, ...]
    last_start_t: float | None = None  # when the current stretch of impact began


def _impact(events: list[Event[Payload]], inj_t: float | None, now_t: float) -> _Impact:
    """Union of the time any check failed (from the first injection on), and what fails now."""
    failing: dict[str, float] = {}  # check -> since
    down_since: float | None = None
    total, since = 0.0, None
    floor = inj_t if inj_t is not None else float("-inf")
    for e in events:
        data = e.data
        if not isinstance(data, (ImpactStarted, ImpactEnded)):
            continue
        check = data.check or "?"
        if isinstance(data, ImpactStarted) and check not in failing:
            if not failing:
                down_since = e.t
            failing[check] = e.t
        elif isinstance(data, ImpactEnded) and check in failing:
            del failing[check]
            if not failing and down_since is not None:
                lo = max(down_since, floor)
                if e.t > lo:
                    total += e.t - lo
                    since = lo if since is None else since
                down_since = None
    if failing and down_since is not None:
        lo = max(down_since, floor)
        if now_t > lo:
            total += now_t - lo
        since = lo if since is None else since
    return _Impact(ongoing=bool(failing), since_t=since, seconds=max(0.0, total),
                   failing=tuple(one_line(c, 120) for c in sorted(failing)), last_start_t=down_since)  # fmt: skip
