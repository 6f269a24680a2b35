"""The merged timeline of a drill: machine and human events, one row each, in journal order.

:func:`timeline_rows` is a pure function of journal events, shared by the postmortem and
the live view (which also uses :func:`describe_event` for one event at a time). Row texts
are plain, *unescaped* strings: they may carry responder-supplied text (names, notes,
update texts, alert labels, runbook output), so every renderer must escape them for its
own format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gameday.analysis.alert_entries import alert_entries
from gameday.model import events
from gameday.model.roles import RoleBook
from gameday.model.terms import format_offset

__all__ = ["TimelineRow", "describe_event", "format_offset", "one_line", "timeline_rows"]

#: Kinds left out of the timeline (bookkeeping, not facts worth a row).
#: (per-second load figures: the charts show them)
HIDDEN_KINDS: tuple[type[events.Payload], ...] = (events.PhaseChanged, events.LoadStats)

#: Kinds that are people's doing (unless recorded by automation).
HUMAN_KINDS: tuple[type[events.Payload], ...] = (events.RoleAssigned, events.ActionRecorded, events.NoteAdded)

#: Machine sources: anything else is taken to be a responder's name.
MACHINE_SOURCES = frozenset({"conductor", "injector", "observer", "webhook", "automation", "notifier", "load",
                             "monitoring", "recover", "simulator", "training"})

CATEGORY: Mapping[type[events.Payload], str] = {
    events.DrillStarted: "drill",
    events.DrillAborted: "drill",
    events.StopConditionMet: "drill",
    events.ProductionAllowed: "drill",
    events.DrillEnded: "drill",
    events.SteadyStateChecked: "check",
    events.FaultInjected: "fault",
    events.FaultInjectionFailed: "fault",
    events.FaultRolledBack: "fault",
    events.FaultRollbackFailed: "fault",
    events.ActivityRan: "activity",
    events.ImpactStarted: "impact",
    events.ImpactEnded: "impact",
    events.AlertReceived: "alert",
    events.DetectionRecorded: "detection",
    events.RoleAssigned: "role",
    events.ActionRecorded: "action",
    events.StepMatched: "step",
    events.RecoveryObserved: "recovery",
    events.NoteAdded: "note",
    events.LoadStarted: "load",
    events.LoadStats: "load",
    events.LoadFailed: "load",
    events.LoadStopped: "load",
    events.NotificationSent: "notification",
    events.NotificationFailed: "notification",
    events.FaultSkipped: "fault",
    events.ClockPaused: "drill",
    events.ClockResumed: "drill",
    events.ResponderJoined: "role",
    events.ResponderRevoked: "role",
    events.SilenceCreated: "monitoring",
    events.SilenceRemoved: "monitoring",
    events.RespondersNotLoaded: "drill",
    events.FaultHypothesisChecked: "fault",
    events.FaultNotRolledBack: "fault",
    events.FaultForgotten: "fault",
    events.PaceSet: "drill",
    events.InjectPublished: "inject",
    events.InjectHeld: "inject",
    events.InjectSkipped: "inject",
    events.DecisionRecorded: "decision",
    events.EvaluatorNoted: "evaluation",
    events.ObjectiveRated: "evaluation",
    events.HotWashNoted: "hot wash",
    events.ShadowCleared: "recovery",
    events.TrainingStarted: "drill",
    events.CommandTaken: "role",
    events.CommandHandedOver: "role",
    events.TaskAssigned: "task",
    events.TaskReported: "task",
    events.ObjectionsCalled: "decision",
    events.ObjectionVoiced: "decision",
    events.HintGiven: "hint",
    events.StateChanged: "simulation",
}

MAX_TEXT = 200

_ROLLBACK_REASONS = {
    "end": "at the end of the drill",
    "abort": "because the drill was aborted",
    "signal": "after an interrupt signal",
    "max_duration": "at its maximum duration (dead-man limit)",
    "recover": "by 'gameday recover'",
    "error": "after an error",
    "cleared": "when its simulated shadow cleared (the players' fix)",
}

_VERDICTS = {"on_time": "on time", "late": "after its deadline", "missed": "not done", "not_applicable": "not applicable"}


@dataclass(frozen=True)
class TimelineRow:
    """One event worth showing.

    ``t`` is seconds from drill start and ``offset`` its text (``+1m05s``); ``wall`` is
    the event's UTC ISO time and ``clock`` its ``HH:MM:SS``; ``who`` is the person or
    machine part behind the event and ``role`` the incident role(s) they held (if known);
    ``category`` groups kinds (drill, check, fault, activity, impact, alert, detection,
    role, action, step, recovery, note); ``human`` is True for people's doing; ``text``
    is a one-line description (untrusted content included, unescaped).
    """

    seq: int
    t: float
    offset: str
    wall: str
    clock: str
    kind: str
    category: str
    source: str
    who: str
    role: str | None
    human: bool
    text: str


def one_line(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as a single line of at most ``limit`` characters (whitespace collapsed)."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe_event(event: events.Event[events.Payload]) -> str:
    """The one-line, blameless description of any journal event (hidden kinds included), unescaped."""
    d = event.data
    if event.source == "simulator" and isinstance(d, events.FaultInjected | events.FaultRolledBack):
        return one_line(_simulated(d))  # a tabletop's shadow: nothing was injected or rolled back
    return one_line(_describe(d))


def _clock(wall: str) -> str:
    _, _, rest = wall.partition("T")
    return rest[:8] if rest else wall


def timeline_rows(journal_events: Iterable[events.Event[events.Payload]]) -> list[TimelineRow]:
    """The rows of a drill's merged timeline, in journal order. Pure: same events, same rows."""
    rows: list[TimelineRow] = []
    evs = list(journal_events)
    book = RoleBook.from_events(evs)
    attempted = _failed_attempts(evs)
    for event in evs:
        d = event.data
        if isinstance(d, HIDDEN_KINDS):
            continue
        who, role = _who(event, book)
        if event.seq in attempted and isinstance(d, events.FaultInjected):  # its FaultInjectionFailed follows
            text = one_line(f"Fault {d.fault} injection started ({d.kind}); it did not succeed")
        else:
            text = describe_event(event)
        is_human = isinstance(d, HUMAN_KINDS) or (isinstance(d, events.DetectionRecorded) and d.via == "person")
        is_human = is_human and who != "automation" and event.source != "automation"
        rows.append(
            TimelineRow(
                seq=event.seq,
                t=event.t,
                offset=format_offset(event.t),
                wall=event.wall,
                clock=_clock(event.wall),
                kind=event.kind,
                category=CATEGORY.get(type(d), "other"),
                source=event.source,
                who=one_line(who, 80),
                role=one_line(role, 80) if role else None,
                human=is_human,
                text=text,
            )
        )
    return rows


