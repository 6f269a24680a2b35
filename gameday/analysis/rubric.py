"""The incident commander's rubric, scored from one training journal (pure: same journal, same score).

:func:`score_training` judges each item of :data:`gameday.model.rubric.RUBRIC` from the events of a
training drill (``gameday run --mode training --trainee NAME``): a verdict (met, partly, missed, n/a),
why in one sentence, coaching for next time (with scenario-clock times, ``+6m00s``) and the events
it rests on. :func:`hint_for` words the next useful hint from the first item not met yet. The items
live in :mod:`gameday.analysis.rubric_items` (command and communication) and
:mod:`gameday.analysis.rubric_conduct` (conduct); their facts in :mod:`gameday.analysis.rubric_facts`.

Rules. *The trainee* is ``TrainingStarted.trainee``; *detection* the first ``DetectionRecorded``;
*the alarm* detection, else the first ``FaultInjected``, else drill start; *recovery* (one anchor,
:func:`gameday.analysis.severity.recovery_event`) with a simulation the first ``StateChanged`` into a
recovered state, else the first ``RecoveryObserved``; *the incident is open* from the first of the
declaration (``declare_incident``) and detection to the first ``resolved`` action, else the drill's
end. *The right severity* (:mod:`gameday.analysis.severity`, the scorecard's too) at a moment is the
severity of the latest ``StateChanged`` into a state with customer impact (its ``severity`` None
means the scenario's), else the scenario's ``severity``; a state without impact (recovered or not)
does not lower it; it *changes* when such a state's severity differs. *The trainee's command* ends
when it first leaves them (their ``CommandHandedOver``, or the incident commander's role given to
someone else): the items below judge the trainee only until then (severity marks, re-sets,
executive deadlines, update gaps, hands-on work, resolution), since what is left undone afterwards
is the next incident commander's.

* **took-command** — ``CommandTaken`` by the trainee: met within ``training.command_within`` of the
  alarm (or before it); partly if later; missed if never.
* **delegated** — every scenario role but the incident commander's given by the trainee
  (``RoleAssigned`` with ``by`` the trainee) to someone else within ``training.roles_within`` of
  taking command (else of the alarm), and every ``TaskAssigned`` by the trainee names a person
  (``to``) and a time box (``within``). Missed: a role never given, or no task given at all; partly: a
  role given late, a role given only by someone else (a coach, a pre-assigned roster), or a task
  without a person or a time box; met otherwise. The why and the coaching name every problem.
* **severity** — ``set_severity`` actions (and ``declare_incident`` with a severity), by anyone.
  Met: set to the right severity within the scenario's ``set_severity`` step ``within`` (default
  10 min) of the alarm, never set to a wrong one, and standing at the right one within 10 min of
  every change of the right severity while the incident is open (changes less than 10 min before
  the drill's end are not yet due). Partly: set, but late or wrong at some point; missed: never set.
* **executives** — ``notify_executives`` (or a ``post_update`` to the executive audience), by
  anyone. Every deadline of :func:`gameday.analysis.severity.executive_deadlines`: the level right at
  the declaration (else detection), its ``executives_within`` from then (or
  ``executives_if_open_after`` when the incident stayed open longer), met by any notification (even
  one before it); each later escalation to a stricter level that asks for it, its
  ``executives_within`` from the escalation's ``StateChanged``, met only by a notification after it.
  Each deadline: met on time, partly late, missed never; the worst decides, and the why names the one
  missed. A deadline not due yet when the drill ended (or command left the trainee), and not met, is
  left out; n/a when none is left, no level asks for it, or nothing was declared or detected.
* **cadence** — ``post_update`` actions (any audience) while the incident is open: no gap (from the
  opening to the first update, between updates, from the last to the close) longer than the
  policy's ``update_every`` of the right severity during the gap (the strictest, when it changed).
  Met: none over; partly: one; missed: no update at all or several gaps over; n/a when the policy
  asks no cadence, nothing was declared or detected, or no update fell due. (The scorecard's comms
  cadence holds one severity for the whole drill; this one follows the right severity, so it counts
  its own gaps.)
* **decisions** — every ``DecisionRecorded`` whose ``decided_by`` or ``author`` is the trainee,
  preceded (at most 15 min) by an ``ObjectionsCalled`` of theirs with a time box, and made once that
  time box had ended or every simulated responder (``TrainingStarted.responders``) had answered the
  call (``ObjectionVoiced``). Met: all; partly: a call without a time box, a decision before both the
  answers and the end of the box (the coaching names an objection voiced after it), or some decisions
  without a call; missed: no decision had a call; n/a when the trainee recorded no decision (the
  coaching suggests recording the big ones).
* **hands-off** — missed when the trainee started a runbook (``runbook_started`` authored by them;
  the coaching names who should have: the holder of the runbook step's role, from ``RoleAssigned``);
  partly when they posted an external or executive update or notified executives themselves while
  someone else held the comms lead; n/a when they never took command (``CommandTaken``) and gave no
  instruction (a role, a task, a call for objections, a decision); met otherwise.
* **handover** — with ``training.handover``: met when ``CommandHandedOver`` from the trainee to that
  person, with a non-empty briefing, came within ``handover.within`` of its anchor (start,
  injection, detection or recovery; early counts); partly when late, without a briefing, or to
  someone else; missed never; n/a when the anchor never came or the drill ended before it was due.
  Without one: met when every ``RoleAssigned`` by which the trainee gave the incident commander's
  role away came with a ``CommandHandedOver`` to that person (or a formal handover was given
  unasked), missed when one did not, n/a when command never left the trainee or someone else (a
  coach) reassigned it (the why names who). With one, command reassigned by someone else before the
  handover was due is n/a too.
* **resolution** — ``resolved`` after recovery by the trainee (or by whom they had formally handed
  command to: the incident commander then): met within the scenario's ``resolved`` step ``within``
  (default 30 min) of recovery; partly when by someone else, late, or
  anyone resolved before recovery (the coaching: confirm recovery first); missed never; n/a when
  the system never recovered (and no one resolved), the drill ended before it was due, or command
  left the trainee before it was due.
* **score** — ``100 × Σ points / applicable items`` (met 1, partly ½, missed 0; n/a left out), less
  the ``cost`` of every ``HintGiven``, within [0, 100], rounded to one decimal. ``outcome`` is
  ``DrillEnded``'s, else ``unfinished``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gameday.analysis.rubric_conduct import decisions, handover, hands_off, resolution
from gameday.analysis.rubric_facts import TrainingFacts, training_facts
from gameday.analysis.rubric_items import cadence, delegated, executives, severity, took_command
from gameday.model.duration import human
from gameday.model.events import Event, HintGiven, Payload
from gameday.model.rubric import RUBRIC, HintUse, ItemVerdict, TrainingScore
from gameday.model.terms import COMMS_LEAD, IC, TECH_LEAD

#: The items' judges, in rubric order.
ITEMS: dict[str, Callable[[TrainingFacts], ItemVerdict]] = {
    "took-command": took_command, "delegated": delegated, "severity": severity, "executives": executives,
    "cadence": cadence, "decisions": decisions, "hands-off": hands_off, "handover": handover, "resolution": resolution,
}  # fmt: skip
assert tuple(ITEMS) == tuple(RUBRIC)


def score_training(events: Sequence[Event[Payload]], *, path: str = "journal") -> TrainingScore:
    """The rubric's verdicts on one training journal (finished or not), the hints taken and the score.

    Raises :class:`~gameday.errors.JournalError` (line 1, naming ``path``) for a journal that is not
    a training drill's (no ``TrainingStarted``)."""
    f = training_facts(events, path)
    items = [judge(f) for judge in ITEMS.values()]
    hints = [HintUse(seq=e.seq, t=round(e.t, 3), text=e.data.text, cost=e.data.cost)
             for e in events if isinstance(e.data, HintGiven)]  # fmt: skip
    points = [p for p in (i.points for i in items) if p is not None]
    base = 100.0 * sum(points) / len(points) if points else 0.0
    total = min(100.0, max(0.0, base - sum(h.cost for h in hints)))
    return TrainingScore(
        drill_id=f.drill.data.drill_id, scenario_id=f.scenario.id, scenario_title=f.scenario.title,
        difficulty=f.training.data.difficulty if f.training.data.difficulty is not None else f.scenario.difficulty,
        trainee=f.trainee, outcome=f.ended.data.outcome if f.ended is not None else "unfinished",
        started_wall=f.drill.wall, items=items, hints=hints, score=round(total, 1),
    )  # fmt: skip


