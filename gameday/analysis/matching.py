"""The facts of a journal, and expected steps matched against recorded actions.

Pure functions of journal events: no clock, no I/O. The scorecard calls them on a
finished journal; the live conductor may call :func:`evaluate_steps` on a partial one
with ``now_t`` (seconds since drill start) and gets ``verdict is None`` — *pending* —
for a step that is not done and not yet due, or whose anchor may still happen.

Rules (also in ``docs/scoring.md``):

* **Anchors.** ``start`` is drill start (t=0); ``injection`` the first ``FaultInjected``;
  ``detection`` the first ``DetectionRecorded`` after the first injection (a person's
  detection counts only if ``detection.people_count``); ``recovery`` the first
  ``RecoveryObserved`` after the first injection; a step id is that step's done time.
  An anchor that never happened makes the step ``not_applicable``.
* **Window.** Acting early is never penalised: a step is satisfied by the first
  matching action at or after the first injection (at or after drill start for steps
  anchored on ``start``), even if it precedes its anchor — an ``acknowledge`` before
  the alert fired still counts. Steps anchored on ``recovery`` are the exception: only
  actions at or after recovery count (resolving before recovery is premature; noted).
* **What matches.** Same action name, except: ``runbook`` matches ``runbook_started``
  of the same runbook; ``set_severity`` matches a ``set_severity`` — or a
  ``declare_incident`` carrying ``severity`` — of the expected severity (any, without
  ``expect``); ``post_update`` with ``audience`` matches only that audience;
  ``notify_executives`` also matches a ``post_update`` to the executive audience;
  ``assign_role`` matches a ``RoleAssigned`` (of role ``expect``, if set).
* **Roles.** A step with a ``role`` is still matched when someone else did it, with a
  note. It counts as the right role if the action was recorded with that role, or the
  author held it (by ``RoleAssigned``) at that moment. Automation is never held to roles.
* **Each action satisfies at most one one-shot step of the same action.** Steps are
  matched anchors-first, then in scenario order. Recurring steps count every match.
* **Verdicts.** ``on_time`` if done at or before the deadline (anchor + within), ``late``
  if after, ``missed`` if never done. A step never done whose deadline falls after the
  end of the journal is ``not_applicable`` (the drill ended before it was due).
* **Recurring steps** (``every``): the first occurrence is due by the deadline; then the
  action is due again every ``every`` seconds while the incident is open (until the first
  ``resolved`` action, else the end of the journal). ``on_time`` only if the first was on
  time and every gap between consecutive matches — and from the last one to the close —
  is at most ``every``. The longest gap is reported in the note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from gameday.errors import JournalError
from gameday.journal import first_of, is_kind
from gameday.model.duration import human
from gameday.model.events import (
    ActionRecorded,
    DetectionRecorded,
    DrillAborted,
    DrillEnded,
    Event,
    FaultInjected,
    ImpactStarted,
    Payload,
    RecordedAction,
    RecoveryObserved,
    RoleAssigned,
)
from gameday.model.roles import RoleBook
from gameday.model.scenario import Scenario, Step
from gameday.model.scorecard import StepResult, StepVerdict
from gameday.model.terms import Audience, Severity, format_offset

#: Tolerance for comparing journal times (written with microsecond resolution).
EPS = 1e-6
#: Author or source name of actions taken by automated runbooks and scripted responders.
AUTOMATION = "automation"
#: The names a webhook delivery's action is journaled under when no person did it that we can name: a vendor's
#: own automation (PagerDuty's auto-resolve by a service, an Opsgenie ``System`` action), or a user whose name
#: the names rule refused. No person may take these names. Such an action stays in the journal and the
#: timeline, but it is nobody's: it does no response step and is neither MTTA's acknowledgement nor MTTR's
#: resolution (unlike gameday's own automated runbooks, which do their steps).
VENDOR_ACTORS = frozenset({"alertmanager", "grafana", "pagerduty", "opsgenie", "generic", "webhook"})

def simulated_faults(events: Sequence[Event[Payload]]) -> bool:
    """Every ``FaultInjected`` (at least one) came from the simulator: the faults were a tabletop's
    simulated shadows, and reports say they began and ended, never that they were injected or rolled back."""
    injected = [e for e in events if isinstance(e.data, FaultInjected)]
    return bool(injected) and all(e.source == "simulator" for e in injected)


def r3(x: float | None) -> float | None:
    """Round to 3 decimals (milliseconds), the precision of every time in a scorecard."""
    return None if x is None else round(x, 3) + 0.0


ActionName = RecordedAction | Literal["assign_role"]


@dataclass(frozen=True)
class Action:
    """A responder's action, normalised from ``ActionRecorded`` (or ``RoleAssigned``: ``assign_role``).

    ``role`` is the role the action was recorded under (never set for ``assign_role``);
    ``severity``, ``audience`` and ``runbook`` are the action's own (``set_severity``,
    ``declare_incident``, ``post_update``, ``runbook_*``); ``assigned_role`` and ``person``
    are what an ``assign_role`` gave to whom.
    """

    seq: int
    t: float
    action: ActionName
    author: str
    role: str | None
    automated: bool
    severity: Severity | None = None
    audience: Audience | None = None
    runbook: str | None = None
    assigned_role: str | None = None
    person: str | None = None
    #: recorded from a webhook delivery with no person behind it (:data:`VENDOR_ACTORS`): counts for nothing
    vendor: bool = False


@dataclass(frozen=True)
class Facts:
    """What a journal says happened, read once; times are seconds from drill start."""

    path: str
    events: tuple[Event[Payload], ...]
    injection: Event[FaultInjected] | None
    detection: Event[DetectionRecorded] | None
    recovery: Event[RecoveryObserved] | None
    ended: Event[DrillEnded] | None
    aborted: Event[DrillAborted] | None
    actions: tuple[Action, ...]
    roles: RoleBook = field(compare=False)
    #: The first ``resolved`` action at or after the first injection: the incident closes.
    resolved: Action | None = None

    @property
    def window_t(self) -> float:
        """Actions count from here: the first injection (drill start without one)."""
        return self.injection.t if self.injection else 0.0

    @property
    def end_t(self) -> float:
        """``DrillEnded``, else the last event (a crashed or still-running drill)."""
        return self.ended.t if self.ended else self.events[-1].t

    @property
    def finished(self) -> bool:
        return self.ended is not None or self.aborted is not None

    def line_error(self, event: Event[Payload], message: str) -> JournalError:
        return JournalError(self.path, event.seq + 1, message)


def impact_start(facts: Facts) -> float | None:
    """When the probes first saw customer impact after the first injection (``ImpactStarted``); None if never."""
    if facts.injection is None:
        return None
    started = first_of(facts.events, ImpactStarted, after=facts.injection)
    return started.t if started else None


# The incident's milestones, defined once: the scorecard (read_facts), the comms drafts and
# the live view all take them from these three functions.


def first_injection(events: Sequence[Event[Payload]]) -> Event[FaultInjected] | None:
    """The first ``FaultInjected``: the incident starts there."""
    return first_of(events, FaultInjected)


def first_detection(
    events: Sequence[Event[Payload]], injection: Event[Payload] | None, people_count: bool
) -> Event[DetectionRecorded] | None:
    """The first ``DetectionRecorded`` after ``injection`` (none before any injection): a person's
    report counts only when the scenario says people count (``detection.people_count``)."""
    if injection is None:
        return None
    return next((e for e in events if e.seq > injection.seq and is_kind(e, DetectionRecorded)
                 and (people_count or e.data.via != "person")), None)  # fmt: skip


def first_recovery(events: Sequence[Event[Payload]], injection: Event[Payload] | None) -> Event[RecoveryObserved] | None:
    """The first ``RecoveryObserved`` after ``injection`` (none before any injection)."""
    if injection is None:
        return None
    return first_of(events, RecoveryObserved, after=injection)


def read_facts(scenario: Scenario, events: Sequence[Event[Payload]], path: str = "<journal>") -> Facts:
    """Read the facts every measure needs. Raises :class:`JournalError` for an action without
    an author (and no source to take it from), or a role assignment with an empty person or role."""
    if not events:
        raise JournalError(path, 1, "no events")
    injection = first_injection(events)
    detection = first_detection(events, injection, scenario.detection.people_count)
    recovery = first_recovery(events, injection)
    ended = first_of(events, DrillEnded)
    aborted = first_of(events, DrillAborted)
    actions: list[Action] = []
    assignments: list[tuple[int, float, str, str]] = []
    for e in events:
        auto = e.source == AUTOMATION
        d = e.data
        if isinstance(d, ActionRecorded):
            author = d.author or e.source
            if not author:
                raise JournalError(path, e.seq + 1, "ActionRecorded data needs a non-empty 'author' (or a source)")
            actions.append(Action(e.seq, e.t, d.action, author, d.role or None, auto or author == AUTOMATION,
                                  severity=d.severity, audience=d.audience, runbook=d.runbook,
                                  vendor=author in VENDOR_ACTORS))  # fmt: skip
        elif isinstance(d, RoleAssigned):
            if not d.person or not d.role:
                raise JournalError(path, e.seq + 1, "RoleAssigned data needs non-empty 'person' and 'role'")
            assignments.append((e.seq, e.t, d.person, d.role))
            by = d.by or e.source
            actions.append(Action(e.seq, e.t, "assign_role", by, None, auto or by == AUTOMATION,
                                  assigned_role=d.role, person=d.person))  # fmt: skip
    start = injection.t if injection else 0.0
    resolved = next((a for a in actions if a.action == "resolved" and not a.vendor and a.t >= start - EPS), None)
    return Facts(
        path, tuple(events), injection, detection, recovery, ended, aborted, tuple(actions), RoleBook(assignments), resolved
    )


def step_matches(step: Step, action: Action) -> bool:
    """Whether ``action`` is the kind of action ``step`` expects (roles aside)."""
    name = action.action
    match step.action:
        case "runbook":
            return name == "runbook_started" and action.runbook == step.runbook
        case "set_severity":
            if name not in ("set_severity", "declare_incident") or action.severity is None:
                return False
            return step.expect is None or action.severity == step.expect
        case "post_update":
            return name == "post_update" and (step.audience is None or action.audience == step.audience)
        case "notify_executives":
            return name == "notify_executives" or (name == "post_update" and action.audience == "executive")
        case "assign_role":
            return name == "assign_role" and (step.expect is None or action.assigned_role == step.expect)
        case _:
            return name == step.action


def role_ok(step: Step, action: Action, roles: RoleBook) -> bool:
    """The action was done in the step's role (or by automation, or the step names no role)."""
    if step.role is None or action.automated or action.role == step.role:
        return True
    return roles.holder(step.role, action.seq) == action.author


