"""The exercise of a tabletop drill, as its journal tells it: the MSEL inject by inject (published
when, on both clocks, by the schedule, a contingency or the facilitator; held; skipped), the decision
log, evaluator notes, the hot wash per participant, the pace and the pauses.

Pure functions of journal events (and the scenario the journal's ``DrillStarted`` holds): the
scorecard's :class:`~gameday.model.scorecard.ExerciseSummary` (:func:`exercise_summary`), the
postmortem's extra sections (:func:`exercise_context`, ``None`` unless the drill is a tabletop) and
the building blocks of the after-action report (:mod:`gameday.analysis.aar`).

Two clocks: an event's ``t`` is the **scenario clock** (seconds from drill start as the exercise
plays them, at its pace, standing still while paused); its ``wall`` is the **wall clock** (real UTC
time). Texts here are plain and unescaped (people's words): the templates escape them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gameday.analysis.clocks import both_clocks, wall_between, wall_clock
from gameday.analysis.matching import simulated_faults
from gameday.analysis.timeline import one_line
from gameday.model.duration import human
from gameday.model.events import (
    ClockPaused,
    ClockResumed,
    DecisionRecorded,
    DrillStarted,
    EvaluatorNoted,
    Event,
    HotWashNoted,
    InjectHeld,
    InjectPublished,
    InjectSkipped,
    ObjectiveRated,
    PaceSet,
    Payload,
    ResponderJoined,
    RoleAssigned,
)
from gameday.model.exercise import Expectation
from gameday.model.scenario import Scenario
from gameday.model.scorecard import ExerciseSummary, InjectStatus, PaceRecord
from gameday.model.terms import format_offset

if TYPE_CHECKING:
    from gameday.journal import Journal
    from gameday.model.scorecard import Scorecard

TABLETOP = "tabletop"
_STATUS_TEXT = {"published": "published", "held": "held, never published", "skipped": "skipped",
                "unpublished": "not published"}


# ---------------------------------------------------------------- the MSEL, inject by inject


@dataclass(frozen=True)
class Moment:
    """When something happened (an event), on both clocks, and who did it."""

    seq: int
    t: float
    wall: str
    by: str


@dataclass(frozen=True)
class InjectRecord:
    """One inject of the MSEL (or one the journal names that the scenario does not: a derived one),
    with what became of it. ``status`` is its last fate: published (at least once), else skipped,
    else held, else unpublished."""

    id: str
    subject: str
    channel: str
    sender: str
    to: str
    scheduled_t: float | None
    synopsis: str | None
    objective: str | None
    expect: tuple[str, ...]
    contingency: str | None  # "after 10m: publish X"
    status: InjectStatus
    published: Moment | None
    contingency_of: str | None
    held: tuple[Moment, ...]
    skipped: Moment | None

    @property
    def how(self) -> str:
        """Why it went out when it did: ``'on schedule'``, ``'as the contingency of X'``, ``'by NAME (facilitator)'``."""
        p = self.published
        if p is None:
            return ""
        if p.by == "schedule":
            return "on schedule"
        if p.by == "contingency":
            return f"as the contingency of inject {self.contingency_of}" if self.contingency_of else "as a contingency"
        return f"by {p.by} (facilitator)"


def expectation_text(x: Expectation) -> str:
    """``'step acknowledge: The on-call acknowledges the page'`` (the label alone without a description)."""
    return f"{x.label}: {x.description}" if x.description else x.label


def inject_log(scenario: Scenario, events: Sequence[Event[Payload]]) -> list[InjectRecord]:
    """Every inject of the scenario's MSEL in its order, then any other the journal names (an MSEL
    derived from the faults' shadows), in journal order; each with its publication, holds and skip."""
    published: dict[str, tuple[Moment, InjectPublished]] = {}
    held: dict[str, list[Moment]] = {}
    skipped: dict[str, Moment] = {}
    order = [i.id for i in scenario.injects]
    for e in events:
        d = e.data
        if not isinstance(d, (InjectPublished, InjectHeld, InjectSkipped)):
            continue
        if d.inject not in order:
            order.append(d.inject)
        if isinstance(d, InjectPublished):
            published.setdefault(d.inject, (Moment(e.seq, e.t, e.wall, d.by), d))
        elif isinstance(d, InjectHeld):
            held.setdefault(d.inject, []).append(Moment(e.seq, e.t, e.wall, d.by))
        else:
            skipped.setdefault(d.inject, Moment(e.seq, e.t, e.wall, d.by))
    planned = {i.id: i for i in scenario.injects}
    out = []
    for iid in order:
        pub = published.get(iid)
        status: InjectStatus = ("published" if pub else "skipped" if iid in skipped else "held" if iid in held
                                else "unpublished")
        moment = pub[0] if pub else None
        plan = planned.get(iid)
        if plan is not None:
            cont = plan.contingency
            record = InjectRecord(
                id=iid, subject=plan.subject, channel=plan.channel, sender=plan.from_, to=plan.to, scheduled_t=plan.at,
                synopsis=plan.synopsis, objective=plan.objective, expect=tuple(expectation_text(x) for x in plan.expect),
                contingency=f"after {human(cont.after)}: publish {cont.publish}" if cont else None, status=status,
                published=moment, contingency_of=pub[1].contingency_of if pub else None, held=tuple(held.get(iid, [])),
                skipped=skipped.get(iid))  # fmt: skip
        else:
            seen = pub[1] if pub else None  # what the players saw of it (a held or skipped one: nothing)
            record = InjectRecord(
                id=iid, subject=seen.subject if seen else "", channel=seen.channel if seen else "",
                sender=seen.sender if seen else "", to=seen.to if seen else "", scheduled_t=seen.scheduled_t if seen else None,
                synopsis=None, objective=None, expect=(), contingency=None, status=status, published=moment,
                contingency_of=seen.contingency_of if seen else None, held=tuple(held.get(iid, [])),
                skipped=skipped.get(iid))  # fmt: skip
        out.append(record)
    return out


