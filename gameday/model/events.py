"""Journal events: immutable facts, past tense, each with a sequence number and two times.

``wall`` is UTC wall time; ``t`` is the monotonic offset in seconds from drill start.
Durations are computed from events, never stored in them.

What ``data`` holds, by kind (the contract between the conductor, the responders and
the analysis; keys not listed may be added, listed keys keep their meaning):

``DrillStarted``        drill_id, mode, scenario (the scenario as JSON, by alias), scenario_path,
                        policy (the SeverityPolicy applied, already scaled, as JSON), target (dict),
                        gameday_version
``PhaseChanged``        phase: preflight | baseline | inject | observe | recover | rollback | report
``SteadyStateChecked``  ok (bool), stage: preflight | final, checks: [{check, ok, detail}]
``FaultInjected``       fault (id), kind: experiment | activities | process
``FaultInjectionFailed`` fault, error
``FaultRolledBack``     fault, reason: end | abort | signal | max_duration | recover | error
``FaultRollbackFailed`` fault, error
``ActivityRan``         owner (fault id or runbook name), phase: method | rollback | runbook,
                        name, provider, status: succeeded | failed, started_t, duration_s, output, error
``ImpactStarted``       check, detail           (conductor's own probes: ground truth, never detection)
``ImpactEnded``         check
``AlertReceived``       one per webhook delivery: format (alertmanager, ...), matched (bool: any alert
                        matched a signal), signal (first matching signal name or None), error (for a
                        refused/malformed delivery, else None), alerts: [{status, alertname, labels,
                        matched, signal}], payload (raw body as received: parsed JSON, or text)
``DetectionRecorded``   via: alert | person, signal, alertname, by (person), alert_seq
``RoleAssigned``        person, role, by
``ActionRecorded``      action, author, role, and by action:
                          acknowledge | declare_incident | mark_detected | resolved: (nothing more)
                          set_severity: severity
                          notify_executives: text
                          post_update: audience (internal | external | executive), text
                          runbook_started: runbook
                          runbook_finished: runbook, ok (bool), error
                          note: text
``StepMatched``         step, action_seq, verdict (as seen live; the scorecard recomputes)
``RecoveryObserved``    checks ([names])
``DrillAborted``        reason
``DrillEnded``          outcome: completed | aborted, reason
``LoadStarted``         tool (locust), users, spawn_rate, workers, host, locustfile, stages, priority,
                        cpus (where locust runs: a CPU list like ``1``, or ``all``), cpus_setting (the
                        scenario's load.cpus), cpus_note (one line for people),
                        business (the effective business context: the scenario's, else gameday.yaml's,
                        or None), unknown_customer_facing, interval (s), pids {role: pid}, files
``LoadStats``           one per stats interval (about 1 s), journaled as it arrives: t_from, t_to (drill
                        offsets), users_from, users (running at each end), names {request name:
                        {requests, failures, p50, p95, p99, max (ms), hist {ms: count}}} and total
                        {requests, failures, p50, p95, p99, max} — the interval's own figures, not
                        cumulative; hist is locust's rounded response times, so window percentiles
                        are exact (the journal alone reproduces the impact figures)
``LoadFailed``          error, stage (start | run), role, exit_code (the load tool could not start or
                        died: impact is unknown from the last LoadStats until LoadStarted again)
``LoadStopped``         reason (rollback | end), totals {name: {requests, failures}} (locust's own final
                        figures), totals_from, errors [{name, method, error, occurrences}], exit_codes
``NotificationSent``    channel (slack | teams | generic), name, action_seq
``NotificationFailed``  channel, name, action_seq, error
``FaultSkipped``        fault, by
``ClockPaused`` / ``ClockResumed``  by
``ResponderJoined``     person, role (never the token)
``ResponderRevoked``    person, by
``SilenceCreated`` / ``SilenceRemoved``  id, matchers
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

EventKind = Literal[
    "DrillStarted",
    "PhaseChanged",
    "SteadyStateChecked",
    "FaultInjected",
    "FaultInjectionFailed",
    "FaultRolledBack",
    "FaultRollbackFailed",
    "ActivityRan",
    "ImpactStarted",
    "ImpactEnded",
    "AlertReceived",
    "DetectionRecorded",
    "RoleAssigned",
    "ActionRecorded",
    "StepMatched",
    "RecoveryObserved",
    "NoteAdded",
    "DrillAborted",
    "DrillEnded",
    "LoadStarted",
    "LoadStats",
    "LoadFailed",
    "LoadStopped",
    "NotificationSent",
    "NotificationFailed",
    "FaultSkipped",
    "ClockPaused",
    "ClockResumed",
    "ResponderJoined",
    "ResponderRevoked",
    "SilenceCreated",
    "SilenceRemoved",
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]

Phase = Literal["preflight", "baseline", "inject", "observe", "recover", "rollback", "report"]


class Event(BaseModel):
    """One line of a journal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = Field(SCHEMA_VERSION, description="event schema version")
    seq: int = Field(ge=0, description="sequence number, from 0, no gaps")
    kind: EventKind
    wall: str = Field(description="UTC wall time, ISO 8601 with microseconds and 'Z'")
    t: float = Field(description="monotonic seconds since drill start")
    source: str = Field(description="conductor, injector, observer, webhook, automation, or a responder's name")
    data: dict[str, Any] = Field(default_factory=dict)
