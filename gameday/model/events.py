"""Journal events: immutable facts, past tense, each with a sequence number and two times.

A journal line is an :class:`Event`: the envelope (``v``, ``seq``, ``kind``, ``wall``, ``t``,
``source``) around one typed payload in ``data``. Each kind of fact is its own frozen model
below, named for the kind (``FaultInjected``, ``AlertReceived``, ...); :data:`PAYLOADS` maps
each kind to its model and :func:`parse_event` validates a line into the right one. A consumer
reads attributes (``event.data.fault``), never dict keys; ``Journal.of(FaultInjected)`` gives
``Event[FaultInjected]`` values a type checker understands.

``wall`` is UTC wall time; ``t`` is the monotonic offset in seconds from drill start.
Durations are computed from events, never stored in them.

Compatibility: the line format is version 1 (``v``). Fields added to a kind get defaults, so
journals written by earlier releases of version 1 still read; a future version 2 keeps a
reader for version 1. The JSON Schema of a line is :func:`journal_schema` (``gameday schema
--journal``, ``schema/journal.schema.json``).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SerializeAsAny, model_validator

from gameday.model.eventbase import Part as _Part
from gameday.model.eventbase import Payload
from gameday.model.exercise_events import (  # the exercise kinds (tabletop, training): re-exported, see pyproject
    DecisionRecorded,
    EvaluatorNoted,
    HotWashNoted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    ObjectiveRated,
    PaceSet,
    ShadowCleared,
)
from gameday.model.load_events import (  # the load kinds: re-exported, see pyproject
    Figures,  # noqa: F401 - re-exported with the kinds
    LoadError,  # noqa: F401
    LoadFailed,
    LoadStage,  # noqa: F401
    LoadStarted,
    LoadStats,
    LoadStopped,
    Totals,  # noqa: F401
)
from gameday.model.policy import SeverityPolicy
from gameday.model.scenario import Scenario
from gameday.model.terms import Audience, Severity
from gameday.model.training_events import (  # the training kinds: re-exported, see pyproject
    CommandHandedOver,
    CommandTaken,
    HintGiven,
    ObjectionsCalled,
    ObjectionVoiced,
    PersonaRow,  # noqa: F401 - re-exported with the kinds
    StateChanged,
    TaskAssigned,
    TaskReported,
    TrainingStarted,
)

SCHEMA_VERSION = 1


Phase = Literal["preflight", "baseline", "inject", "observe", "recover", "rollback", "report"]
RollbackReason = Literal["end", "abort", "signal", "max_duration", "recover", "error", "cleared"]


# ------------------------------------------------------------------------------ drill
class TargetDescription(_Part):
    """How the journal describes the target: the embedded demo, or an external system."""

    kind: Literal["demo", "external"] | None = None
    url: str | None = None
    control_url: str | None = None
    processes: list[str] | None = None


class DrillStarted(Payload):
    """Always the first event: the scenario and the (already scaled) policy the drill ran with."""

    drill_id: str
    mode: Literal["gameday", "tabletop", "ci", "training"]
    scenario: Scenario
    scenario_path: str | None = None
    policy: SeverityPolicy
    target: TargetDescription | None = None
    webhook_url: str | None = None
    gameday_version: str | None = None
    roles_declared: bool = Field(
        True, description="the scenario file named its roles (`roles:`); false: the default roles applied. "
        "Taken from the scenario when not given (a journal without it: the scenario's roles as written)")

    @model_validator(mode="before")
    @classmethod
    def _roles_declared(cls, data: Any) -> Any:
        """Whether ``roles:`` was written in the scenario file (pydantic's ``model_fields_set``), kept
        in the journal because the journal holds the scenario with every default filled in."""
        if isinstance(data, dict) and "roles_declared" not in data:
            sc = data.get("scenario")
            declared = "roles" in sc.model_fields_set if isinstance(sc, Scenario) else not isinstance(sc, dict) or "roles" in sc
            data = {**data, "roles_declared": declared}
        return data


class PhaseChanged(Payload):
    phase: Phase


class CheckResult(_Part):
    check: str
    ok: bool
    detail: str = ""


class SteadyStateChecked(Payload):
    ok: bool
    stage: Literal["preflight", "final"]
    checks: list[CheckResult] = Field(default_factory=list)


class DrillAborted(Payload):
    reason: str


class ProductionAllowed(Payload):
    """The drill was run with ``--allow-production`` against what the scenario declares as production
    (``targets``: ``target``, ``target.containers.NAME``); every report says so."""

    targets: list[str] = Field(default_factory=list)


class StopConditionMet(Payload):
    """A stop condition (``abort.when[condition]``) held: the drill aborts and rolls every fault back. ``reading``
    is what was read, in words; ``value`` and ``threshold`` the figures; ``since_t`` when it began to hold."""

    condition: int
    what: str
    reading: str
    value: float | None = None
    threshold: float | None = None
    since_t: float


class DrillEnded(Payload):
    outcome: Literal["completed", "aborted"]
    reason: str | None = None


class ClockPaused(Payload):
    by: str


class ClockResumed(Payload):
    by: str


class NoteAdded(Payload):
    text: str


# ------------------------------------------------------------------------------ faults
class FaultInjected(Payload):
    fault: str
    kind: Literal["experiment", "activities", "process", "docker", "network"]
    scheduled_t: float | None = None


class FaultInjectionFailed(Payload):
    fault: str
    error: str | None = None


class FaultRolledBack(Payload):
    fault: str
    reason: RollbackReason


class FaultRollbackFailed(Payload):
    fault: str
    error: str | None = None


class FaultSkipped(Payload):
    fault: str
    by: str


HypothesisStage = Literal["before", "after"]


class FaultHypothesisChecked(Payload):
    """The fault's own steady-state hypothesis (its Chaos Toolkit experiment's), probed ``before``
    injecting (when it does not hold, the fault is not injected and the drill aborts) or ``after``
    its rollback. ``probes``: each probe's verdict, ``detail`` its error or output."""

    fault: str
    stage: HypothesisStage
    ok: bool
    title: str = ""
    probes: list[CheckResult] = Field(default_factory=list)