# ---------------------------------------------------------------- decisions, notes, hot wash, pace, people


@dataclass(frozen=True)
class Decision:
    """One entry of the decision log."""

    seq: int
    t: float
    wall: str
    decision: str
    options: tuple[str, ...]
    decided_by: str
    rationale: str
    author: str
    inject: str | None


@dataclass(frozen=True)
class Note:
    """An evaluator's note (about one objective, or the exercise as a whole)."""

    seq: int
    t: float
    wall: str
    text: str
    author: str
    objective: str | None


@dataclass(frozen=True)
class HotWash:
    """One participant's hot wash entry."""

    seq: int
    t: float
    wall: str
    person: str
    went_well: str
    to_improve: str
    author: str


@dataclass(frozen=True)
class Pause:
    """The scenario clock stood still from ``paused`` to ``resumed`` (None: never resumed)."""

    paused: Moment
    resumed: Moment | None


@dataclass(frozen=True)
class Participant:
    """Someone the journal places in the exercise with a role: ``RoleAssigned`` or ``ResponderJoined``."""

    person: str
    roles: tuple[str, ...]
    joined_t: float | None  # first ResponderJoined


def decisions(events: Sequence[Event[Payload]]) -> list[Decision]:
    """The decision log, in journal order."""
    return [Decision(e.seq, e.t, e.wall, d.decision, tuple(d.options), d.decided_by, d.rationale, d.author, d.inject)
            for e in events if isinstance(d := e.data, DecisionRecorded)]  # fmt: skip


def evaluator_notes(events: Sequence[Event[Payload]]) -> list[Note]:
    """Every evaluator note, in journal order."""
    return [Note(e.seq, e.t, e.wall, d.text, d.author, d.objective) for e in events if isinstance(d := e.data, EvaluatorNoted)]


def hot_wash(events: Sequence[Event[Payload]]) -> list[HotWash]:
    """The hot wash, grouped by participant (in order of each one's first entry), entries in journal order."""
    entries = [HotWash(e.seq, e.t, e.wall, d.person, d.went_well, d.to_improve, d.author)
               for e in events if isinstance(d := e.data, HotWashNoted)]  # fmt: skip
    people = list(dict.fromkeys(h.person for h in entries))
    return sorted(entries, key=lambda h: people.index(h.person))  # stable: journal order within a person


def paces(events: Sequence[Event[Payload]]) -> list[PaceRecord]:
    """Each ``PaceSet``, in journal order."""
    return [PaceRecord(pace=d.pace, factor=d.factor, by=d.by, t=e.t, seq=e.seq)
            for e in events if isinstance(d := e.data, PaceSet)]  # fmt: skip


