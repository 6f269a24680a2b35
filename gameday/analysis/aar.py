"""The After-Action Report / Improvement Plan (AAR/IP) of a tabletop drill, in HSEEP's shape.

:func:`render_aar` lays out :func:`aar_context` with ``aar.md.j2`` or ``aar.html.j2`` (a project's
templates folder overrides them by name, as for the postmortem). Sections: the exercise overview
(scenario, date, mode, pace, participants and their roles), each objective with its rating
(derived and the facilitator's override with its note) and evidence, strengths, areas for
improvement, and the Improvement Plan table: one row per area for improvement. Owner, capability
element, start and completion dates are "to be assigned" — the journal never says them, and the
report never invents them.

Every sentence follows from journal events (and the scorecard computed from them); people's text
is data: escaped for Markdown (every ``{{ value }}``, :func:`~gameday.analysis.templating.md_escape`)
and HTML (autoescape). Same journal, same bytes: no current time, no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gameday.analysis.clocks import both_clocks, wall_clock
from gameday.analysis.exercise import (
    Decision,
    InjectRecord,
    controllers,
    decisions,
    evaluator_notes,
    expectation_text,
    hot_wash,
    inject_log,
    measure_rows,
    pace_text,
    paces,
    participants,
    pause_text,
    pauses,
)
from gameday.analysis.findings import ACTION_TEXT, cadence_misses, late_by, step_lateness, via_text
from gameday.analysis.matching import simulated_faults
from gameday.analysis.objectives import RATING_TEXT
from gameday.analysis.timeline import one_line
from gameday.errors import ConfigError, JournalError
from gameday.journal import Journal
from gameday.model.duration import human
from gameday.model.events import DrillStarted, InjectPublished
from gameday.model.exercise import Objective
from gameday.model.scenario import Scenario
from gameday.model.scorecard import ObjectiveResult, Scorecard, StepResult, headline, verdict_reason
from gameday.model.terms import format_offset

AAR_TEMPLATES = {"md": "aar.md.j2", "html": "aar.html.j2"}
TO_BE_ASSIGNED = "to be assigned"
RATING_CLASS = {"P": "ok", "S": "late", "M": "miss", "U": "miss"}
_VERDICT = {"on_time": "on time", "late": "late", "missed": "not done", "not_applicable": "did not fall due"}


@dataclass(frozen=True)
class Area:
    """An area for improvement and its Improvement Plan row (corrective action, capability)."""

    issue: str
    corrective_action: str = TO_BE_ASSIGNED
    capability: str = "—"
    element: str = TO_BE_ASSIGNED
    owner: str = TO_BE_ASSIGNED
    start: str = TO_BE_ASSIGNED
    completion: str = TO_BE_ASSIGNED


@dataclass(frozen=True)
class ObjectiveView:
    """One objective as the report shows it: rating (derived, override) and evidence rows (texts unescaped)."""

    id: str
    title: str
    capability: str
    rating: str
    rating_text: str
    rating_class: str
    derived: str
    derived_rule: str
    override: str  # "" without one
    steps: list[dict[str, str]]
    injects: list[dict[str, str]]
    decisions: list[dict[str, str]]
    notes: list[dict[str, str]]


@dataclass(frozen=True)
class AarContext:
    """Everything the AAR templates lay out."""

    card: Scorecard
    overview: dict[str, str]
    participants: list[dict[str, str]]
    objectives: list[ObjectiveView]
    strengths: list[str]
    areas: list[Area]
    times: list[dict[str, str]]
    general_notes: list[dict[str, str]] = field(default_factory=list)
    other_decisions: list[dict[str, str]] = field(default_factory=list)
    paces: list[str] = field(default_factory=list)
    pauses: list[str] = field(default_factory=list)


def render_aar(journal: Journal, card: Scorecard, fmt: Literal["md", "html"], templates_dir: Path | None = None) -> str:
    """The after-action report of a tabletop drill as Markdown (``md``) or a self-contained HTML page.

    Raises :class:`~gameday.errors.JournalError` (line 1) for a journal that is not a tabletop's, and
    :class:`~gameday.errors.ConfigError` for an unknown format or a broken template."""
    if fmt not in AAR_TEMPLATES:
        raise ConfigError(f"unknown after-action report format {fmt!r} (expected one of: {', '.join(AAR_TEMPLATES)})")
    context = aar_context(journal, card)
    from gameday.analysis.templating import render_report

    return render_report("after-action report", AAR_TEMPLATES[fmt], fmt, templates_dir, c=context, card=card)


def aar_context(journal: Journal, card: Scorecard) -> AarContext:
    """The report's content, from the journal and its scorecard (plain texts, unescaped)."""
    start = journal.events[0] if journal.events else None
    if start is None or not isinstance(start.data, DrillStarted) or start.data.mode != "tabletop" or card.objectives is None:
        mode = start.data.mode if start is not None and isinstance(start.data, DrillStarted) else "unknown"
        raise JournalError(journal.path, 1, f"an after-action report is written for tabletop drills; this drill's mode is "
                                            f"{mode} (its review is the postmortem: gameday postmortem)")
    scenario, events, w0 = start.data.scenario, journal.events, start.wall
    log = inject_log(scenario, events)
    views = [_objective(o, card, log, journal, w0) for o in card.objectives]
    tied = {seq for o in card.objectives for seq in o.decisions}
    known = {o.id for o in card.objectives}
    general = [_note_row(n.t, n.author, n.text) for n in evaluator_notes(events) if n.objective not in known]
    return AarContext(
        card=card, overview=_overview(journal, card, scenario, log), participants=_participants(journal),
        objectives=views, strengths=_strengths(card, journal), areas=_areas(card, journal, scenario, log),
        times=measure_rows(card), general_notes=general,
        other_decisions=[_decision_row(d) for d in decisions(events) if d.seq not in tied],
        paces=[pace_text(p) for p in paces(events)],
        pauses=[pause_text(p, w0) for p in pauses(events)],
    )  # fmt: skip