class FaultNotRolledBack(Payload):
    """A fault with nothing to undo (``rollback: {none: ...}``) reached its rollback: nothing was run.
    ``reason`` is when (as for ``FaultRolledBack``), ``why`` the scenario's reason."""

    fault: str
    reason: RollbackReason
    why: str


class FaultForgotten(Payload):
    """``gameday recover --forget``: a person struck the fault off the fault ledger without rolling it
    back (restored by hand); appended by ``recover`` to the drill's journal when it is reachable."""

    fault: str
    by: str
    reason: str
    status: str = Field(description="the ledger entry's status when forgotten (injected, rollback_failed, ...)")
    error: str | None = Field(None, description="the entry's last rollback error")


class ActivityRan(Payload):
    """One activity of a fault's method or rollback, or of a runbook."""

    owner: str = Field(description="fault id or runbook name")
    name: str
    phase: Literal["method", "rollback", "runbook"]
    provider: str
    status: Literal["succeeded", "failed"]
    started_t: float
    duration_s: float
    output: str = ""
    error: str | None = None


# ------------------------------------------------------------------------------ impact (ground truth)
class ImpactStarted(Payload):
    """The conductor's own probes saw the steady state fail: ground truth, never detection."""

    check: str
    detail: str = ""


class ImpactEnded(Payload):
    check: str


class RecoveryObserved(Payload):
    checks: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------ detection
class AlertRow(_Part):
    """One alert of a delivery: what matching saw, and the alert's own timing and identity from its payload
    (``starts_at``/``ends_at`` in UTC with the sender's fraction digits; None when the payload had none)."""

    status: str
    alertname: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    matched: bool = False
    signal: str | None = None
    starts_at: str | None = Field(None, description="the monitoring's start time (startsAt...), UTC")
    ends_at: str | None = Field(None, description="the monitoring's end time (endsAt), UTC; None while firing")
    fingerprint: str | None = Field(None, description="the sender's identity of the alert (fingerprint, dedup key)")
    source_url: str | None = Field(None, description="where the sender shows the alert (generatorURL, html_url)")


class AlertReceived(Payload):
    """One webhook delivery (refused or malformed ones too, with ``error``); ``payload`` is the body as received."""

    format: str
    matched: bool
    signal: str | None = None
    error: str | None = None
    alerts: list[AlertRow] = Field(default_factory=list)
    payload: JsonValue = None


class DetectionRecorded(Payload):
    via: Literal["alert", "person"]
    signal: str | None = None
    alertname: str | None = None
    by: str | None = None
    alert_seq: int | None = None


# ------------------------------------------------------------------------------ people
class RoleAssigned(Payload):
    person: str
    role: str
    by: str | None = None


RecordedAction = Literal[
    "acknowledge", "declare_incident", "set_severity", "notify_executives", "post_update", "mark_detected",
    "note", "resolved", "runbook_started", "runbook_finished",
]


