"""The facts of a training drill the incident commander's rubric is judged on (pure, from one journal).

:func:`training_facts` reads them once: the trainee, the scenario and its (scaled) severity policy,
the anchors (detection, first fault, recovery, declaration), the trainee's command and when it left
them, the simulation's state changes and who held which role when. The right severity over time and
the recovery anchor are :mod:`gameday.analysis.severity`'s (one notion for the rubric and the
scorecard): :meth:`TrainingFacts.right_severity` is the severity right at a moment.
:func:`describe` words any event as an item's evidence (people's text quoted, unescaped: the
reports escape it). Texts speak only of the scenario clock (``+6m00s``), never the wall clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gameday.analysis.matching import VENDOR_ACTORS
from gameday.analysis.severity import SeverityPoint, recovery_event, right_severity_at, severity_changes, severity_timeline
from gameday.analysis.timeline import one_line
from gameday.errors import JournalError
from gameday.journal import first_of, is_kind
from gameday.model.duration import human
from gameday.model.events import (
    ActionRecorded,
    CommandHandedOver,
    CommandTaken,
    DecisionRecorded,
    DetectionRecorded,
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    HintGiven,
    ObjectionsCalled,
    ObjectionVoiced,
    Payload,
    RecoveryObserved,
    RoleAssigned,
    StateChanged,
    TaskAssigned,
    TaskReported,
    TrainingStarted,
)
from gameday.model.policy import SeverityPolicy
from gameday.model.roles import RoleBook
from gameday.model.rubric import Evidence
from gameday.model.scenario import Scenario
from gameday.model.terms import IC, Severity, format_offset

#: Tolerance for comparing journal times (written with microsecond resolution).
EPS = 1e-6
#: How long after a change of the right severity the severity must be set again; how long before a
#: decision its call for strong objections may come.
RESET_WITHIN = 600.0
OBJECTIONS_BEFORE = 900.0
QUOTE_LIMIT = 160


def quote(text: str | None, limit: int = QUOTE_LIMIT) -> str:
    """People's words as data: one line, at most ``limit`` characters, in double quotes."""
    return f"\u201c{one_line(text or '', limit)}\u201d"


def off(t: float | None) -> str:
    """A moment on the scenario clock: ``+6m00s``."""
    return format_offset(t)


def count(n: int, word: str) -> str:
    """``'1 decision'``, ``'3 decisions'``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def role_words(role: str) -> str:
    """``'tech-lead'`` -> ``'tech lead'``."""
    return role.replace("-", " ").replace("_", " ")


@dataclass(frozen=True)
class TrainingFacts:
    """What the rubric's items read from one training journal (every event in journal order)."""

    path: str
    events: Sequence[Event[Payload]]
    drill: Event[DrillStarted]
    training: Event[TrainingStarted]
    scenario: Scenario
    policy: SeverityPolicy
    trainee: str
    detection: Event[DetectionRecorded] | None
    injection: Event[FaultInjected] | None
    recovery: Event[Payload] | None
    declared: Event[ActionRecorded] | None
    command: Event[CommandTaken] | None
    ended: Event[DrillEnded] | None
    end_t: float
    actions: list[Event[ActionRecorded]] = field(default_factory=list)
    changes: list[Event[StateChanged]] = field(default_factory=list)
    book: RoleBook = field(default_factory=lambda: RoleBook([]))
    timeline: list[SeverityPoint] = field(default_factory=list)
    #: the event at which command first left the trainee (a handover, or the role given to someone else); None: never
    gone: Event[Payload] | None = None

    # ------------------------------------------------------------ anchors
    def alarm(self) -> tuple[float, str, Event[Payload] | None]:
        """When the incident became known: detection, else the first fault, else drill start (t, words, event)."""
        if self.detection is not None:
            return self.detection.t, "detection", self.detection
        if self.injection is not None:
            return self.injection.t, "the first fault", self.injection
        return 0.0, "drill start", None

    def opened(self) -> Event[Payload] | None:
        """The incident's opening: the first of the declaration and detection (None: never opened)."""
        known = [e for e in (self.declared, self.detection) if e is not None]
        return min(known, key=lambda e: e.seq) if known else None

    def closed_t(self, opened_t: float) -> float:
        """When the incident closed: the first ``resolved`` at or after it opened, else the drill's end."""
        done = next((a.t for a in self.actions if a.data.action == "resolved" and a.data.author not in VENDOR_ACTORS
                     and a.t >= opened_t - EPS), None)
        return max(opened_t, done if done is not None else self.end_t)

    # ------------------------------------------------------------ the trainee's command
    @property
    def until_t(self) -> float:
        """The end of what the trainee answers for: when command first left them, else the drill's end."""
        return min(self.end_t, self.gone.t) if self.gone is not None else self.end_t

    def until_words(self) -> str:
        """``'the drill ended'``, or ``'command passed from Dana (+20m00s)'``."""
        if self.gone is None or self.gone.t >= self.end_t:
            return "the drill ended"
        return f"command passed from {self.trainee} ({off(self.gone.t)})"

    def in_command(self, e: Event[Payload]) -> bool:
        """The event came while the trainee still held command (before it first left them)."""
        return self.gone is None or e.seq < self.gone.seq

    # ------------------------------------------------------------ severity
    def right_severity(self, before_seq: int) -> Severity:
        """The severity that was right just before event ``before_seq``."""
        return right_severity_at(self.timeline, 0.0, before_seq)

    def severity_after(self, change: Event[StateChanged]) -> Severity:
        """The severity that was right once ``change`` happened."""
        return self.right_severity(change.seq + 1)

    def severity_changes(self, after_t: float, until_t: float) -> list[Event[StateChanged]]:
        """The state changes that changed the right severity, in [after_t, until_t]."""
        return [p.change for p in severity_changes(self.timeline)
                if p.change is not None and after_t - EPS <= p.t <= until_t + EPS]

    # ------------------------------------------------------------ people
    def persona(self, role: str) -> str | None:
        """The simulated responder suited to ``role`` (TrainingStarted's responders), if any."""
        return next((p.name for p in self.training.data.responders if p.role == role), None)

    def holder(self, role: str, before_seq: int | None = None) -> str | None:
        """Who held ``role`` just before ``before_seq`` (None: after every event)."""
        return self.book.current(before_seq).get(role)

    def someone(self, role: str, before_seq: int | None = None) -> str:
        """``'the tech lead (Priya)'``: the role's holder then (not the trainee), else its persona, else just the role."""
        name = self.holder(role, before_seq)
        if name is None or name == self.trainee:
            name = self.persona(role)
        return f"the {role_words(role)}" + (f" ({name})" if name else "")