def _date(iso: str | None) -> str:
    return "—" if not iso else iso[:10]


def _overview(journal: Journal, card: Scorecard, scenario: Scenario, log: list[InjectRecord]) -> dict[str, str]:
    ex = card.exercise
    took = "—"
    if ex is not None and ex.scenario_seconds is not None:
        took = f"{human(ex.scenario_seconds)} on the scenario clock, {human(ex.wall_seconds)} on the wall clock"
    count = {s: sum(1 for r in log if r.status == s) for s in ("published", "held", "skipped", "unpublished")}
    fired = ex.contingencies_fired if ex is not None else 0
    msel = (f"{len(log)} inject(s): {count['published']} published ({fired} by a contingency), {count['held']} held, "
            f"{count['skipped']} skipped, {count['unpublished']} not published")
    evaluators = list(dict.fromkeys(n.author for n in evaluator_notes(journal.events)))
    return {
        "title": card.title,
        "scenario_id": card.scenario_id,
        "drill_id": card.drill_id,
        "description": one_line(scenario.description, 600),
        "date": _date(card.started_at),
        "started": f"{card.started_at[:10]} {wall_clock(card.started_at)}",
        "ended": (f"{card.ended_at[:10]} {wall_clock(card.ended_at)}" if card.ended_at
                  else "— (the journal ends before the exercise did)"),
        "mode": card.mode,
        "outcome": card.outcome + (f" ({card.abort_reason})" if card.abort_reason else ""),
        "duration": took,
        "msel": msel,
        "controllers": ", ".join(controllers(journal.events)) or "—",
        "evaluators": ", ".join(evaluators) or "—",
        "objectives": "; ".join(f"{o.id}: {o.title}" for o in scenario.objectives) or "none (the scenario names no objectives)",
        "headline": headline(card),
        "reason": verdict_reason(card),
        "simulated": ("Every fault was a simulated shadow (journaled by the simulator): no fault was injected on a real system."
                      if simulated_faults(journal.events) else ""),
    }  # fmt: skip


def _participants(journal: Journal) -> list[dict[str, str]]:
    return [{"person": p.person, "roles": ", ".join(p.roles) or "—",
             "joined": format_offset(p.joined_t) if p.joined_t is not None else "—"}
            for p in participants(journal.events)]  # fmt: skip


def _step_row(s: StepResult) -> dict[str, str]:
    who = f"{s.author} ({s.author_role})" if s.author and s.author_role else s.author or "—"
    return {"id": s.id, "action": ACTION_TEXT.get(s.action, s.action), "role": s.role or "—",
            "deadline": format_offset(s.deadline_t), "done": format_offset(s.done_t), "verdict": _VERDICT[s.verdict],
            "who": who}  # fmt: skip


