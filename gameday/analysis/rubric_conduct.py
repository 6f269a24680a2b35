"""The rubric's last four items, the incident commander's conduct: decisions, hands-off, handover,
resolution. Pure functions of :class:`~gameday.analysis.rubric_facts.TrainingFacts`; the rules are in
:mod:`gameday.analysis.rubric`.
"""

from __future__ import annotations

from gameday.analysis.matching import VENDOR_ACTORS
from gameday.analysis.rubric_facts import EPS, OBJECTIONS_BEFORE, TrainingFacts, off, quote, role_words
from gameday.analysis.rubric_items import verdict
from gameday.journal import is_kind
from gameday.model.duration import human
from gameday.model.events import (
    ActionRecorded,
    CommandHandedOver,
    DecisionRecorded,
    Event,
    ObjectionsCalled,
    ObjectionVoiced,
    Payload,
    RoleAssigned,
    TaskAssigned,
)
from gameday.model.rubric import ItemVerdict
from gameday.model.terms import COMMS_LEAD, IC, TECH_LEAD


def decisions(f: TrainingFacts) -> ItemVerdict:
    """Met: every decision of the trainee's came after their call for strong objections (at most 15 min before), with a
    time box, once the box had ended or every simulated responder had answered; n/a when they recorded none."""
    me = f.trainee
    made = [e for e in f.events if is_kind(e, DecisionRecorded) and me in (e.data.decided_by, e.data.author)]
    if not made:
        return verdict("decisions", "n/a", f"{me} recorded no decision, so there was no call for objections to judge.",
                       "Record the big decisions (whether to fail over, to roll back, to wake more people) in the "
                       "decision log, each after asking for strong objections with a time box.")
    calls = [e for e in f.events if is_kind(e, ObjectionsCalled) and e.data.by == me]
    paired: list[tuple[Event[DecisionRecorded], Event[ObjectionsCalled] | None]] = []
    for d in made:
        near = [c for c in calls if c.seq < d.seq and d.t - c.t <= OBJECTIONS_BEFORE + EPS]
        boxed = [c for c in near if c.data.within is not None]
        chosen = boxed or near
        paired.append((d, chosen[-1] if chosen else None))
    shown: list[Event[Payload] | None] = [x for pair in paired for x in pair]
    bare = [(d, c) for d, c in paired if c is None]
    loose = [(d, c) for d, c in paired if c is not None and c.data.within is None]
    early = [(d, c) for d, c in paired if c is not None and c.data.within is not None and _too_soon(f, d, c)]
    n = len(made)
    if not bare and not loose and not early:
        d, c = paired[0]
        assert c is not None and c.data.within is not None
        which = "The one decision" if n == 1 else f"Each of the {n} decisions"
        return verdict("decisions", "met", f"{which} {me} made came after a time-boxed call for strong objections (e.g. "
                                           f"{quote(c.data.proposal, 80)} at {off(c.t)}, {human(c.data.within)} to object).",
                       evidence=shown)
    coach = []
    if bare:
        d = bare[0][0]
        coach.append(f"Before deciding {quote(d.data.decision, 80)} at {off(d.t)}, ask \u201cany strong objections?\u201d "
                     "and give a time box (a minute or two); then decide, and say so.")
    if loose:
        c = loose[0][1]
        assert c is not None
        coach.append(f"You asked for objections to {quote(c.data.proposal, 80)} at {off(c.t)} without a time box: say how "
                     "long people have (\u201cobjections in the next 2 minutes\u201d), then decide.")
    if early:
        d, c = early[0]
        assert c is not None
        unheard = _unheard(f, d, c)
        shown.append(unheard)
        if unheard is not None and unheard.data.strong:
            coach.append(f"{unheard.data.by} objected at {off(unheard.t)} \u2014 after you decided at {off(d.t)}; wait for "
                         "the answers or the time box.")
        else:
            coach.append(f"You decided at {off(d.t)}, before the time box ended ({off(_box_end(c))}) and before everyone "
                         "had answered: wait for the answers or the time box.")
    if len(bare) == n:
        which = "The one decision" if n == 1 else f"All {n} decisions"
        why = (f"{which} {me} made came without any call for strong objections (e.g. "
               f"{quote(bare[0][0].data.decision, 80)} at {off(bare[0][0].t)}).")
        return verdict("decisions", "missed", why, " ".join(coach), shown)
    boxed_n = n - len(bare) - len(loose) - len(early)
    if n == 1 and loose:
        c = loose[0][1]
        assert c is not None
        why = (f"The one decision {me} made came after a call for strong objections without a time box "
               f"({quote(c.data.proposal, 80)} at {off(c.t)}).")
    elif n == 1:
        d, c = early[0]
        assert c is not None
        why = (f"The one decision {me} made came at {off(d.t)}, before the time box of the call for strong objections "
               f"ended ({off(_box_end(c))}) and before everyone had answered.")
    else:
        parts = [f"{boxed_n} after a time-boxed call for strong objections" if boxed_n else "",
                 f"{len(early)} before the answers or the end of the time box" if early else "",
                 f"{len(loose)} after a call without a time box" if loose else "",
                 f"{len(bare)} with no call at all" if bare else ""]
        why = f"Of the {n} decisions {me} made, {' and '.join(p for p in parts if p)}."
    return verdict("decisions", "partly", why, " ".join(coach), shown)


