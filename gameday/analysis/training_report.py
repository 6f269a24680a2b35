"""The training report of a training drill: the incident commander's rubric, item by item, for the trainee.

:func:`render_training` lays out :func:`training_context` with ``training.md.j2`` or
``training.html.j2`` (a project's templates folder overrides them by name, as for the postmortem).
Sections: the heading (trainee, scenario, difficulty, score, outcome), the rubric table (item,
verdict, why), each item with its evidence (+offset, kind, what it shows) and coaching, the hints
taken and their cost, the story (the simulation's state changes and what moved them) and what to
practise next (the coaching of the items missed or partly met, in rubric order).

Every sentence follows from journal events (the :class:`~gameday.model.rubric.TrainingScore` is
computed from them). Times are on the scenario clock only (``+6m00s``); the one wall-clock value is
the session's date (``DrillStarted.wall``), and the drill id (made from the wall clock) is left out: the
report of a run at pace x100 is the same bytes as at x10. People's text is data: escaped for Markdown
(every ``{{ value }}``) and HTML (autoescape).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gameday.analysis.rubric_facts import count, role_words
from gameday.analysis.timeline import one_line
from gameday.errors import ConfigError, JournalError
from gameday.journal import Journal, first_of
from gameday.model.events import StateChanged, TrainingStarted
from gameday.model.rubric import TrainingScore
from gameday.model.terms import format_offset

TRAINING_TEMPLATES = {"md": "training.md.j2", "html": "training.html.j2"}
VERDICT_CLASS = {"met": "ok", "partly": "late", "missed": "miss", "n/a": "na"}
_OUTCOME = {"completed": "completed", "aborted": "aborted", "unfinished": "unfinished (the journal ends before the drill did)"}


@dataclass(frozen=True)
class EvidenceRow:
    seq: int
    when: str
    kind: str
    text: str


@dataclass(frozen=True)
class ItemView:
    """One rubric item as the report shows it (texts unescaped)."""

    id: str
    title: str
    verdict: str
    verdict_class: str
    why: str
    coaching: str
    evidence: list[EvidenceRow]


@dataclass(frozen=True)
class TrainingContext:
    """Everything the training report templates lay out."""

    overview: dict[str, str]
    items: list[ItemView]
    hints: list[dict[str, str]]
    story: list[dict[str, str]]
    practise: list[dict[str, str]]


def render_training(journal: Journal, score: TrainingScore, fmt: Literal["md", "html"],
                    templates_dir: Path | None = None) -> str:
    """The training report as Markdown (``md``) or a self-contained HTML page.

    Raises :class:`~gameday.errors.JournalError` (line 1) for a journal that is not a training drill's,
    and :class:`~gameday.errors.ConfigError` for an unknown format or a broken template."""
    if fmt not in TRAINING_TEMPLATES:
        raise ConfigError(f"unknown training report format {fmt!r} (expected one of: {', '.join(TRAINING_TEMPLATES)})")
    context = training_context(journal, score)
    from gameday.analysis.templating import render_report

    return render_report("training report", TRAINING_TEMPLATES[fmt], fmt, templates_dir, c=context, score=score)


def training_context(journal: Journal, score: TrainingScore) -> TrainingContext:
    """The report's content, from the journal and its training score (plain texts, unescaped)."""
    training = first_of(journal.events, TrainingStarted)
    if training is None:
        mode = journal.started.data.mode if journal.events else "unknown"
        raise JournalError(journal.path, 1, f"a training report is written for training drills; this drill's mode is "
                                            f"{mode} (its review is the postmortem: gameday postmortem)")
    t, default = training.data, journal.started.data.scenario.severity
    items = [ItemView(id=i.id, title=i.title, verdict=i.verdict, verdict_class=VERDICT_CLASS[i.verdict], why=i.why,
                      coaching=i.coaching,
                      evidence=[EvidenceRow(e.seq, format_offset(e.t), e.kind, e.text) for e in i.evidence])
             for i in score.items]  # fmt: skip
    story = [{"when": format_offset(e.t), "from": e.data.from_state or "—", "to": e.data.to_state,
              "trigger": one_line(e.data.trigger, 200),
              "severity": (e.data.severity or default) if e.data.impact and not e.data.recovered else "—",
              "impact": "recovered" if e.data.recovered else "customers affected" if e.data.impact else "no customer impact",
              "message": one_line(e.data.message, 300)}
             for e in journal.of(StateChanged)]  # fmt: skip
    hints = [{"when": format_offset(h.t), "text": one_line(h.text, 400), "cost": f"{h.cost:g}"} for h in score.hints]
    practise = [{"title": i.title, "verdict": i.verdict, "coaching": i.coaching}
                for i in score.items if i.verdict in ("missed", "partly") and i.coaching]  # fmt: skip
    return TrainingContext(overview=_overview(score, t, journal), items=items, hints=hints, story=story, practise=practise)


def _overview(score: TrainingScore, t: TrainingStarted, journal: Journal) -> dict[str, str]:
    applicable = [i.points for i in score.items if i.points is not None]
    earned = sum(p for p in applicable if p is not None)
    cost = sum(h.cost for h in score.hints)
    rule = (f"100 × {earned:g} {'point' if earned == 1 else 'points'} earned / {count(len(applicable), 'applicable item')}"
            if applicable else "no item applied")
    if score.hints:
        rule += f", less {cost:g} for {count(len(score.hints), 'hint')}"
    if score.hints and score.score == 0.0:
        rule += ", floored at 0"
    counts = {v: sum(1 for i in score.items if i.verdict == v) for v in ("met", "partly", "missed", "n/a")}
    people = ", ".join(f"{p.name} ({role_words(p.role)})" for p in t.responders) or "none journaled"
    return {
        "trainee": score.trainee,
        "title": score.scenario_title,
        "scenario_id": score.scenario_id,
        "drill_id": score.drill_id,
        "date": score.started_wall[:10] or "—",
        "difficulty": f"{score.difficulty} of 5" if score.difficulty is not None else "not rated",
        "score": f"{score.score:.1f}",
        "rule": rule,
        "outcome": _OUTCOME[score.outcome],
        "verdicts": f"{counts['met']} met, {counts['partly']} partly, {counts['missed']} missed, {counts['n/a']} not applicable",
        "responders": people,
        "faults": "injected for real (--live)" if t.live else "simulated (no fault was injected on a real system)",
        "seed": str(t.seed),
        "simulation": "the scenario's state machine" if t.simulation else "the faults' simulated shadows",
    }
