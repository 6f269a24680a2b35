"""The merged timeline of a drill: machine and human events, one row each, in journal order.

:func:`timeline_rows` is a pure function of journal events, shared by the postmortem and
the live view (which also uses :func:`describe_event` for one event at a time). Row texts are plain, *unescaped* strings: they may carry responder-supplied
text (names, notes, update texts, alert labels, runbook output), so every renderer must
escape them for its own format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gameday.model.duration import human
from gameday.model.events import Event

#: Kinds left out of the timeline (bookkeeping, not facts worth a row).
HIDDEN_KINDS = frozenset({"PhaseChanged", "LoadStats"})  # per-second load figures: the charts show them

#: Kinds that are people's doing (unless recorded by automation).
HUMAN_KINDS = frozenset({"RoleAssigned", "ActionRecorded", "NoteAdded"})

#: Machine sources: anything else is taken to be a responder's name.
MACHINE_SOURCES = frozenset({"conductor", "injector", "observer", "webhook", "automation", "notifier", "load",
                             "monitoring", "recover"})

CATEGORY = {
    "DrillStarted": "drill",
    "DrillAborted": "drill",
    "DrillEnded": "drill",
    "SteadyStateChecked": "check",
    "FaultInjected": "fault",
    "FaultInjectionFailed": "fault",
    "FaultRolledBack": "fault",
    "FaultRollbackFailed": "fault",
    "ActivityRan": "activity",
    "ImpactStarted": "impact",
    "ImpactEnded": "impact",
    "AlertReceived": "alert",
    "DetectionRecorded": "detection",
    "RoleAssigned": "role",
    "ActionRecorded": "action",
    "StepMatched": "step",
    "RecoveryObserved": "recovery",
    "NoteAdded": "note",
    "LoadStarted": "load",
    "LoadStats": "load",
    "LoadFailed": "load",
    "LoadStopped": "load",
    "NotificationSent": "notification",
    "NotificationFailed": "notification",
    "FaultSkipped": "fault",
    "ClockPaused": "drill",
    "ClockResumed": "drill",
    "ResponderJoined": "role",
    "ResponderRevoked": "role",
    "SilenceCreated": "monitoring",
    "SilenceRemoved": "monitoring",
}

MAX_TEXT = 200

_ROLLBACK_REASONS = {
    "end": "at the end of the drill",
    "abort": "because the drill was aborted",
    "signal": "after an interrupt signal",
    "max_duration": "at its maximum duration (dead-man limit)",
    "recover": "by 'gameday recover'",
    "error": "after an error",
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


def format_offset(t: float | None) -> str:
    """Offset from drill start for people: ``+12.3s``, ``+1m05s``, ``+1h02m``; ``—`` for None."""
    return "—" if t is None else "+" + human(max(t, 0.0))


def one_line(value: Any, limit: int = MAX_TEXT) -> str:
    """``value`` as a single line of at most ``limit`` characters (whitespace collapsed)."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe_event(event: Event) -> str:
    """The one-line, blameless description of any journal event (hidden kinds included), unescaped."""
    return one_line(_describe(event.kind, event.data or {}))


def _clock(wall: str) -> str:
    _, _, rest = wall.partition("T")
    return rest[:8] if rest else wall


def timeline_rows(journal_events: Iterable[Event]) -> list[TimelineRow]:
    """The rows of a drill's merged timeline, in journal order. Pure: same events, same rows."""
    rows: list[TimelineRow] = []
    holders: dict[str, str] = {}  # role -> current holder (a later assignment hands the role over)
    for event in journal_events:
        if event.kind in HIDDEN_KINDS:
            continue
        data = event.data or {}
        who, role = _who(event, data, holders)
        text = one_line(_describe(event.kind, data))
        if event.kind == "RoleAssigned" and data.get("person") and data.get("role"):
            holders[str(data["role"])] = str(data["person"])
        is_human = event.kind in HUMAN_KINDS or (event.kind == "DetectionRecorded" and data.get("via") == "person")
        is_human = is_human and who != "automation" and event.source != "automation"
        rows.append(
            TimelineRow(
                seq=event.seq,
                t=event.t,
                offset=format_offset(event.t),
                wall=event.wall,
                clock=_clock(event.wall),
                kind=event.kind,
                category=CATEGORY.get(event.kind, "other"),
                source=event.source,
                who=one_line(who, 80),
                role=one_line(role, 80) if role else None,
                human=is_human,
                text=text,
            )
        )
    return rows


def _who(event: Event, data: dict[str, Any], holders: dict[str, str]) -> tuple[str, str | None]:
    if event.kind == "ActionRecorded":
        who = str(data.get("author") or event.source)
        return who, (str(data["role"]) if data.get("role") else _roles_of(who, holders))
    if event.kind == "RoleAssigned":
        who = str(data.get("by") or event.source)
    elif event.kind == "DetectionRecorded" and data.get("via") == "person":
        who = str(data.get("by") or event.source)
    elif event.kind == "NoteAdded":
        who = str(data.get("author") or data.get("by") or event.source)
    else:
        who = event.source
    return who, _roles_of(who, holders)