def _box_end(c: Event[ObjectionsCalled]) -> float:
    return c.t + (c.data.within or 0.0)


def _too_soon(f: TrainingFacts, d: Event[DecisionRecorded], c: Event[ObjectionsCalled]) -> bool:
    """Decided before the call's time box ended and before every simulated responder answered it."""
    if d.t >= _box_end(c) - EPS:
        return False
    people = {p.name for p in f.training.data.responders}
    answered = {e.data.by for e in f.events if is_kind(e, ObjectionVoiced) and e.data.call == c.data.call and e.seq < d.seq}
    return not people or not people <= answered


def _unheard(f: TrainingFacts, d: Event[DecisionRecorded], c: Event[ObjectionsCalled]) -> Event[ObjectionVoiced] | None:
    """The answer to call ``c`` that came after decision ``d``: the first strong objection, else the first answer."""
    after = [e for e in f.events if is_kind(e, ObjectionVoiced) and e.data.call == c.data.call and e.seq > d.seq]
    return next((e for e in after if e.data.strong), after[0] if after else None)


def hands_off(f: TrainingFacts) -> ItemVerdict:
    """Missed: the trainee started a runbook while in command; partly: they sent an external update or told executives
    themselves while someone else held the comms lead; n/a when they neither took command nor gave any instruction (an
    idle trainee earns no point); met otherwise."""
    me = f.trainee
    runs = [a for a in f.actions if a.data.action == "runbook_started" and a.data.author == me and f.in_command(a)]
    if runs:
        r = runs[0]
        step = next((s for s in f.scenario.response if s.action == "runbook" and s.runbook == r.data.runbook), None)
        role = step.role if step is not None and step.role and step.role != IC else TECH_LEAD
        names = ", ".join(f"{a.data.runbook or 'a runbook'} at {off(a.t)}" for a in runs)
        return verdict("hands-off", "missed", f"{me} ran {'a runbook' if len(runs) == 1 else 'runbooks'} themselves "
                                              f"({names}).",
                       f"You ran the {r.data.runbook or 'unnamed'} runbook yourself at {off(r.t)}: assign it to "
                       f"{f.someone(role, r.seq)} and keep the overview.", [*runs])
    own = [a for a in f.actions if a.data.author == me and (a.data.action == "notify_executives" or (
        a.data.action == "post_update" and a.data.audience in ("external", "executive")))]
    own = [a for a in own if f.holder(COMMS_LEAD, a.seq) not in (None, me) and f.in_command(a)]
    if own:
        a = own[0]
        what = "notified the executives" if a.data.action == "notify_executives" else f"posted an {a.data.audience} update"
        holder = f.holder(COMMS_LEAD, a.seq)
        return verdict("hands-off", "partly", f"{me} {what} themselves at {off(a.t)} while {holder} was the "
                                              f"{role_words(COMMS_LEAD)}.",
                       f"At {off(a.t)} you {what} yourself while {holder} was your {role_words(COMMS_LEAD)}: ask them to do "
                       "it, and review their draft instead.", [*own])
    if f.command is None and not any(_instruction(e, me) for e in f.events):
        return verdict("hands-off", "n/a", f"{me} never took command and gave no instruction, so there was no command to "
                                           "keep hands-off.",
                       "Take command, then lead through others: give the roles and the tasks, and keep the overview.")
    others = [a for a in f.actions if a.data.action == "runbook_started"]
    done_by = f"; runbooks were started by {', '.join(dict.fromkeys(a.data.author for a in others))}" if others else ""
    held = " while in command" if f.gone is not None else ""
    return verdict("hands-off", "met", f"{me} ran no runbook and sent no external update or executive notification "
                                       f"themselves{held}{done_by}.", evidence=[*others])


def _instruction(e: Event[Payload], me: str) -> bool:
    """An instruction of the trainee's: a role or a task given, a call for objections, a decision."""
    d = e.data
    if isinstance(d, RoleAssigned | TaskAssigned | ObjectionsCalled):
        return d.by == me
    return isinstance(d, DecisionRecorded) and me in (d.decided_by, d.author)


