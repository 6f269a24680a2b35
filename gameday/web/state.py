"""The control room's page state: a pure function of the journal's events.

:func:`room_state` turns the events of a (running or finished) drill into what a page
shows — status and phase, the timeline, who holds which role, the incident so far, the
countdowns, the runbooks' runs — for one viewer. The facilitator also gets the hidden
expectations (the expected steps with their deadlines and verdicts so far, the expected
severity, the fault schedule); a responder never does, and does not see the machine's
ground truth (faults, the conductor's own impact probes, recovery, step matches) in the
timeline either. No clock, no I/O: the same events give the same state, which is why a
page reload mid-drill shows the same thing.

In a tabletop a responder is a **player**: the state adds the exercise
(:func:`gameday.web.exercise_state.exercise_state`), and a player sees only the injects
published to everyone or to a role they hold now, and what the players recorded; never the
MSEL, a held or skipped inject, an evaluator note, an objective rating, the simulator's
recoveries, an inject's alert delivery (the inject shows it) nor when the next step falls due.

In a training drill the state adds the training (:func:`gameday.web.training_state.training_state`);
the trainee sees the simulation's alerts and what its transitions say, never its state (the
facilitator, their coach, does), nor when the next step falls due.

Texts are untrusted and unescaped (names, notes, update texts, alert labels): every
renderer escapes them (Jinja2 autoescape, ``textContent`` in the browser).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from gameday.analysis.matching import EPS, Action, Facts, StepStatus, describe, evaluate_steps, read_facts
from gameday.analysis.timeline import TimelineRow, describe_event, one_line, timeline_rows
from gameday.journal import events_of
from gameday.model.events import (
    ActionRecorded,
    ActivityRan,
    AlertReceived,
    ClockPaused,
    ClockResumed,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    EvaluatorNoted,
    Event,
    FaultHypothesisChecked,
    FaultInjected,
    FaultInjectionFailed,
    FaultNotRolledBack,
    FaultRollbackFailed,
    FaultRolledBack,
    FaultSkipped,
    ImpactEnded,
    ImpactStarted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    LoadStats,
    NotificationFailed,
    NotificationSent,
    ObjectiveRated,
    Payload,
    PhaseChanged,
    RecoveryObserved,
    ResponderJoined,
    ResponderRevoked,
    RoleAssigned,
    ShadowCleared,
    SilenceCreated,
    SilenceRemoved,
    StateChanged,
    SteadyStateChecked,
    StepMatched,
)
from gameday.model.policy import SeverityPolicy
from gameday.model.roles import role_holders
from gameday.model.scenario import Scenario
from gameday.model.terms import AUDIENCES, SEVERITIES, Severity
from gameday.web.exercise_state import exercise_state, inject_reaches
from gameday.web.training_state import renumber_training, training_state

#: Kinds a responder (a player, in a tabletop) does not see: the conductor's ground truth, the scoring,
#: and the facilitator's side of an exercise (the MSEL's held and skipped injects, evaluator notes,
#: objective ratings, the simulator's recoveries).
HIDDEN_FROM_RESPONDERS: tuple[type[Payload], ...] = (
    FaultInjected, FaultInjectionFailed, FaultRolledBack, FaultRollbackFailed, FaultSkipped, FaultNotRolledBack,
    FaultHypothesisChecked, ImpactStarted, ImpactEnded, RecoveryObserved, StepMatched, SteadyStateChecked,
    SilenceCreated, SilenceRemoved, InjectHeld, InjectSkipped, EvaluatorNoted, ObjectiveRated, ShadowCleared,
)  # fmt: skip
#: The source of what the simulator delivers (an inject's alert attachment, the detection it makes).
SIMULATOR = "simulator"
#: Kinds nobody needs as a timeline row (bookkeeping and raw load figures).
NOT_IN_TIMELINE: tuple[type[Payload], ...] = (PhaseChanged, LoadStats)
#: The kinds that tell what became of a fault.
FAULT_KINDS = (FaultInjected, FaultInjectionFailed, FaultRolledBack, FaultRollbackFailed, FaultSkipped, FaultNotRolledBack)
MAX_ROWS = 400
INCIDENT_KEYS = ("detected_t", "detected_via", "acknowledged_t", "acknowledged_by", "declared_t", "severity", "severity_t",
                 "executives_t", "last_update_t", "updates", "resolved_t")


def visible(event: Event[Payload], facilitator: bool, roles: Collection[str] = (), *, training: bool = False) -> bool:
    """Whether a viewer sees ``event`` in the timeline and the live stream. ``roles``: the roles a
    responder holds now; an inject addressed to a role reaches only its holder (and the facilitator).
    In a training drill (``training``) the trainee sees the simulation's alerts (they learn its state
    from them), and of a state change only what everyone was told (its ``message``; none: nothing)."""
    data = event.data
    if isinstance(data, NOT_IN_TIMELINE):
        return False
    if facilitator:
        return True
    if isinstance(data, HIDDEN_FROM_RESPONDERS):
        return False
    if isinstance(data, InjectPublished):
        return inject_reaches(data, roles)
    if isinstance(data, StateChanged):
        return bool(data.message)  # shown as the message only (player_text): the state's name is hidden
    if isinstance(data, AlertReceived) and event.source == SIMULATOR and not training:
        return False  # an inject's alert attachment: players see the inject itself (if it is theirs)
    if isinstance(data, ActivityRan):
        return data.phase == "runbook"
    return True


def seen_by_players(event: Event[Payload], *, training: bool = False) -> bool:
    """Whether some player may see ``event``, whatever roles they hold: the events a player's numbers count."""
    return isinstance(event.data, InjectPublished) or visible(event, False, training=training)