def _roles_of(person: str, holders: dict[str, str]) -> str | None:
    if person in MACHINE_SOURCES:
        return None
    roles = [role for role, holder in holders.items() if holder == person]
    return ", ".join(roles) if roles else None


def _describe(kind: str, d: dict[str, Any]) -> str:
    """A one-line, blameless description of one event."""
    match kind:
        case "DrillStarted":
            scenario = d.get("scenario") if isinstance(d.get("scenario"), dict) else {}
            name = scenario.get("id") or d.get("scenario_path") or "?"
            return f"Drill {d.get('drill_id', '')} started: scenario {name}, {d.get('mode', '?')} mode".replace("  ", " ")
        case "PhaseChanged":
            return f"Phase: {d.get('phase', '?')}"
        case "SteadyStateChecked":
            failing = [str(c.get("check")) for c in d.get("checks") or [] if isinstance(c, dict) and not c.get("ok")]
            stage = d.get("stage", "")
            if d.get("ok"):
                return f"Steady state holds ({stage} check)"
            return f"Steady state does not hold ({stage} check)" + (f": failing {', '.join(failing)}" if failing else "")
        case "FaultInjected":
            return f"Fault {d.get('fault', '?')} injected" + (f" ({d['kind']})" if d.get("kind") else "")
        case "FaultInjectionFailed":
            return f"Fault {d.get('fault', '?')} could not be injected: {d.get('error', 'unknown error')}"
        case "FaultRolledBack":
            reason = _ROLLBACK_REASONS.get(str(d.get("reason")), f"({d.get('reason')})" if d.get("reason") else "")
            return f"Fault {d.get('fault', '?')} rolled back {reason}".rstrip()
        case "FaultRollbackFailed":
            return f"Rollback of fault {d.get('fault', '?')} did not complete: {d.get('error', 'unknown error')}"
        case "ActivityRan":
            return _activity(d)
        case "ImpactStarted":
            detail = f" ({d['detail']})" if d.get("detail") else ""
            return f"Impact started: check {d.get('check', '?')} failing{detail}"
        case "ImpactEnded":
            return f"Impact ended: check {d.get('check', '?')} healthy again"
        case "AlertReceived":
            return _alert(d)
        case "DetectionRecorded":
            if d.get("via") == "alert":
                signal = f" (signal {d['signal']})" if d.get("signal") else ""
                return f"Detected via alert {d.get('alertname') or '?'}{signal}"
            return f"Detected: {d.get('by') or 'a responder'} reported the problem"
        case "RoleAssigned":
            return f"{d.get('person', '?')} took the role {d.get('role', '?')}"
        case "ActionRecorded":
            return _action(d)
        case "StepMatched":
            verdict = _VERDICTS.get(str(d.get("verdict")), str(d.get("verdict") or ""))
            return f"Step {d.get('step', '?')} done" + (f" ({verdict})" if verdict else "")
        case "RecoveryObserved":
            checks = ", ".join(str(c) for c in d.get("checks") or [])
            return "Recovered: the steady state holds again" + (f" ({checks})" if checks else "")
        case "NoteAdded":
            return f"Note: {d.get('text', '')}"
        case "DrillAborted":
            return f"Drill aborted: {d.get('reason') or 'no reason given'}"
        case "DrillEnded":
            reason = f": {d['reason']}" if d.get("reason") else ""
            return f"Drill ended ({d.get('outcome', '?')}){reason}"
        case "LoadStarted":
            return f"Load started: {d.get('users', '?')} users" + (f", {d['workers']} workers" if d.get("workers") else "")
        case "LoadStats":
            return "Load statistics"
        case "LoadFailed":
            return f"Load generator stopped unexpectedly: {d.get('error') or 'unknown error'} (impact unknown from here)"
        case "LoadStopped":
            return "Load stopped"
        case "NotificationSent":
            return f"Update delivered to {d.get('channel', '?')} channel {d.get('name', '?')}"
        case "NotificationFailed":
            return (f"Update not delivered to {d.get('channel', '?')} channel {d.get('name', '?')}: "
                    f"{d.get('error') or 'unknown error'}")
        case "FaultSkipped":
            return f"Fault {d.get('fault', '?')} skipped by {d.get('by', 'the facilitator')}"
        case "ClockPaused":
            return f"Drill clock paused by {d.get('by', 'the facilitator')}"
        case "ClockResumed":
            return f"Drill clock resumed by {d.get('by', 'the facilitator')}"
        case "ResponderJoined":
            return f"{d.get('person', '?')} joined" + (f" as {d['role']}" if d.get("role") else "")
        case "ResponderRevoked":
            return f"{d.get('person', '?')}'s access was revoked"
        case "SilenceCreated":
            return f"Alertmanager silence {d.get('id', '?')} created for non-drill alerts"
        case "SilenceRemoved":
            return f"Alertmanager silence {d.get('id', '?')} removed"
    return kind