def _anchor(f: TrainingFacts, after: str) -> Event[Payload] | None:
    # the same moments as severity.anchor_event (the desk times the handover from those)
    return {"start": f.drill, "injection": f.injection, "detection": f.detection, "recovery": f.recovery}[after]


def handover(f: TrainingFacts) -> ItemVerdict:
    """The handover the scenario calls for (``training.handover``), else every change of incident commander the trainee
    made: formal (CommandHandedOver, with a briefing) and on time. Command taken from them by someone else (a coach):
    n/a."""
    me = f.trainee
    given = [e for e in f.events if is_kind(e, CommandHandedOver) and e.data.outgoing == me]
    wanted = f.scenario.training.handover
    if wanted is None:
        return _unasked(f, given)
    anchor = _anchor(f, wanted.after)
    to_them = [e for e in given if e.data.incoming.casefold() == wanted.to.casefold()]
    ho = to_them[0] if to_them else None
    deadline = anchor.t + wanted.within if anchor is not None else None
    rule = f"{human(wanted.within)} after {wanted.after}" + (f" ({off(anchor.t)})" if anchor is not None else "")
    brief = ("brief them (what is happening, what is in flight, who holds which role, when the next update is due) and "
             "hear them confirm they have command")
    taken = next((c for c in _ic_changes(f) if c.data.by != me), None)
    if ho is None:
        if given:
            e = given[0]
            return verdict("handover", "partly", f"{me} handed command to {e.data.incoming} at {off(e.t)}, but the scenario "
                                                 f"called for a handover to {wanted.to}.",
                           f"Hand over to the incoming incident commander the scenario names ({wanted.to}), and {brief}.",
                           [anchor, e])
        if taken is not None and (deadline is None or taken.t <= deadline + EPS):
            return verdict("handover", "n/a", f"{_by(taken)} gave command to {taken.data.person} at {off(taken.t)}, before "
                                              f"{me}'s handover to {wanted.to} was due: not {me}'s handover to judge.",
                           evidence=[anchor, taken])
        if deadline is None:
            return verdict("handover", "n/a", f"The handover to {wanted.to} was due {rule}, which never came.")
        if deadline > f.end_t + EPS:
            return verdict("handover", "n/a", f"The handover to {wanted.to} was not yet due when the drill ended (due by "
                                              f"{off(deadline)}).", evidence=[anchor])
        return verdict("handover", "missed", f"{me} never handed command over to {wanted.to}; the scenario called for it "
                                             f"by {off(deadline)} ({rule}).",
                       f"When {wanted.after} came at {off(anchor.t if anchor else None)}, hand command over to {wanted.to} "
                       f"formally: {brief}.", [anchor])
    late = deadline is not None and ho.t > deadline + EPS
    empty = not ho.data.briefing.strip()
    if not late and not empty:
        return verdict("handover", "met", f"{me} handed command to {ho.data.incoming} at {off(ho.t)} with a briefing, "
                                          f"within {rule}.", evidence=[anchor, ho])
    problems = ([f"{human(ho.t - deadline)} after the deadline {off(deadline)}"] if late and deadline is not None else []) \
        + (["with no briefing"] if empty else [])
    coach = (f"Hand over within {rule}" if late else "Never hand over without a briefing") + f": {brief}."
    return verdict("handover", "partly", f"{me} handed command to {ho.data.incoming} at {off(ho.t)}, "
                                         f"{' and '.join(problems)}.", coach, [anchor, ho])


def _ic_changes(f: TrainingFacts) -> list[Event[RoleAssigned]]:
    """Every time the incident commander's role went from the trainee to someone else."""
    return [e for e in f.events if is_kind(e, RoleAssigned) and e.data.role == IC and e.data.person != f.trainee
            and f.holder(IC, e.seq) == f.trainee]


def _by(e: Event[RoleAssigned]) -> str:
    return e.data.by or "someone else"


def _unasked(f: TrainingFacts, given: list[Event[CommandHandedOver]]) -> ItemVerdict:
    """No handover called for: every time the trainee gave the incident commander's role away, a formal handover came
    with it; when someone else (a coach) reassigned command, it is not the trainee's handover to judge."""
    me, changes = f.trainee, _ic_changes(f)
    mine = [c for c in changes if c.data.by == me]
    theirs = [c for c in changes if c.data.by != me]
    if not mine and not given:
        if theirs:
            c = theirs[0]
            return verdict("handover", "n/a", f"{_by(c)} gave command to {c.data.person} at {off(c.t)}, not {me}: no "
                                              f"handover of {me}'s to judge.", evidence=[c])
        return verdict("handover", "n/a", "The scenario called for no handover, and command never left "
                                          f"{me}.")
    bare = [c for c in mine if not any(g.data.incoming == c.data.person for g in given)]
    if bare:
        c = bare[0]
        return verdict("handover", "missed", f"{me} gave command to {c.data.person} at {off(c.t)} without a formal "
                                             "handover.",
                       f"Before {c.data.person} took over at {off(c.t)}, brief them (what is happening, what is in flight, "
                       "who holds which role) and hear them confirm they have command.", [*mine, *given])
    g = given[0]
    return verdict("handover", "met", f"{me} handed command to {g.data.incoming} formally at {off(g.t)}.",
                   evidence=[*mine, *given])