def training_facts(events: Sequence[Event[Payload]], path: str = "journal") -> TrainingFacts:
    """The facts of a training journal; :class:`~gameday.errors.JournalError` (line 1) when it is not one."""
    first = events[0] if events else None
    if first is None or not isinstance(first.data, DrillStarted):
        raise JournalError(path, 1, "a journal begins with DrillStarted")
    drill = first_of(events, DrillStarted)
    assert drill is not None  # checked just above
    training = first_of(events, TrainingStarted)
    if training is None:
        raise JournalError(path, 1, f"the incident commander's rubric scores training drills; this drill's mode is "
                                    f"{drill.data.mode} and its journal has no TrainingStarted")
    trainee = training.data.trainee
    injection = first_of(events, FaultInjected)
    actions = [e for e in events if is_kind(e, ActionRecorded)]
    changes: list[Event[StateChanged]] = [e for e in events if is_kind(e, StateChanged)]
    ended = first_of(events, DrillEnded)
    book = RoleBook.from_events(events)
    return TrainingFacts(
        path=path, events=events, drill=drill, training=training, scenario=drill.data.scenario, policy=drill.data.policy,
        trainee=trainee, detection=first_of(events, DetectionRecorded), injection=injection,
        recovery=recovery_event(events),
        declared=next((a for a in actions if a.data.action == "declare_incident"), None),
        command=next((e for e in events if is_kind(e, CommandTaken) and e.data.person == trainee), None),
        ended=ended, end_t=ended.t if ended is not None else events[-1].t, actions=actions, changes=changes,
        book=book, timeline=severity_timeline(drill.data.scenario, events), gone=_command_left(events, trainee, book),
    )  # fmt: skip


def _command_left(events: Sequence[Event[Payload]], trainee: str, book: RoleBook) -> Event[Payload] | None:
    """The first event at which command left the trainee: their handover, or the incident commander's role given
    to someone else while they held it."""
    for e in events:
        d = e.data
        if isinstance(d, CommandHandedOver) and d.outgoing == trainee:
            return e
        if isinstance(d, RoleAssigned) and d.role == IC and d.person != trainee and book.holder(IC, e.seq) == trainee:
            return e
    return None


# ---------------------------------------------------------------- evidence


def evidence(e: Event[Payload]) -> Evidence:
    """One event as an item's evidence."""
    return Evidence(seq=e.seq, t=round(e.t, 3), kind=e.kind, text=describe(e))


