"""Which scenario a game day plays: the one the program most needs (pure).

Each scenario of the pool falls in the first class that fits, and the lowest class wins:

1. **never run** (no drill of it in the history or earlier in the plan);
2. **did not pass last time** (its latest drill was not passed, aborted or incomplete), the
   oldest failure first;
3. **stale**: not run for ``stale_days`` (90 by default), the longest since first;
4. **covers tags not exercised recently** (none of the last :data:`RECENT_RUNS` drills, history
   and plan together, carried them), the most such tags first;
5. otherwise the longest since its last run.

Ties go by path, so the choice is deterministic. A game day of the plan counts as a run of its
scenario on its date (its verdict unknown: "planned", never a failure), so the plan rotates
through the pool. The reason is given in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = ["Candidate", "Run", "choose"]

FAILED = frozenset({"not_passed", "aborted", "incomplete"})
#: "Recently", for tags: the last this many drills (and planned game days) before the day.
RECENT_RUNS = 3


@dataclass(frozen=True)
class Run:
    """A drill of a scenario on a day, and its verdict ('planned' for the plan's own game days)."""

    scenario_id: str
    day: date
    verdict: str
    drill_id: str = ""


@dataclass(frozen=True)
class Candidate:
    """A scenario of the pool as the choice sees it."""

    path: str
    scenario_id: str
    tags: tuple[str, ...] = ()


def choose(day: date, pool: Sequence[Candidate], runs: Sequence[Run], stale_days: int = 90) -> tuple[int, str]:
    """The index in ``pool`` of the scenario for the game day on ``day``, and why (rules in the module
    docstring). ``runs`` before ``day`` count; ``pool`` must not be empty."""
    if not pool:
        raise ValueError("the scenario pool is empty")
    before = sorted((r for r in runs if r.day < day), key=lambda r: (r.day, r.drill_id))
    latest: dict[str, Run] = {}
    for run in before:
        latest[run.scenario_id] = run
    tags_of = {c.scenario_id: c.tags for c in pool}
    recent_tags = {t for r in before[-RECENT_RUNS:] for t in tags_of.get(r.scenario_id, ())}
    ranked: list[tuple[tuple[object, ...], int, str]] = []
    for index, c in enumerate(pool):
        last = latest.get(c.scenario_id)
        if last is None:
            ranked.append(((0, c.path), index, "never run"))
            continue
        age = (day - last.day).days
        if last.verdict in FAILED:
            ranked.append(((1, last.day, c.path), index,
                           f"did not pass last time ({last.verdict.replace('_', ' ')}, {last.day}"
                           + (f", drill {last.drill_id}" if last.drill_id else "") + ")"))
        elif age >= stale_days:
            ranked.append(((2, last.day, c.path), index, f"stale: last run {last.day} ({age} days before)"))
        elif uncovered := sorted(set(c.tags) - recent_tags):
            ranked.append(((3, -len(uncovered), last.day, c.path), index,
                           f"covers tags not exercised in the last {RECENT_RUNS} drills: {', '.join(uncovered)}"))
        else:
            ranked.append(((4, last.day, c.path), index, f"longest since its last run ({last.day}, {age} days before)"))
    _, index, why = min(ranked, key=lambda r: (r[0], r[1]))
    return index, why