def author_role(action: Action, roles: RoleBook) -> str | None:
    """The role an action was recorded with, else the roles its author held at the time."""
    if action.role:
        return action.role
    return ", ".join(roles.roles_of(action.author, action.seq)) or None


@dataclass(frozen=True)
class StepStatus:
    """A step as matched so far. ``verdict`` is None while the step is *pending* (live only)."""

    step: Step
    anchor_t: float | None
    deadline_t: float | None
    verdict: StepVerdict | None = None
    done_t: float | None = None
    matched_seq: int | None = None
    author: str | None = None
    author_role: str | None = None
    note: str = ""
    #: Recurring steps: the longest gap while the incident was open (None otherwise).
    longest_gap: float | None = None

    @property
    def pending(self) -> bool:
        return self.verdict is None

    @property
    def id(self) -> str:
        """The step's id (as on :class:`StepResult`)."""
        return self.step.id

    def result(self) -> StepResult:
        """The scorecard's :class:`StepResult` (times rounded to ms). Refused while pending."""
        if self.verdict is None:
            raise ValueError(f"step {self.step.id!r} is still pending")
        s = self.step
        return StepResult(
            id=s.id, action=s.action, role=s.role, anchor=s.after, anchor_t=r3(self.anchor_t),
            deadline_t=r3(self.deadline_t), done_t=r3(self.done_t), verdict=self.verdict,
            matched_seq=self.matched_seq, author=self.author, author_role=self.author_role, note=self.note,
        )  # fmt: skip