def pauses(events: Sequence[Event[Payload]]) -> list[Pause]:
    """Each pause of the scenario clock and its resume."""
    out: list[Pause] = []
    open_: Moment | None = None
    for e in events:
        d = e.data
        if isinstance(d, ClockPaused) and open_ is None:
            open_ = Moment(e.seq, e.t, e.wall, d.by)
        elif isinstance(d, ClockResumed) and open_ is not None:
            out.append(Pause(open_, Moment(e.seq, e.t, e.wall, d.by)))
            open_ = None
    return out + ([Pause(open_, None)] if open_ is not None else [])


def participants(events: Sequence[Event[Payload]]) -> list[Participant]:
    """People with a role in the exercise, in order of first appearance, each with every role they held or joined as."""
    roles: dict[str, list[str]] = {}
    joined: dict[str, float] = {}
    for e in events:
        d = e.data
        if isinstance(d, RoleAssigned):
            held = roles.setdefault(d.person, [])
            held += [d.role] if d.role not in held else []
        elif isinstance(d, ResponderJoined):
            held = roles.setdefault(d.person, [])
            held += [d.role] if d.role and d.role not in held else []
            joined.setdefault(d.person, e.t)
    return [Participant(p, tuple(rs), joined.get(p)) for p, rs in roles.items()]


def controllers(events: Sequence[Event[Payload]]) -> list[str]:
    """Who used the facilitator's controls (published, held or skipped an inject, set the pace, paused,
    rated an objective), in order of first use; the schedule, contingencies and the conductor are not people."""
    names: list[str] = []
    for e in events:
        d = e.data
        by = d.by if isinstance(d, (InjectPublished, InjectHeld, InjectSkipped, PaceSet, ClockPaused, ClockResumed,
                                    ObjectiveRated)) else None  # fmt: skip
        if by and by not in ("schedule", "contingency", "conductor") and by not in names:
            names.append(by)
    return names


# ---------------------------------------------------------------- the scorecard's summary


def exercise_summary(scenario: Scenario, events: Sequence[Event[Payload]], end_t: float | None) -> ExerciseSummary:
    """The exercise in figures, for a tabletop's scorecard."""
    log = inject_log(scenario, events)
    count = {s: sum(1 for r in log if r.status == s) for s in ("published", "held", "skipped", "unpublished")}
    fired = sum(1 for e in events if isinstance(e.data, InjectPublished) and e.data.by == "contingency")
    end = events[-1] if events else None
    return ExerciseSummary(
        paces=paces(events), injects=len(log), injects_published=count["published"], injects_held=count["held"],
        injects_skipped=count["skipped"], injects_unpublished=count["unpublished"], contingencies_fired=fired,
        decisions=len(decisions(events)), evaluator_notes=len(evaluator_notes(events)),
        hot_wash_entries=sum(1 for e in events if isinstance(e.data, HotWashNoted)),
        objective_overrides=sum(1 for e in events if isinstance(e.data, ObjectiveRated)),
        pauses=sum(1 for e in events if isinstance(e.data, ClockPaused)),
        scenario_seconds=end_t, wall_seconds=wall_between(events[0].wall, end.wall) if end is not None else None,
    )  # fmt: skip


# ---------------------------------------------------------------- the postmortem's sections


@dataclass(frozen=True)
class ExerciseContext:
    """What the postmortem's tabletop sections lay out (plain texts, unescaped)."""

    clocks: str
    paces: list[str]
    pauses: list[str]
    simulated: str
    injects: list[dict[str, str]]
    decisions: list[dict[str, str]]
    notes: list[dict[str, str]]
    hot_wash: list[dict[str, str]]
    times: list[dict[str, str]]


def pace_text(p: PaceRecord) -> str:
    """``'4h:45m (5.33 scenario seconds per wall second), set at +0.0s by conductor'``."""
    still = {"manual": " (the scenario clock moves on the facilitator's word)",
             "instant": " (the scenario clock jumps to each next deadline: scripted participants)"}
    rate = (" (the scenario clock runs with the wall clock)" if p.factor == 1 else
            f" ({p.factor:.3g} scenario seconds per wall second)" if p.factor is not None else still.get(p.pace, ""))
    return f"{p.pace}{rate}, set at {format_offset(p.t)} by {p.by}"


def pause_text(p: Pause, start_wall: str) -> str:
    """``'paused at +1h05m (wall …) by dana, resumed by dana after 3m12s of wall clock'``."""
    text = f"paused at {both_clocks(p.paused.t, p.paused.wall, start_wall)} by {p.paused.by}"
    if p.resumed is None:
        return text + "; not resumed before the journal ends"
    stood = wall_between(p.paused.wall, p.resumed.wall)
    return text + f", resumed by {p.resumed.by} after {human(stood)} of wall clock"