def _simulated(d: events.FaultInjected | events.FaultRolledBack) -> str:
    if isinstance(d, events.FaultInjected):
        return f"Simulated fault {d.fault} began (nothing was injected)"
    return f"Simulated fault {d.fault} ended {_ROLLBACK_REASONS.get(d.reason, f'({d.reason})')}".rstrip()


def _failed_attempts(evs: Sequence[events.Event[events.Payload]]) -> set[int]:
    """Seqs of ``FaultInjected`` events (journaled as an injection starts) whose injection then failed."""
    open_: dict[str, int] = {}
    failed: set[int] = set()
    for e in evs:
        d = e.data
        if isinstance(d, events.FaultInjected):
            open_[d.fault] = e.seq
        elif isinstance(d, events.FaultInjectionFailed) and d.fault in open_:
            failed.add(open_.pop(d.fault))
    return failed


def _who(event: events.Event[events.Payload], book: RoleBook) -> tuple[str, str | None]:
    """Who is behind ``event``, and the role(s) they held just before it."""
    d = event.data
    if isinstance(d, events.ActionRecorded):
        who = d.author or event.source
        return who, (d.role if d.role else _roles_of(who, book, event.seq))
    if isinstance(d, events.RoleAssigned) or (isinstance(d, events.DetectionRecorded) and d.via == "person"):
        who = d.by or event.source
    else:
        who = event.source
    return who, _roles_of(who, book, event.seq)


def _roles_of(person: str, book: RoleBook, seq: int) -> str | None:
    if person in MACHINE_SOURCES:
        return None
    return ", ".join(book.held_by(person, seq)) or None


def _or(value: str | None, default: str) -> str:
    """``value``, or ``default`` when the journal has none."""
    return default if value is None else value