def _decision_row(d: Decision) -> dict[str, str]:
    return {"when": format_offset(d.t), "decision": one_line(d.decision, 400), "decided_by": d.decided_by,
            "options": "; ".join(one_line(x, 160) for x in d.options) or "—", "rationale": one_line(d.rationale, 400) or "—",
            "inject": d.inject or "—"}  # fmt: skip


def _note_row(t: float, author: str, text: str) -> dict[str, str]:
    return {"when": format_offset(t), "author": author, "text": one_line(text, 400)}


def _objective(o: ObjectiveResult, card: Scorecard, log: list[InjectRecord], journal: Journal, w0: str) -> ObjectiveView:
    steps = {s.id: s for s in card.steps}
    records = {r.id: r for r in log}
    injects = []
    for ref in o.injects:
        r = records[ref.id]
        when = both_clocks(r.published.t, r.published.wall, w0) if r.published else "—"
        fate = r.how if r.published else {"held": "held", "skipped": "skipped", "unpublished": "not published"}[r.status]
        injects.append({"id": r.id, "subject": one_line(r.subject, 160), "when": when, "how": fate,
                        "expect": "; ".join(r.expect) or "—"})
    by_seq = set(o.decisions)
    decision_rows = [_decision_row(d) for d in decisions(journal.events) if d.seq in by_seq]
    note_seqs = set(o.notes)
    note_rows = [_note_row(n.t, n.author, n.text) for n in evaluator_notes(journal.events) if n.seq in note_seqs]
    override = ""
    if o.override is not None:
        v = o.override
        override = f"{v.rating} ({RATING_TEXT[v.rating]}), rated by {v.by} at {format_offset(v.t)}: {one_line(v.note, 400)}"
    return ObjectiveView(
        id=o.id, title=o.title, capability=o.capability or "—", rating=o.rating or "not rated",
        rating_text=RATING_TEXT.get(o.rating or "", "none of its steps fell due"),
        rating_class=RATING_CLASS.get(o.rating or "", "na"), derived=o.derived or "not rated", derived_rule=o.derived_rule,
        override=override, steps=[_step_row(steps[s.id]) for s in o.steps if s.id in steps], injects=injects,
        decisions=decision_rows, notes=note_rows,
    )  # fmt: skip


def _rated(o: ObjectiveResult) -> str:
    """``'Objective x (title) was rated S: performed with some challenges'`` (+ whose rating)."""
    text = f"Objective {o.id} ({o.title}) was rated {o.rating}: {RATING_TEXT.get(o.rating or '', '')}"
    if o.override is not None:
        note = one_line(o.override.note, 300).rstrip(".")
        derived = o.derived or "not rated"
        text += f" — the facilitator's rating, by {o.override.by} (\"{note}\"); derived from its steps: {derived}"
    return text + "."


def _step_label(s: StepResult) -> str:
    return f"Step {s.id} ({ACTION_TEXT.get(s.action, s.action)}" + (f", {s.role})" if s.role else ")")


def _strengths(card: Scorecard, journal: Journal) -> list[str]:
    """What went well: detection and steps on time, objectives rated P or S, the hot wash's 'went well'."""
    out = []
    d = card.detection
    if d.verdict == "on_time":
        out.append(f"Detection came at {format_offset(d.detected_t)}{via_text(d.via, d.signal)}, within its deadline "
                   f"({format_offset(d.deadline_t)}).")
    out += [f"{_step_label(s)} was done on time: at {format_offset(s.done_t)}, deadline {format_offset(s.deadline_t)}."
            for s in card.steps if s.verdict == "on_time"]  # fmt: skip
    out += [_rated(o) for o in card.objectives or [] if o.rating in ("P", "S")]
    out += [f"{h.person} (hot wash, went well): {one_line(h.went_well, 400)}" for h in hot_wash(journal.events)
            if h.went_well.strip()]  # fmt: skip
    return out


def _capability(objectives: list[Objective], step: str | None = None, objective: str | None = None) -> str:
    for o in objectives:
        if (step is not None and step in o.steps) or (objective is not None and o.id == objective):
            return o.capability or "—"
    return "—"