def player_numbers(events: Sequence[Event[Payload]], *, training: bool = False) -> dict[int, int]:
    """A player's numbering of the journal (``seq`` → number): each event players may see, counted in order,
    so the numbers a player is given (rows, the live stream's ids, answers) have no gap where a hidden event
    was journaled (a gap right after their own action would say that a step matched)."""
    out: dict[int, int] = {}
    for e in events:
        if seen_by_players(e, training=training):
            out[e.seq] = len(out) + 1
    return out


def renumber_for_player(state: dict[str, Any], numbers: dict[int, int]) -> dict[str, Any]:
    """``state`` (a player's) with every journal ``seq`` replaced by the player's number (see :func:`player_numbers`)."""
    def fix(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if "seq" in row:
                row["seq"] = numbers.get(row["seq"])

    fix(state.get("timeline", []))
    ex = state.get("exercise")
    if ex:
        for key in ("injects", "decisions", "hot_wash", "notes"):
            fix(ex.get(key, []))
    if state.get("training"):
        renumber_training(state["training"], numbers)
    return state


def player_text(event: Event[Payload]) -> str | None:
    """A player's wording of a row whose usual text says more than players may know (None: the usual):
    an inject shows what it says, not its MSEL id or why it went out; a detection by a simulated alert
    does not name an alert that may have gone to someone else."""
    d = event.data
    if isinstance(d, InjectPublished):
        return one_line(f"{d.channel.replace('_', ' ')} to {d.to}: {d.subject}")  # the row's who is the sender
    if isinstance(d, DetectionRecorded) and event.source == SIMULATOR:
        return "The problem was detected (an alert fired)"
    if isinstance(d, DrillStarted):  # its drill id and scenario give the surprise away
        return "The drill started"
    if isinstance(d, StateChanged):  # what everyone was told, not the simulation's state
        return one_line(d.message)
    return None


def describe_row(event: Event[Payload]) -> str:
    """The timeline text of one event: the shared timeline's, except the control room's own wording for
    people joining and leaving it and for chat deliveries."""
    d = event.data
    if isinstance(d, ResponderJoined):
        role = f" ({d.role})" if d.role else ""
        return one_line(f"{d.person}{role} joined the control room")
    if isinstance(d, ResponderRevoked):
        return one_line(f"The join link of {d.person} was revoked by {d.by}")
    if isinstance(d, NotificationSent):
        return one_line(f"Update sent to {d.channel} ({d.name})")
    if isinstance(d, NotificationFailed):
        return one_line(f"Update to {d.channel} ({d.name}) not sent: {d.error}")
    return describe_event(event)


def row_dict(row: TimelineRow, event: Event[Payload]) -> dict[str, Any]:
    return {"seq": row.seq, "t": row.t, "offset": row.offset, "clock": row.clock, "kind": row.kind,
            "category": row.category, "who": row.who, "role": row.role, "human": row.human,
            "text": describe_row(event)}


def timeline(events: Sequence[Event[Payload]], facilitator: bool, limit: int = MAX_ROWS,
             roles: Collection[str] = (), all_rows: Sequence[TimelineRow] | None = None,
             training: bool = False) -> list[dict[str, Any]]:
    """The rows the viewer (holding ``roles`` now) may see, newest last (at most ``limit``). ``all_rows``:
    ``timeline_rows(events)`` if the caller has it already (the room keeps it for every viewer)."""
    by_seq = {e.seq: e for e in events}
    rows = []
    for r in (timeline_rows(events) if all_rows is None else all_rows):
        event = by_seq[r.seq]
        if not visible(event, facilitator, roles, training=training):
            continue
        row = row_dict(r, event)
        if not facilitator:
            text = player_text(event)
            if text is not None:
                row["text"] = text
            if isinstance(event.data, InjectPublished):
                row["who"] = one_line(event.data.sender, 80)
        rows.append(row)
    return rows[-limit:]


def room_state(
    scenario: Scenario,
    policy: SeverityPolicy,
    events: Sequence[Event[Payload]],
    now_t: float | None,
    *,
    viewer: str,
    facilitator: bool,
    drill_id: str = "",
    mode: str = "gameday",
    invited: Sequence[str] = (),
    staged_roles: Sequence[tuple[str, str]] = (),
    all_rows: Sequence[TimelineRow] | None = None,
) -> dict[str, Any]:
    """Everything a page shows, for ``viewer``. ``events`` may be empty (the drill has not started:
    the lobby); ``staged_roles`` are role assignments made in the lobby, journaled at start;
    ``all_rows`` is ``timeline_rows(events)`` when the caller keeps it (the same for every viewer)."""
    started = bool(events) and isinstance(events[0].data, DrillStarted)
    ended = next(iter(events_of(events, DrillEnded)), None)
    status = "lobby" if not started else "ended" if ended else "paused" if _paused(events) else "running"
    if ended is not None:
        now_t = ended.t
    now = float(now_t if now_t is not None else (events[-1].t if events else 0.0))
    roles = role_holders(events) if started else {role: person for person, role in staged_roles}
    people = _people(events, invited, roles)
    mine = sorted(r for r, p in roles.items() if p == viewer)
    tabletop, training = mode == "tabletop", mode == "training"
    phase = next((e.data.phase for e in reversed(events_of(events, PhaseChanged))), None)
    state: dict[str, Any] = {  # a responder gets neither the scenario's title nor the phase (both are spoilers)
        "drill_id": drill_id if facilitator else "",
        "title": scenario.title if facilitator else f"Game day: {scenario.service}",
        "service": scenario.service,
        "mode": mode,
        "status": status,
        "phase": phase if facilitator else None,
        "outcome": ended.data.outcome if ended else None,
        "reason": ended.data.reason if ended else None,
        "now_t": round(now, 3),
        "viewer": {"name": viewer, "facilitator": facilitator, "roles": mine},
        "roles": [{"role": r, "holder": roles.get(r)} for r in _role_names(scenario, roles)],
        "people": people,
        "severities": list(SEVERITIES),
        "audiences": list(AUDIENCES),
        "runbooks": _runbooks(scenario, events),
        "incident": dict.fromkeys(INCIDENT_KEYS, None) | {"updates": 0},
        "countdowns": [],
        "timeline": timeline(events, facilitator, roles=mine, all_rows=all_rows, training=training) if started else [],
    }
    statuses: list[StepStatus] = []
    if started:
        facts = read_facts(scenario, events)
        statuses = evaluate_steps(scenario, events, now_t=None if ended else now, facts=facts)
        state["incident"] = _incident(facts)
        # a tabletop's players and a trainee get no step countdown: when the next step falls due is a hidden expectation
        state["countdowns"] = _countdowns(statuses, policy, state["incident"], facilitator, ended is None,
                                          steps=facilitator or not (tabletop or training))
        if facilitator:
            state["expectations"] = _expectations(scenario, facts, statuses)
    if facilitator:
        state["faults"] = _faults(scenario, events)
        state.setdefault("expectations", _expectations(scenario, None, []))
    if tabletop:
        state["exercise"] = exercise_state(scenario, events, facilitator=facilitator, roles=mine, statuses=statuses)
    if training:
        state["training"] = training_state(scenario, events, now, viewer=viewer, facilitator=facilitator)
    return state


def _paused(events: Sequence[Event[Payload]]) -> bool:
    paused = False
    for e in events:
        if isinstance(e.data, ClockPaused):
            paused = True
        elif isinstance(e.data, ClockResumed):
            paused = False
    return paused


def _role_names(scenario: Scenario, roles: dict[str, str]) -> list[str]:
    names = list(scenario.roles)
    return names + sorted(r for r in roles if r not in names)


def _people(events: Sequence[Event[Payload]], invited: Sequence[str], roles: dict[str, str]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}

    def person(name: str) -> dict[str, Any]:
        return seen.setdefault(name, {"name": name, "joined": False, "revoked": False, "invited": False, "roles": []})

    for e in events:
        d = e.data
        if isinstance(d, ResponderJoined) and d.person:
            person(d.person).update(joined=True, revoked=False)
        elif isinstance(d, ResponderRevoked) and d.person:
            person(d.person)["revoked"] = True
        elif isinstance(d, RoleAssigned) and d.person:
            person(d.person)
    for name in invited:
        person(name)["invited"] = True
    for role, who in roles.items():
        person(who)["roles"].append(role)
    for p in seen.values():
        p["roles"].sort()
    return sorted(seen.values(), key=lambda p: p["name"].lower())


def _first(facts: Facts, *names: str, after_window: bool = True) -> Action | None:
    return next((a for a in facts.actions if a.action in names and not a.vendor  # a vendor's automation: nobody's
                 and (not after_window or a.t >= facts.window_t - EPS)), None)


def _incident(facts: Facts) -> dict[str, Any]:
    actions = events_of(facts.events, ActionRecorded)
    marks = [a for a in actions if a.data.action in ("set_severity", "declare_incident") and a.data.severity]
    ack, declared = _first(facts, "acknowledge"), _first(facts, "declare_incident")
    updates = [a for a in actions if a.data.action == "post_update"]
    told = next((a for a in actions if a.data.action == "notify_executives"
                 or (a.data.action == "post_update" and a.data.audience == "executive")), None)
    detection = facts.detection.data if facts.detection is not None else None
    return {
        "detected_t": facts.detection.t if facts.detection else None,
        "detected_via": detection.via if isinstance(detection, DetectionRecorded) else None,
        "acknowledged_t": ack.t if ack else None,
        "acknowledged_by": ack.author if ack else None,
        "declared_t": declared.t if declared else None,
        "severity": marks[-1].data.severity if marks else None,
        "severity_t": marks[0].t if marks else None,
        "executives_t": told.t if told else None,
        "last_update_t": updates[-1].t if updates else None,
        "updates": len(updates),
        "resolved_t": facts.resolved.t if facts.resolved else None,
    }


def _countdowns(statuses: Sequence[StepStatus], policy: SeverityPolicy, incident: dict[str, Any], facilitator: bool,
                live: bool, *, steps: bool = True) -> list[dict[str, Any]]:
    """Open deadlines as drill offsets (the page counts down to them); ``steps=False``: the policy's only."""
    if not live:
        return []
    out: list[dict[str, Any]] = []
    pending = [s for s in statuses if s.deadline_t is not None and s.done_t is None and s.verdict in (None, "missed")]
    if not steps:
        pending = []
    if facilitator:
        for s in pending:
            role = f" ({s.step.role})" if s.step.role else ""
            out.append({"id": f"step:{s.id}", "kind": "step", "label": f"{s.id}: {describe(s.step)}{role}",
                        "due_t": s.deadline_t})
    elif pending:
        nxt = min(pending, key=lambda s: s.deadline_t or 0.0)
        out.append({"id": "step", "kind": "step", "label": "next expected step", "due_t": nxt.deadline_t})
    declared: Severity | None = incident["severity"]
    level = policy.levels.get(declared) if declared is not None else None
    start = incident["detected_t"] if incident["detected_t"] is not None else incident["declared_t"]
    if level is not None and start is not None and incident["resolved_t"] is None:
        sev = incident["severity"]
        if level.update_every:
            last = incident["last_update_t"]
            base = max(start, last) if last is not None else start
            out.append({"id": "update", "kind": "policy", "label": f"next status update ({sev} policy)",
                        "due_t": base + level.update_every})
        exec_start = incident["declared_t"] if incident["declared_t"] is not None else start
        if level.executives_within is not None and incident["executives_t"] is None:
            out.append({"id": "executives", "kind": "policy", "label": f"notify executives ({sev} policy)",
                        "due_t": exec_start + level.executives_within})
    out.sort(key=lambda c: c["due_t"])
    return [{**c, "due_t": round(c["due_t"], 3)} for c in out]


def _expectations(scenario: Scenario, facts: Facts | None, statuses: Sequence[StepStatus]) -> dict[str, Any]:
    inj = facts.injection.t if facts is not None and facts.injection else None
    return {
        "severity": scenario.severity,
        "detection_within": scenario.detection.within,
        "detection_deadline_t": None if inj is None else inj + scenario.detection.within,
        "recovery_deadline_t": None if inj is None else inj + scenario.recovery.within,
        "signals": [s.name or s.alert.alertname for s in scenario.detection.signals],
        "steps": [
            {"id": s.id, "action": describe(s.step), "role": s.step.role, "after": s.step.after, "within": s.step.within,
             "every": s.step.every, "anchor_t": s.anchor_t, "deadline_t": s.deadline_t, "done_t": s.done_t,
             "verdict": s.verdict, "author": s.author, "note": s.note}
            for s in statuses
        ] if statuses else [
            {"id": st.id, "action": describe(st), "role": st.role, "after": st.after, "within": st.within, "every": st.every,
             "anchor_t": None, "deadline_t": None, "done_t": None, "verdict": None, "author": None, "note": ""}
            for st in scenario.response
        ],
    }  # fmt: skip


def _faults(scenario: Scenario, events: Sequence[Event[Payload]]) -> list[dict[str, Any]]:
    out = []
    for f in scenario.faults:
        last: dict[type[Payload], Event[Payload]] = {}  # the last event of each fault kind for this fault
        for e in events:
            if isinstance(e.data, FAULT_KINDS) and e.data.fault == f.id:
                last[type(e.data)] = e
        status = ("rolled_back" if FaultRolledBack in last else "rollback_failed" if FaultRollbackFailed in last
                  else "ended_no_rollback" if FaultNotRolledBack in last
                  else "failed" if FaultInjectionFailed in last else "injected" if FaultInjected in last
                  else "skipped" if FaultSkipped in last else "scheduled")
        injected = last.get(FaultInjected)
        out.append({"id": f.id, "description": f.description or "", "at": f.at, "status": status,
                    "injected_t": injected.t if injected else None})
    return out


def fault_status(scenario: Scenario, events: Sequence[Event[Payload]], fault_id: str) -> str | None:
    """``scheduled``, ``injected``, ... for one fault; None if the scenario has no such fault."""
    return next((f["status"] for f in _faults(scenario, events) if f["id"] == fault_id), None)


def _runbooks(scenario: Scenario, events: Sequence[Event[Payload]]) -> list[dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in scenario.runbooks}
    for e in events:
        d = e.data
        if isinstance(d, ActionRecorded) and d.action == "runbook_started":
            runs.setdefault(str(d.runbook), []).append(
                {"by": d.author, "role": d.role, "started_t": e.t, "finished_t": None, "ok": None,
                 "error": None, "activities": []})
        elif isinstance(d, ActivityRan) and d.phase == "runbook":
            open_run = _open_run(runs.get(d.owner, []))
            if open_run is not None:
                open_run["activities"].append({"name": d.name, "status": d.status,
                                               "output": one_line(d.output, 160), "error": d.error})
        elif isinstance(d, ActionRecorded) and d.action == "runbook_finished":
            open_run = _open_run(runs.get(str(d.runbook), []))
            if open_run is not None:
                open_run.update(finished_t=e.t, ok=bool(d.ok), error=d.error)
    return [{"name": name, "description": (scenario.runbooks[name].description or "") if name in scenario.runbooks else "",
             "runs": items} for name, items in runs.items()]


def _open_run(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in items if r["finished_t"] is None), None)