def _describe(d: events.Payload) -> str:
    """A one-line, blameless description of one event."""
    match d:
        case events.DrillStarted():
            name = d.scenario.id or d.scenario_path or "?"
            return f"Drill {d.drill_id} started: scenario {name}, {d.mode} mode".replace("  ", " ")
        case events.PhaseChanged():
            return f"Phase: {d.phase}"
        case events.SteadyStateChecked():
            failing = [c.check for c in d.checks if not c.ok]
            if d.ok:
                return f"Steady state holds ({d.stage} check)"
            return f"Steady state does not hold ({d.stage} check)" + (f": failing {', '.join(failing)}" if failing else "")
        case events.FaultInjected():
            return f"Fault {d.fault} injected ({d.kind})"
        case events.FaultInjectionFailed():
            return f"Fault {d.fault} could not be injected: {_or(d.error, 'unknown error')}"
        case events.FaultRolledBack():
            return f"Fault {d.fault} rolled back {_ROLLBACK_REASONS.get(d.reason, f'({d.reason})')}".rstrip()
        case events.FaultRollbackFailed():
            return f"Rollback of fault {d.fault} did not complete: {_or(d.error, 'unknown error')}"
        case events.ActivityRan():
            return _activity(d)
        case events.ImpactStarted():
            detail = f" ({d.detail})" if d.detail else ""
            return f"Impact started: check {d.check} failing{detail}"
        case events.ImpactEnded():
            return f"Impact ended: check {d.check} healthy again"
        case events.AlertReceived():
            return _alert(d)
        case events.DetectionRecorded():
            if d.via == "alert":
                signal = f" (signal {d.signal})" if d.signal else ""
                return f"Detected via alert {d.alertname or '?'}{signal}"
            return f"Detected: {d.by or 'a responder'} reported the problem"
        case events.RoleAssigned():
            return f"{d.person} took the role {d.role}"
        case events.ActionRecorded():
            return _action(d)
        case events.StepMatched():
            verdict = _VERDICTS.get(d.verdict, d.verdict)
            return f"Step {d.step} done" + (f" ({verdict})" if verdict else "")
        case events.RecoveryObserved():
            checks = ", ".join(d.checks)
            return "Recovered: the steady state holds again" + (f" ({checks})" if checks else "")
        case events.NoteAdded():
            return f"Note: {d.text}"
        case events.DrillAborted():
            return f"Drill aborted: {d.reason or 'no reason given'}"
        case events.StopConditionMet():
            return f"Stop condition met: {d.what} ({d.reading})"
        case events.ProductionAllowed():
            return "Production allowed (--allow-production)" + (f": {', '.join(d.targets)}" if d.targets else "")
        case events.DrillEnded():
            reason = f": {d.reason}" if d.reason else ""
            return f"Drill ended ({d.outcome}){reason}"
        case events.LoadStarted():
            return f"Load started: {d.users} users" + (f", {d.workers} workers" if d.workers else "")
        case events.LoadStats():
            return "Load statistics"
        case events.LoadFailed():
            return f"Load generator stopped unexpectedly: {d.error or 'unknown error'} (impact unknown from here)"
        case events.LoadStopped():
            return "Load stopped"
        case events.NotificationSent():
            return f"Update delivered to {d.channel} channel {d.name}"
        case events.NotificationFailed():
            return f"Update not delivered to {d.channel} channel {d.name}: {d.error or 'unknown error'}"
        case events.FaultSkipped():
            return f"Fault {d.fault} skipped by {d.by}"
        case events.ClockPaused():
            return f"Drill clock paused by {d.by}"
        case events.ClockResumed():
            return f"Drill clock resumed by {d.by}"
        case events.ResponderJoined():
            return f"{d.person} joined" + (f" as {d.role}" if d.role else "")
        case events.ResponderRevoked():
            return f"{d.person}'s access was revoked"
        case events.SilenceCreated():
            return f"Alertmanager silence {d.id} created for non-drill alerts"
        case events.SilenceRemoved():
            return f"Alertmanager silence {d.id} removed"
        case events.FaultHypothesisChecked():
            when = "before injection" if d.stage == "before" else "after rollback"
            failing = [c.check for c in d.probes if not c.ok]
            holds = "holds" if d.ok else "does not hold" + (f": failing {', '.join(failing)}" if failing else "")
            return f"Fault {d.fault}'s own steady-state hypothesis {holds} ({when})"
        case events.FaultNotRolledBack():
            return f"Fault {d.fault} needed no rollback: {d.why}"
        case events.FaultForgotten():
            return f"Fault {d.fault} struck off the fault ledger by {d.by} without a rollback: {d.reason}"
        case events.RespondersNotLoaded():
            steps = f": no one will do step(s) {', '.join(d.steps)}" if d.steps else ""
            return f"No responder script was loaded for this ci drill{steps}"
    return _describe_exercise(d)