def _areas(card: Scorecard, journal: Journal, scenario: Scenario, log: list[InjectRecord]) -> list[Area]:
    """Areas for improvement, each with its Improvement Plan row: detection, late and missed steps,
    objectives rated M or U, contingencies that fired, the hot wash's 'to improve'."""
    objs = list(scenario.objectives)
    out: list[Area] = []
    d = card.detection
    within = human(scenario.detection.within)
    if d.verdict == "late":
        out.append(Area(f"Detection came at {format_offset(d.detected_t)}{via_text(d.via, d.signal)}, "
                        f"{late_by(d.detected_t, d.deadline_t, card.scale)} after its deadline ({format_offset(d.deadline_t)}).",
                        f"Bring detection of this failure within {within} of its start (the scenario's deadline)."))
    elif d.verdict == "silent":
        end = " (the exercise ended before its deadline)" if card.end_t is not None and d.deadline_t is not None \
            and card.end_t < d.deadline_t else ""
        out.append(Area(f"Nothing detected the failure: no alert matched a detection signal and no one reported it "
                        f"(deadline {format_offset(d.deadline_t)}){end}.",
                        f"Find what would make this failure known within {within} of its start."))
    misses = cadence_misses(journal)  # recurring steps done by their deadline, late for a gap in their cadence
    for s in card.steps:
        miss = misses.get(s.id) if s.verdict == "late" else None
        if miss is not None:
            out.append(Area(f"{_step_label(s)} was first done at {format_offset(s.done_t)}, by its deadline "
                            f"({format_offset(s.deadline_t)}), and {step_lateness(s, misses, card.scale)}.",
                            f"Rehearse step {s.id} so that it is repeated at least every {human(miss.every)} while the "
                            "incident is open.", _capability(objs, step=s.id)))
        elif s.verdict == "late":
            gap = human(s.deadline_t - s.anchor_t) if s.deadline_t is not None and s.anchor_t is not None else "its deadline"
            late = late_by(s.done_t, s.deadline_t, card.scale)
            out.append(Area(f"{_step_label(s)} was done at {format_offset(s.done_t)}, {late} "
                            f"after its deadline ({format_offset(s.deadline_t)}).",
                            f"Rehearse step {s.id} so that it is done within {gap} of {s.anchor}.",
                            _capability(objs, step=s.id)))
        elif s.verdict == "missed":
            out.append(Area(f"{_step_label(s)} was not done during the exercise (deadline {format_offset(s.deadline_t)}).",
                            f"Make sure the {s.role or 'team'} is prompted to {ACTION_TEXT.get(s.action, s.action)} "
                            f"(step {s.id}): check its checklist and runbook.", _capability(objs, step=s.id)))
    for o in card.objectives or []:
        if o.rating in ("M", "U"):
            weak = [s.id for s in o.steps if s.verdict in ("late", "missed")]
            action = (f"Re-exercise objective {o.id} once the corrective actions for step(s) {', '.join(weak)} are in place."
                      if weak else TO_BE_ASSIGNED)
            out.append(Area(_rated(o), action, o.capability or "—"))
    out += _contingencies(journal, scenario, log)
    out += [Area(f"{h.person} (hot wash, to improve): {one_line(h.to_improve, 400)}") for h in hot_wash(journal.events)
            if h.to_improve.strip()]  # fmt: skip
    return out


def _contingencies(journal: Journal, scenario: Scenario, log: list[InjectRecord]) -> list[Area]:
    """Each contingency inject that fired: the expected play of the inject it backs did not happen in time."""
    planned = {i.id: i for i in scenario.injects}
    records = {r.id: r for r in log}
    out = []
    for e in journal.of(InjectPublished):
        d = e.data
        if d.by != "contingency":
            continue
        of = planned.get(d.contingency_of or "")
        text = f"Contingency inject {d.inject} ({one_line(d.subject, 160)}) was published at {format_offset(e.t)}"
        if of is not None and of.contingency is not None and d.missing:  # journaled with it: what was not done
            text += (f": the expected action(s) of inject {of.id} not done within {human(of.contingency.after)} of its "
                     f"publication: {'; '.join(one_line(m, 160) for m in d.missing)}")
        elif of is not None and of.contingency is not None:
            expected = "; ".join(expectation_text(x) for x in of.expect)
            text += (f": an expected action of inject {of.id} ({expected}) had not happened within "
                     f"{human(of.contingency.after)} of its publication")
        own = records.get(d.inject)
        objective = (of.objective if of is not None else None) or (own.objective if own is not None else None)
        out.append(Area(text + ".", TO_BE_ASSIGNED, _capability(list(scenario.objectives), objective=objective)))
    return out