def _activity(d: dict[str, Any]) -> str:
    phase, owner, name = d.get("phase", ""), d.get("owner", "?"), d.get("name", "?")
    what = f"Runbook {owner}: activity {name}" if phase == "runbook" else f"Fault {owner} {phase}: activity {name}"
    took = f" in {float(d['duration_s']):.1f}s" if isinstance(d.get("duration_s"), (int, float)) else ""
    if d.get("status") == "failed":
        return f"{what} did not succeed{took}" + (f": {d['error']}" if d.get("error") else "")
    output = one_line(d.get("output"), 80) if d.get("output") not in (None, "") else ""
    return f"{what} succeeded{took}" + (f" (output: {output})" if output else "")


def alert_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts of one ``AlertReceived`` event: ``[{status, alertname, labels, matched, signal, summary}]``.

    Reads the per-delivery form (``alerts: [...]``) and the older one-alert-per-event form.
    ``summary`` is the alert's ``summary`` (or ``description``) annotation from the raw
    payload when there is one.
    """
    payload = data.get("payload")
    raw = payload.get("alerts") if isinstance(payload, dict) else None
    listed = data.get("alerts")
    if not isinstance(listed, list):
        listed = [data] if (data.get("alertname") or data.get("labels")) else []
        raw = [payload] if isinstance(payload, dict) else None
    out = []
    for i, a in enumerate(x for x in listed if isinstance(x, dict)):
        labels = a.get("labels") if isinstance(a.get("labels"), dict) else {}
        source = raw[i] if isinstance(raw, list) and i < len(raw) and isinstance(raw[i], dict) else None
        summary = _summary(source) or (_summary(payload) if len(listed) == 1 else None)
        out.append({
            "status": a.get("status") or "firing",
            "alertname": a.get("alertname") or labels.get("alertname") or "?",
            "labels": labels,
            "matched": bool(a.get("matched")),
            "signal": a.get("signal"),
            "summary": summary,
        })  # fmt: skip
    return out


def _alert(d: dict[str, Any]) -> str:
    alerts = alert_entries(d)
    if not alerts:
        return f"Alert delivery refused: {d['error']}" if d.get("error") else "Alert delivery with no alerts"
    parts = []
    for a in alerts[:5]:
        shown = [f"{k}={v}" for k, v in sorted(a["labels"].items()) if k != "alertname"][:4]
        text = f"{a['alertname']} {a['status']}" + (f" [{', '.join(shown)}]" if shown else "")
        text += f" “{one_line(a['summary'], 80)}”" if a["summary"] else ""
        text += (f" (matched signal {a['signal']})" if a["signal"] else " (matched)") if a["matched"] else " (matched no signal)"
        parts.append(text)
    more = f"; and {len(alerts) - 5} more" if len(alerts) > 5 else ""
    return ("Alert " if len(alerts) == 1 else "Alerts ") + "; ".join(parts) + more


def _summary(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for holder in (payload.get("annotations"), payload.get("commonAnnotations")):
        if isinstance(holder, dict):
            text = holder.get("summary") or holder.get("description")
            if text:
                return str(text)
    return None


def _action(d: dict[str, Any]) -> str:
    action = d.get("action")
    match action:
        case "acknowledge":
            return "Acknowledged the page"
        case "declare_incident":
            return "Declared an incident"
        case "mark_detected":
            return "Reported the problem (marked detected)"
        case "resolved":
            return "Marked the incident resolved"
        case "set_severity":
            return f"Set severity to {d.get('severity', '?')}"
        case "notify_executives":
            return "Notified executives" + (f": {d['text']}" if d.get("text") else "")
        case "post_update":
            audience = f"{d['audience']} " if d.get("audience") else ""
            return f"Posted an {audience}update" + (f": {d['text']}" if d.get("text") else "")
        case "runbook_started":
            return f"Started runbook {d.get('runbook', '?')}"
        case "runbook_finished":
            if d.get("ok"):
                return f"Runbook {d.get('runbook', '?')} finished"
            return f"Runbook {d.get('runbook', '?')} did not succeed" + (f": {d['error']}" if d.get("error") else "")
        case "assign_role":
            return f"Assigned {d.get('role', 'a role')}" + (f" to {d['person']}" if d.get("person") else "")
        case "note":
            return f"Note: {d.get('text', '')}"
    return f"Recorded action {action or '?'}"