def _describe_exercise(d: events.Payload) -> str:
    """The exercise kinds (tabletop and training drills)."""
    match d:
        case events.PaceSet():
            return f"Pace set to {d.pace} by {d.by}"
        case events.InjectPublished():
            why = {"schedule": "on schedule", "contingency": f"as the contingency of {d.contingency_of}"}.get(d.by, f"by {d.by}")
            return f"Inject {d.inject} published {why}: {d.channel.replace('_', ' ')} from {d.sender} to {d.to}: {d.subject}"
        case events.InjectHeld():
            return f"Inject {d.inject} held by {d.by}"
        case events.InjectSkipped():
            return f"Inject {d.inject} skipped by {d.by}"
        case events.DecisionRecorded():
            options = f" (options weighed: {'; '.join(d.options)})" if d.options else ""
            why = f"; rationale: {d.rationale}" if d.rationale else ""
            return f"Decision by {d.decided_by}: {d.decision}{options}{why}"
        case events.EvaluatorNoted():
            about = f" on objective {d.objective}" if d.objective else ""
            return f"Evaluator note{about} by {d.author}: {d.text}"
        case events.ObjectiveRated():
            return f"Objective {d.objective} rated {d.rating} by {d.by}: {d.note}"
        case events.HotWashNoted():
            return f"Hot wash from {d.person}: went well: {d.went_well or '—'}; to improve: {d.to_improve or '—'}"
        case events.ShadowCleared():
            how = {"runbook": "a runbook", "simulation": "the simulation reaching a recovered state"}.get(d.reason, d.by)
            return f"Simulated fault(s) {', '.join(d.faults)} cleared by {how}"
    from gameday.analysis.training_timeline import describe_training

    return describe_training(d) or d.KIND


def _activity(d: events.ActivityRan) -> str:
    what = f"Runbook {d.owner}: activity {d.name}" if d.phase == "runbook" else f"Fault {d.owner} {d.phase}: activity {d.name}"
    took = f" in {d.duration_s:.1f}s"
    if d.status == "failed":
        return f"{what} did not succeed{took}" + (f": {d.error}" if d.error else "")
    output = one_line(d.output, 80) if d.output else ""
    return f"{what} succeeded{took}" + (f" (output: {output})" if output else "")


def _alert(d: events.AlertReceived) -> str:
    alerts = alert_entries(d)
    if not alerts:
        return f"Alert delivery refused: {d.error}" if d.error else "Alert delivery with no alerts"
    parts = []
    for a in alerts[:5]:
        shown = [f"{k}={v}" for k, v in sorted(a.labels.items()) if k != "alertname"][:4]
        text = f"{a.alertname} {a.status}" + (f" [{', '.join(shown)}]" if shown else "")
        text += f" “{one_line(a.summary, 80)}”" if a.summary else ""
        text += (f" (matched signal {a.signal})" if a.signal else " (matched)") if a.matched else " (matched no signal)"
        parts.append(text)
    more = f"; and {len(alerts) - 5} more" if len(alerts) > 5 else ""
    return ("Alert " if len(alerts) == 1 else "Alerts ") + "; ".join(parts) + more


def _action(d: events.ActionRecorded) -> str:
    match d.action:
        case "acknowledge":
            return "Acknowledged the page"
        case "declare_incident":
            return "Declared an incident"
        case "mark_detected":
            return "Reported the problem (marked detected)"
        case "resolved":
            return "Marked the incident resolved"
        case "set_severity":
            return f"Set severity to {_or(d.severity, '?')}"
        case "notify_executives":
            return "Notified executives" + (f": {d.text}" if d.text else "")
        case "post_update":
            audience = f"{d.audience} " if d.audience else ""
            return f"Posted an {audience}update" + (f": {d.text}" if d.text else "")
        case "runbook_started":
            return f"Started runbook {_or(d.runbook, '?')}"
        case "runbook_finished":
            if d.ok:
                return f"Runbook {_or(d.runbook, '?')} finished"
            return f"Runbook {_or(d.runbook, '?')} did not succeed" + (f": {d.error}" if d.error else "")
        case "note":
            return f"Note: {_or(d.text, '')}"
    return f"Recorded action {d.action}"