def describe(step: Step) -> str:
    """``'runbook failover'``, ``'post_update external'``, ``'set_severity SEV1'``."""
    extra = step.runbook or step.expect or step.audience
    return f"{step.action} {extra}" if extra else step.action


def _anchor_order(steps: Sequence[Step]) -> list[Step]:
    """Steps whose anchor is another step come after it; otherwise scenario order."""
    ids = {s.id for s in steps}
    done: set[str] = set()
    order: list[Step] = []
    remaining = list(steps)
    while remaining:
        ready = next((s for s in remaining if s.after not in ids or s.after in done), remaining[0])
        remaining.remove(ready)
        order.append(ready)
        done.add(ready.id)
    return order


_NEVER = {
    "injection": "no fault was injected",
    "detection": "no detection was recorded",
    "recovery": "recovery was never observed",
}


def _anchor_t(after: str, facts: Facts, statuses: Mapping[str, StepStatus]) -> float | None:
    if after == "start":
        return 0.0
    if after in _NEVER:
        ev = {"injection": facts.injection, "detection": facts.detection, "recovery": facts.recovery}[after]
        return None if ev is None else ev.t
    return statuses[after].done_t


def evaluate_steps(
    scenario: Scenario, events: Sequence[Event[Payload]], now_t: float | None = None, *, facts: Facts | None = None
) -> list[StepStatus]:
    """Match every step of ``scenario.response`` against the journal ``events``, in scenario order.

    Without ``now_t`` the journal is taken as complete: no verdict is None. With ``now_t``
    (a live drill, no ``DrillEnded``/``DrillAborted`` yet), a step not done whose deadline
    is still ahead, or whose anchor has not happened yet, is pending (``verdict is None``);
    one past its deadline is ``missed`` *so far*; recurring steps are judged up to ``now_t``.
    """
    facts = facts or read_facts(scenario, events)
    live = now_t is not None and not facts.finished
    horizon = max(now_t, facts.end_t) if live and now_t is not None else facts.end_t
    statuses: dict[str, StepStatus] = {}
    claimed: dict[str, set[int]] = {}
    for step in _anchor_order(scenario.response):
        statuses[step.id] = _evaluate(step, facts, statuses, claimed.setdefault(step.action, set()), live, horizon)
    return [statuses[s.id] for s in scenario.response]