def evidence_of(events: Sequence[Event[Payload] | None]) -> list[Evidence]:
    """Events as evidence, once each, in journal order (None left out)."""
    seen = {e.seq: e for e in events if e is not None}
    return [evidence(seen[s]) for s in sorted(seen)]


_ACTIONS = {"acknowledge": "acknowledged the page", "declare_incident": "declared an incident",
            "notify_executives": "notified the executives", "mark_detected": "marked the incident detected",
            "resolved": "declared the incident resolved", "note": "noted"}  # fmt: skip


def describe(e: Event[Payload]) -> str:
    """What an event shows, in words (people's text quoted, unescaped)."""
    d = e.data
    if isinstance(d, ActionRecorded):
        return _action(d)
    if isinstance(d, StateChanged):
        text = f"the simulation moved from {d.from_state or 'its start'} to {d.to_state} ({one_line(d.trigger, 120)})"
        text += f"; right severity {d.severity}" if d.severity and d.impact and not d.recovered else ""
        return text + (f"; everyone was told {quote(d.message)}" if d.message.strip() else "")
    if isinstance(d, TaskAssigned):
        box = f"time box {human(d.within)}" if d.within is not None else "no time box"
        what = f"runbook {d.runbook}" if d.runbook else f"{d.audience} update" if d.audience else d.kind.replace("_", " ")
        text = f" {quote(d.text)}" if d.text.strip() else ""
        return f"{d.by} gave task {d.task} ({what}) to {d.to or 'no one'}{text}, {box}"
    if isinstance(d, ObjectionsCalled):
        box = f"time box {human(d.within)}" if d.within is not None else "no time box"
        return f"{d.by} asked for strong objections to {quote(d.proposal)}, {box}"
    if isinstance(d, DecisionRecorded):
        by = d.decided_by if d.decided_by == d.author else f"{d.decided_by} (recorded by {d.author})"
        return f"{by} decided {quote(d.decision)}"
    if isinstance(d, CommandHandedOver):
        briefing = f"briefing {quote(d.briefing)}" if d.briefing.strip() else "no briefing"
        return f"{d.outgoing} handed command to {d.incoming}, {briefing}" + ("" if d.acknowledged else " (not acknowledged)")
    return _other(d)


def _action(d: ActionRecorded) -> str:
    who = d.author + (f" ({role_words(d.role)})" if d.role else "")
    if d.action == "set_severity":
        what = f"set the severity to {d.severity}"
    elif d.action == "post_update":
        what = f"posted an {d.audience} update" if d.audience else "posted an update"
    elif d.action in ("runbook_started", "runbook_finished"):
        verb = "started" if d.action == "runbook_started" else "finished"
        what = f"{verb} the {d.runbook or 'unnamed'} runbook" + (" (it failed)" if d.ok is False else "")
    else:
        what = _ACTIONS.get(d.action, d.action.replace("_", " "))
        if d.action == "declare_incident" and d.severity:
            what += f" ({d.severity})"
    return f"{who} {what}" + (f": {quote(d.text)}" if d.text and d.text.strip() else "")


def _other(d: Payload) -> str:
    if isinstance(d, DetectionRecorded):
        via = f"the alert {d.alertname or d.signal}" if d.via == "alert" and (d.alertname or d.signal) else d.via
        return f"the incident was detected (via {via})" + (f" by {d.by}" if d.by else "")
    if isinstance(d, FaultInjected):
        return f"the fault {d.fault} began"
    if isinstance(d, RecoveryObserved):
        return "the steady state held again (recovery observed)"
    if isinstance(d, CommandTaken):
        return f"{d.person} took command" + (f": {quote(d.text)}" if d.text.strip() else "")
    if isinstance(d, RoleAssigned):
        return f"{d.by} gave the {role_words(d.role)} role to {d.person}" if d.by else \
            f"{d.person} was given the {role_words(d.role)} role"
    if isinstance(d, TaskReported):
        return f"{d.by} reported on task {d.task}: {d.status}" + (f", {quote(d.text)}" if d.text.strip() else "")
    if isinstance(d, ObjectionVoiced):
        what = "raised a strong objection" if d.strong else "had no strong objection"
        return f"{d.by} {what} (call {d.call})" + (f": {quote(d.text)}" if d.text.strip() else "")
    if isinstance(d, HintGiven):
        return f"{d.to} took a hint ({d.cost:g} points): {quote(d.text)}"
    if isinstance(d, DrillEnded):
        return f"the drill ended ({d.outcome})"
    if isinstance(d, DrillStarted):
        return "the drill started"
    return d.KIND