class ActionRecorded(Payload):
    """Something a responder (a person, a script, automation or a vendor's webhook) did or said."""

    action: RecordedAction
    author: str
    role: str | None = None
    severity: Severity | None = None
    audience: Audience | None = None
    text: str | None = None
    runbook: str | None = None
    ok: bool | None = None
    error: str | None = None
    via: str | None = Field(None, description="the webhook format the action came through (a PagerDuty ack)")
    alert_seq: int | None = None


class ActionDetails(_Part):
    """What a responder's action carries besides who did it: the input side of ``ActionRecorded``."""

    severity: Severity | None = None
    audience: Audience | None = None
    text: str | None = None
    runbook: str | None = None
    via: str | None = None
    alert_seq: int | None = None


class StepMatched(Payload):
    """A step seen done live (the live view's; the scorecard recomputes every verdict)."""

    step: str
    action_seq: int | None = None
    verdict: str


class ResponderJoined(Payload):
    person: str
    role: str | None = None


class ResponderRevoked(Payload):
    person: str
    by: str


class RespondersNotLoaded(Payload):
    """A ci drill started without a responder script (no ``responders:`` in the scenario, no
    ``--responders``): no one will do the response steps that no automated runbook covers."""

    steps: list[str] = Field(default_factory=list, description="ids of the response steps no one will do")


# ------------------------------------------------------------------------------ notify, monitoring
class _Delivery(Payload):
    """A status update's delivery to one chat channel (never its URL)."""

    channel: str
    name: str
    action_seq: int | None = None
    audience: Audience | None = None
    status: int | None = None
    attempts: int | None = None
    elapsed_s: float | None = None


class NotificationSent(_Delivery):
    pass


class NotificationFailed(_Delivery):
    error: str


class SilenceMatcher(_Part):
    name: str
    value: str
    isRegex: bool = False  # noqa: N815 - Alertmanager's API field name
    isEqual: bool = True  # noqa: N815 - Alertmanager's API field name


class SilenceCreated(Payload):
    id: str
    matchers: list[SilenceMatcher] = Field(default_factory=list)
    alertmanager: str | None = None
    text: str | None = None


class SilenceRemoved(Payload):
    id: str
    matchers: list[SilenceMatcher] = Field(default_factory=list)
    alertmanager: str | None = None


AnyPayload = Union[  # noqa: UP007 - the members are listed once, here
    DrillStarted, PhaseChanged, SteadyStateChecked, FaultInjected, FaultInjectionFailed, FaultRolledBack,
    FaultRollbackFailed, ActivityRan, ImpactStarted, ImpactEnded, AlertReceived, DetectionRecorded, RoleAssigned,
    ActionRecorded, StepMatched, RecoveryObserved, NoteAdded, DrillAborted, StopConditionMet, ProductionAllowed,
    DrillEnded, LoadStarted, LoadStats,
    LoadFailed, LoadStopped, NotificationSent, NotificationFailed, FaultSkipped, ClockPaused, ClockResumed,
    ResponderJoined, ResponderRevoked, SilenceCreated, SilenceRemoved, RespondersNotLoaded,
    FaultHypothesisChecked, FaultNotRolledBack, FaultForgotten,
    PaceSet, InjectPublished, InjectHeld, InjectSkipped, DecisionRecorded, EvaluatorNoted, HotWashNoted,
    ObjectiveRated, ShadowCleared,
    TrainingStarted, CommandTaken, TaskAssigned, TaskReported, ObjectionsCalled, ObjectionVoiced, CommandHandedOver,
    HintGiven, StateChanged,
]
#: every event kind's payload model, by kind name
PAYLOADS: dict[str, type[Payload]] = {cls.KIND: cls for cls in AnyPayload.__args__}  # type: ignore[attr-defined]
EVENT_KINDS: tuple[str, ...] = tuple(PAYLOADS)

P_co = TypeVar("P_co", bound=Payload, covariant=True)


class Event(BaseModel, Generic[P_co]):  # noqa: UP046 - an explicit covariant TypeVar: Event[FaultInjected] is an Event[Payload]
    """One line of a journal: the envelope and its typed payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = Field(SCHEMA_VERSION, description="line format version")
    seq: int = Field(ge=0, description="sequence number, from 0, no gaps")
    kind: str = Field(description="the payload's kind")
    wall: str = Field(description="UTC wall time, ISO 8601 with microseconds and 'Z'")
    t: float = Field(description="monotonic seconds since drill start")
    source: str = Field(description="conductor, injector, observer, webhook, automation, or a responder's name")
    data: SerializeAsAny[P_co]  # dumped as the payload's own kind, not as the bound