def resolution(f: TrainingFacts) -> ItemVerdict:
    """Met: the trainee (or whom they formally handed command to, before) declared the incident resolved after recovery,
    within the ``resolved`` step's time (default 30 min); partly if someone else did, late, or anyone did before recovery
    while the trainee held command; n/a when command left the trainee before it was due."""
    me, rec = f.trainee, f.recovery
    step = next((s for s in f.scenario.response if s.action == "resolved"), None)
    within = step.within if step is not None else 1800.0
    done = [a for a in f.actions if a.data.action == "resolved" and a.data.author not in VENDOR_ACTORS]
    early = [a for a in done if (rec is None or a.seq < rec.seq) and f.in_command(a)]
    after = [a for a in done if rec is not None and a.seq > rec.seq]
    confirm = (f"Confirm recovery first: ask {f.someone(TECH_LEAD)} whether customers are still affected, then declare it "
               "resolved")
    if rec is None:
        if early:
            a = early[0]
            return verdict("resolution", "partly", f"{a.data.author} declared the incident resolved at {off(a.t)}, but the "
                                                   "system never recovered.",
                           f"The incident was declared resolved at {off(a.t)}, before recovery. {confirm}.", [a])
        return verdict("resolution", "n/a", "The system did not recover during the drill, so there was nothing to resolve.")
    deadline = rec.t + within
    handed = [e for e in f.events if is_kind(e, CommandHandedOver) and e.data.outgoing == me]

    def heir_of(a: Event[ActionRecorded]) -> Event[CommandHandedOver] | None:
        return next((h for h in handed if h.seq < a.seq and h.data.incoming == a.data.author), None)

    mine = next((a for a in after if a.data.author == me or heir_of(a) is not None), None)
    heir = heir_of(mine) if mine is not None and mine.data.author != me else None
    shown: list[Event[Payload] | None] = [rec, *early, *after[:1], mine, heir]
    if mine is not None and mine.t <= deadline + EPS and not early:
        who = me if heir is None else f"{mine.data.author}, to whom {me} had handed command,"
        return verdict("resolution", "met", f"{who} declared the incident resolved at {off(mine.t)}, "
                                            f"{human(mine.t - rec.t)} after recovery ({off(rec.t)}).", evidence=shown)
    if mine is None and not early and f.gone is not None and f.gone.t <= deadline + EPS:
        return verdict("resolution", "n/a", f"Command passed from {me} at {off(f.gone.t)}, before the resolution was due "
                                            f"({off(deadline)}): declaring it was for whoever held command then.",
                       evidence=[rec, f.gone, *after[:1]])
    if not after and not early:
        if deadline > f.end_t + EPS:
            return verdict("resolution", "n/a", f"Resolution was not yet due when the drill ended (recovery at {off(rec.t)}, "
                                                f"due by {off(deadline)}).", evidence=[rec])
        return verdict("resolution", "missed", f"No one declared the incident resolved after recovery at {off(rec.t)}.",
                       f"Once recovery is confirmed ({off(rec.t)}), declare the incident resolved within {human(within)}: it "
                       "closes the incident and lets everyone stand down.", shown)
    why, coach = [], []
    if early:
        why.append(f"{early[0].data.author} declared it resolved at {off(early[0].t)}, before recovery ({off(rec.t)})")
        coach.append(f"The incident was declared resolved at {off(early[0].t)}, before recovery. {confirm}.")
    if mine is None and after:
        why.append(f"{after[0].data.author} declared it resolved at {off(after[0].t)}, not {me}")
        coach.append(f"Declaring the incident resolved is yours: do it yourself once recovery is confirmed "
                     f"({off(rec.t)}).")
    if mine is not None and mine.t > deadline + EPS:
        why.append(f"{mine.data.author} declared it resolved at {off(mine.t)}, {human(mine.t - deadline)} after the "
                   f"{human(within)} allowed from recovery ({off(rec.t)})")
        coach.append(f"Declare the incident resolved within {human(within)} of recovery: it lets everyone stand down.")
    text = "; ".join(why)
    return verdict("resolution", "partly", text[:1].upper() + text[1:] + ".", " ".join(coach), shown)