def hint_for(events: Sequence[Event[Payload]]) -> tuple[str, str]:
    """The next useful hint for the trainee and its source (``'rubric ITEM'``): advice on the first rubric item,
    in rubric order, not met yet (partly or missed) in the journal so far — command once taken, even late, is
    left out — ``'rubric'`` when every one is."""
    f = training_facts(events)
    for item_id, judge in ITEMS.items():
        if item_id == "took-command" and f.command is not None:
            continue  # taken (late): nothing left to advise
        if judge(f).verdict in ("partly", "missed"):
            return _advice(f, item_id), f"rubric {item_id}"
    return ("You are on track: keep the overview, keep the updates coming, and ask your responders what they see.",
            "rubric")


def _advice(f: TrainingFacts, item: str) -> str:
    """Forward-looking advice on one rubric item (the journal's names and the policy's numbers)."""
    last = f.events[-1].seq + 1
    sev = f.right_severity(last)
    level = f.policy.levels.get(sev)
    comms, tech = f.someone(COMMS_LEAD), f.someone(TECH_LEAD)
    if item == "took-command":
        return "Take command out loud: tell everyone you are the incident commander, so they know who decides."
    if item == "delegated":
        open_roles = [r for r in f.scenario.roles if r != IC and f.holder(r) in (None, f.trainee)]
        if open_roles:
            return "Give every role to a named person: " + ", ".join(f"{f.someone(r)}" for r in open_roles) + "."
        return "Give each task to a named person with a time box: \u201creport back in 5 minutes\u201d."
    if item == "severity":
        desc = f" ({level.description})" if level is not None else ""
        return f"Set the severity to match what customers feel now: {sev}{desc}; re-set it when that changes."
    if item == "executives":
        return f"Have the executives told: ask {comms} to notify them now."
    if item == "cadence":
        every = f" at least every {human(level.update_every)}" if level is not None and level.update_every else ""
        return f"Keep stakeholders informed: ask {comms} for an update{every}, even when there is no news."
    if item == "decisions":
        return "Before a big decision, ask \u201cany strong objections?\u201d with a time box, then decide and say so."
    if item == "hands-off":
        return f"Stay hands-off: ask {tech} to run runbooks and {comms} to talk to customers; you keep the overview."
    if item == "handover":
        wanted = f.scenario.training.handover
        to = wanted.to if wanted is not None else "the incoming incident commander"
        return (f"Hand over command formally to {to}: brief them on what is happening, what is in flight, who holds which "
                "role, and hear them confirm.")
    return f"Once {tech} confirms customers are no longer affected, declare the incident resolved yourself."
