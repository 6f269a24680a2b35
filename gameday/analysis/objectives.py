"""Exercise objectives rated P / S / M / U (HSEEP), from a tabletop's journal.

An objective (the scenario's ``objectives:``) is evidenced by response steps, its critical tasks.
Its **derived** rating follows from those steps' verdicts on the scorecard (``docs/scoring.md``,
"Objectives"); a step that did not fall due (``not_applicable``) is not judged and does not count:

* **P** (performed without challenges): every step that fell due was done on time;
* **S** (performed with some challenges): every one was done, at least one late;
* **M** (performed with major challenges): at least one was done, at least one was missed;
* **U** (unable to be performed): none was done;
* no rating: none of its steps fell due (nothing to judge it by).

The facilitator may **override** it with ``ObjectiveRated`` (rating and note); the latest one wins.
The result keeps both, the derived rating with its rule and the override with its note, so
reports show both. Evidence: its steps with verdicts and times, the MSEL injects that test it
(``objective:``) and what became of each, the decisions answering those injects, and the
evaluator notes about it (by journal sequence number).
"""

from __future__ import annotations

from collections.abc import Sequence

from gameday.analysis.exercise import InjectRecord, inject_log
from gameday.model.events import DecisionRecorded, EvaluatorNoted, Event, ObjectiveRated, Payload
from gameday.model.exercise import RATINGS
from gameday.model.scenario import Scenario
from gameday.model.scorecard import ObjectiveInject, ObjectiveResult, ObjectiveStep, Rating, RatingOverride, StepResult

#: The HSEEP words of each rating.
RATING_TEXT: dict[str, str] = RATINGS  # HSEEP's words, defined once in the model
JUDGED = ("on_time", "late", "missed")


def derive_rating(verdicts: Sequence[str]) -> tuple[Rating | None, str]:
    """The rating the step verdicts give, and the rule that gave it, in words (see the module)."""
    judged = [v for v in verdicts if v in JUDGED]
    on_time, late, missed = (sum(1 for v in judged if v == k) for k in JUDGED)
    ignored = len(verdicts) - len(judged)
    aside = f" ({ignored} step(s) did not fall due: not counted)" if ignored else ""
    n = len(judged)
    if not judged:
        return None, "not rated: none of its steps fell due, so there is nothing to judge it by"
    if on_time == n:
        return "P", f"P: all {n} step(s) that fell due were done on time{aside}"
    if missed == 0:
        return "S", f"S: all {n} step(s) that fell due were done, {late} of them late{aside}"
    if missed < n:
        done = f"{n - missed} of {n} step(s) that fell due were done ({on_time} on time, {late} late)"
        return "M", f"M: {done}, {missed} missed{aside}"
    return "U", f"U: none of the {n} step(s) that fell due was done{aside}"


def _inject_ref(r: InjectRecord) -> ObjectiveInject:
    moment = r.published or r.skipped or (r.held[-1] if r.held else None)
    return ObjectiveInject(id=r.id, status=r.status, t=moment.t if moment else None, seq=moment.seq if moment else None)


def rate_objectives(scenario: Scenario, steps: Sequence[StepResult], events: Sequence[Event[Payload]]) -> list[ObjectiveResult]:
    """Every objective of the scenario, in its order, rated and evidenced (pure: same inputs, same result)."""
    verdicts = {s.id: s for s in steps}
    overrides: dict[str, RatingOverride] = {}
    for e in events:
        d = e.data
        if isinstance(d, ObjectiveRated):  # journal order: the latest wins
            overrides[d.objective] = RatingOverride(rating=d.rating, note=d.note, by=d.by, t=e.t, seq=e.seq)
    log = inject_log(scenario, events)
    out = []
    for obj in scenario.objectives:
        own = [ObjectiveStep(id=s.id, verdict=s.verdict, deadline_t=s.deadline_t, done_t=s.done_t)
               for sid in obj.steps if (s := verdicts.get(sid)) is not None]  # fmt: skip
        derived, rule = derive_rating([s.verdict for s in own])
        tests = [r for r in log if r.objective == obj.id]
        ids = {r.id for r in tests}
        decided = [e.seq for e in events if isinstance(e.data, DecisionRecorded) and e.data.inject in ids]
        notes = [e.seq for e in events if isinstance(e.data, EvaluatorNoted) and e.data.objective == obj.id]
        override = overrides.get(obj.id)
        out.append(ObjectiveResult(
            id=obj.id, title=obj.title, capability=obj.capability, steps=own, derived=derived, derived_rule=rule,
            override=override, rating=override.rating if override else derived, injects=[_inject_ref(r) for r in tests],
            decisions=decided, notes=notes))  # fmt: skip
    return out