def clocks_text(card: Scorecard, start_wall: str) -> str:
    """The sentence on the two clocks, with how long the exercise took on each."""
    ex = card.exercise
    took = ""
    if ex is not None and ex.scenario_seconds is not None and ex.wall_seconds is not None:
        took = f" The exercise played {human(ex.scenario_seconds)} of scenario time in {human(ex.wall_seconds)} of wall clock."
    return ("Offsets (+…) are on the scenario clock: the exercise's own time, at its pace, standing still while paused; "
            f"the wall clock is real UTC time (the exercise began at {wall_clock(start_wall)}).{took}")


def exercise_context(journal: Journal, card: Scorecard) -> ExerciseContext | None:
    """The postmortem's tabletop sections; ``None`` for any other drill (whose postmortem is unchanged)."""
    if card.mode != TABLETOP or not journal.events:
        return None
    start = journal.events[0]
    if not isinstance(start.data, DrillStarted):
        return None
    events, w0 = journal.events, start.wall
    injects = []
    for r in inject_log(start.data.scenario, events):
        p = r.published
        fate = [f"held by {h.by} at {format_offset(h.t)}" for h in r.held]
        fate += [f"skipped by {r.skipped.by} at {format_offset(r.skipped.t)}"] if r.skipped else []
        injects.append({
            "id": r.id, "subject": one_line(r.subject, 160), "channel": r.channel.replace("_", " "),
            "route": f"{r.sender} → {r.to}" if r.sender else "—",
            "scheduled": format_offset(r.scheduled_t) if r.scheduled_t is not None else "unscheduled",
            "published": format_offset(p.t) if p else "—", "wall": wall_clock(p.wall) if p else "—",
            "how": "; ".join([r.how] * bool(p) + fate) or _STATUS_TEXT[r.status],
            "status": _STATUS_TEXT[r.status],
        })  # fmt: skip
    decision_rows = [{"when": format_offset(d.t), "wall": wall_clock(d.wall), "decision": one_line(d.decision, 400),
                      "options": "; ".join(one_line(o, 160) for o in d.options) or "—", "decided_by": d.decided_by,
                      "rationale": one_line(d.rationale, 400) or "—", "inject": d.inject or "—"}
                     for d in decisions(events)]  # fmt: skip
    note_rows = [{"when": format_offset(n.t), "author": n.author, "objective": n.objective or "the exercise",
                  "text": one_line(n.text, 400)} for n in evaluator_notes(events)]  # fmt: skip
    wash_rows = [{"person": h.person, "went_well": one_line(h.went_well, 400) or "—",
                  "to_improve": one_line(h.to_improve, 400) or "—"} for h in hot_wash(events)]  # fmt: skip
    simulated = ("Every fault was a simulated shadow (journaled by the simulator): no fault was injected on a real system."
                 if simulated_faults(events) else "")
    return ExerciseContext(
        clocks=clocks_text(card, w0), paces=[pace_text(p) for p in paces(events)],
        pauses=[pause_text(p, w0) for p in pauses(events)], simulated=simulated, injects=injects,
        decisions=decision_rows, notes=note_rows, hot_wash=wash_rows, times=measure_rows(card),
    )  # fmt: skip


def measure_rows(card: Scorecard) -> list[dict[str, str]]:
    """The scorecard's measures on both clocks."""
    return [{"name": m.name, "scenario": human(m.seconds), "wall": human(m.wall_seconds), "definition": m.definition}
            for m in card.times]  # fmt: skip


def tabletop_faults(faults: list[dict[str, Any]], journal: Journal) -> list[dict[str, Any]]:
    """The postmortem's fault lines for a tabletop whose faults the simulator played: each said to be a
    simulated shadow (how a live drill would inject it, in brackets), never "injected"."""
    if not simulated_faults(journal.events):
        return faults
    out = []
    for f in faults:
        injection = str(f.get("injection", ""))
        if injection.startswith("injected "):
            injection = "its simulated shadow began " + injection.removeprefix("injected ")
        rollback = str(f.get("rollback", "")).replace("rolled back +", "ended +").replace(
            "no rollback recorded", "still open at the end")
        out.append({**f, "how": f"simulated shadow (a live drill injects it by: {f.get('how', '—')})",
                    "injection": injection, "rollback": rollback})
    return out