def match_steps(scenario: Scenario, events: Sequence[Event[Payload]], *, facts: Facts | None = None) -> list[StepResult]:
    """The final :class:`StepResult` of every step of a finished (or crashed) journal."""
    return [s.result() for s in evaluate_steps(scenario, events, facts=facts)]


def _evaluate(
    step: Step, facts: Facts, statuses: Mapping[str, StepStatus], claimed: set[int], live: bool, horizon: float
) -> StepStatus:
    """One step; ``claimed`` holds the seqs of actions already used by one-shot steps of the same action."""
    anchor_t = _anchor_t(step.after, facts, statuses)
    if anchor_t is None:
        if live:
            return StepStatus(step, None, None)
        why = _NEVER.get(step.after) or f"step {step.after!r} was not done"
        return StepStatus(step, None, None, "not_applicable", note=f"not applicable: {why}")
    deadline = anchor_t + step.within
    opens = 0.0 if step.after == "start" else anchor_t if step.after == "recovery" else facts.window_t
    matching = [a for a in facts.actions if not a.vendor and step_matches(step, a)]
    cands = [a for a in matching if a.t >= opens - EPS and (step.every is not None or a.seq not in claimed)]
    notes: list[str] = []
    if step.after == "recovery":
        early = [a for a in matching if facts.window_t - EPS <= a.t < opens - EPS]
        if early:
            when = format_offset(early[0].t)
            notes.append(f"the {early[0].action} at {when} came before recovery was observed and does not count")
    if not cands:
        if live and horizon <= deadline + EPS:
            return StepStatus(step, anchor_t, deadline, note="; ".join(notes))
        if not live and facts.end_t < deadline - EPS:
            why = f"the drill ended at {format_offset(facts.end_t)}, before this step was due at {format_offset(deadline)}"
            notes.insert(0, f"not applicable: {why}")
            return StepStatus(step, anchor_t, deadline, "not_applicable", note="; ".join(notes))
        notes.insert(0, "overdue: not done yet" if live else "not done")
        return StepStatus(step, anchor_t, deadline, "missed", note="; ".join(notes))
    first = cands[0]
    if step.every is None:
        claimed.add(first.seq)
    verdict: StepVerdict = "on_time" if first.t <= deadline + EPS else "late"
    if verdict == "late":
        notes.append(f"done {human(first.t - deadline)} after the deadline")
    if first.automated:
        notes.append("done by automation")
    elif not role_ok(step, first, facts.roles):
        who = author_role(first, facts.roles)
        notes.append(f"recorded under {'the ' + who if who else 'no role'}; the scenario expects the {step.role} to do this")
    longest = None
    if step.every is not None:
        close = facts.resolved.t if facts.resolved is not None else horizon
        points = [a.t for a in cands if first.t - EPS <= a.t <= close + EPS]
        gaps = [b - a for a, b in pairwise(points)] + ([close - points[-1]] if points and close > points[-1] else [])
        longest = max(gaps, default=None)
        if longest is not None and longest > step.every + EPS:
            verdict = "late"
        span = "so far" if live and facts.resolved is None else "while the incident was open"
        gap = f"longest gap {human(longest)}" if longest is not None else "no gap measured"
        notes.append(f"{len(points)} matching action(s) {span}; {gap} (due every {human(step.every)})")
    who = author_role(first, facts.roles)
    return StepStatus(step, anchor_t, deadline, verdict, first.t, first.seq, first.author, who, "; ".join(notes), longest)
