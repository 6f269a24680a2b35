"""The wheel of misfortune: the trainee's next scenario, drawn from the scenarios folder.

Google SRE's Wheel of Misfortune spins a past incident for a volunteer, the game master finding
"a balance between the volunteer's experience and the incident's difficulty". Here the balance
is computed, and the wheel leans towards what the trainee most needs to practise:

1. **Candidates**: the scenarios with a ``difficulty:`` (1-5); the others are listed as skipped.
2. **Target difficulty** from the rung (:data:`TARGETS`: observer 1, scribe 1-2, shadow IC 2-3,
   IC 3-5), one up if the latest completed session scored 85 or more, one down under 50.
3. **Weight** = difficulty fit (:data:`FIT`: 1 inside the target, less the further outside)
   × (1 + how many of the trainee's practice items, :func:`gameday.program.training.weakest`,
   the scenario exercises: :data:`EXERCISES`).
4. **Never the same scenario twice in a row**: the scenario of the latest session (by id) gets
   weight 0, unless nothing else can be drawn (the draw says so).
5. **Seeded**: ``random.Random(seed)``; by default the seed comes from the trainee's name and
   the number of their sessions, so asking again gives the same answer until the next session.

:func:`draw_next` is pure; :func:`load_wheel` reads the folder.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from gameday.model.program import Candidate, Draw, RoleHeld, Skipped
from gameday.model.rubric import RUBRIC, RubricItemId, Rung, TrainingScore
from gameday.model.scenario import Scenario
from gameday.model.terms import IC
from gameday.program.training import name_key, rung, weakest

#: The difficulty range each rung aims at (inclusive).
TARGETS: dict[str, tuple[int, int]] = {"observer": (1, 1), "scribe": (1, 2), "shadow IC": (2, 3), "IC": (3, 5)}
#: The latest completed session's score that moves the target one up (at or above) or one down (below).
UP_AT, DOWN_BELOW = 85.0, 50.0
#: Difficulty fit by distance from the target range: inside, one off, two off; further: :data:`FIT_FAR`.
FIT: tuple[float, ...] = (1.0, 0.25, 0.05)
FIT_FAR = 0.01
#: Minutes of ``recovery.within`` that make a scenario long enough to keep an update cadence.
CADENCE_MINUTES = 20


def _severities(sc: Scenario) -> set[str]:
    """The severities that are right at some point: the scenario's, and each simulation state's."""
    if sc.simulation is None:
        return {sc.severity}
    return {sc.severity, *(st.severity or sc.severity for st in sc.simulation.states.values())}


def _changes_severity(sc: Scenario) -> bool:
    if sc.simulation is None:
        return False
    return len({st.severity or sc.severity for st in sc.simulation.states.values()}) > 1


#: What makes a scenario exercise a rubric item: item -> (the rule in words, the test).
EXERCISES: dict[str, tuple[str, Callable[[Scenario], bool]]] = {
    "took-command": ("every scenario", lambda sc: True),
    "delegated": ("two or more roles besides the incident commander's", lambda sc: len(set(sc.roles) - {IC}) >= 2),
    "severity": ("its simulation changes the right severity", _changes_severity),
    "executives": ("SEV1 or SEV2 (the scenario's or a simulation state's)",
                   lambda sc: bool(_severities(sc) & {"SEV1", "SEV2"})),
    "cadence": (f"recovery.within of {CADENCE_MINUTES} minutes or more",
                lambda sc: sc.recovery.within >= CADENCE_MINUTES * 60),
    "decisions": ("a simulation state raises a strong objection",
                  lambda sc: sc.simulation is not None and any(st.objection for st in sc.simulation.states.values())),
    "hands-off": ("it has runbooks", lambda sc: bool(sc.runbooks)),
    "handover": ("training.handover is set", lambda sc: sc.training.handover is not None),
    "resolution": ("every scenario", lambda sc: True),
}


def exercises(sc: Scenario) -> list[RubricItemId]:
    """The rubric items ``sc`` exercises (:data:`EXERCISES`), in rubric order."""
    return [item for item in RUBRIC if EXERCISES[item][1](sc)]  # type: ignore[misc]


def target(rung_name: Rung, latest_score: float | None) -> tuple[int, int]:
    """The difficulty range for a rung, nudged by the latest completed session's score."""
    lo, hi = TARGETS[rung_name]
    nudge = 0 if latest_score is None else 1 if latest_score >= UP_AT else -1 if latest_score < DOWN_BELOW else 0
    return max(1, min(5, lo + nudge)), max(1, min(5, hi + nudge))


def fit(difficulty: int, wanted: tuple[int, int]) -> float:
    """How well a difficulty fits the target range (:data:`FIT`)."""
    lo, hi = wanted
    distance = lo - difficulty if difficulty < lo else difficulty - hi if difficulty > hi else 0
    return FIT[distance] if distance < len(FIT) else FIT_FAR


def default_seed(name: str, sessions: int) -> int:
    """The seed of a draw not given one: from the trainee's name (as compared) and their number of sessions."""
    digest = hashlib.sha256(f"{name_key(name)}\n{sessions}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def draw_next(name: str, sessions: Sequence[TrainingScore], scenarios: Sequence[tuple[Path | str, Scenario]],
              seed: int | None = None, *, roles_elsewhere: Sequence[RoleHeld] = (),
              skipped: Sequence[Skipped] = ()) -> Draw:
    """Draw the trainee's next scenario (rules in the module docstring). ``sessions`` oldest first;
    ``scenarios`` the folder's (path, scenario) pairs; ``skipped`` files already left out by the
    caller (invalid ones), listed with those without a difficulty. ``chosen`` is None only when no
    scenario has a difficulty."""
    standing = rung(sessions, roles_elsewhere)
    completed = [s for s in sessions if s.outcome == "completed"]
    wanted = target(standing.rung, completed[-1].score if completed else None)
    practise = [p.id for p in weakest(sessions)]
    seed = default_seed(name, len(sessions)) if seed is None else seed
    latest = sessions[-1] if sessions else None

    out_skipped = list(skipped)
    pool: list[tuple[str, Scenario, int]] = []
    for path, sc in sorted(scenarios, key=lambda pair: str(pair[0])):
        if sc.difficulty is None:
            out_skipped.append(Skipped(path=str(path), reason="no difficulty: field"))
        else:
            pool.append((str(path), sc, sc.difficulty))
    out_skipped.sort(key=lambda s: s.path)
    repeat_only = latest is not None and bool(pool) and all(sc.id == latest.scenario_id for _, sc, _ in pool)

    candidates = []
    for path, sc, difficulty in pool:
        f = fit(difficulty, wanted)
        hits = [item for item in exercises(sc) if item in practise]
        left_out = ""
        if latest is not None and sc.id == latest.scenario_id and not repeat_only:
            left_out = f"the scenario of the latest session ({latest.drill_id})"
        weight = 0.0 if left_out else round(f * (1 + len(hits)), 4)
        candidates.append(Candidate(path=path, scenario_id=sc.id, title=sc.title, difficulty=difficulty, fit=f,
                                    exercises=hits, weight=weight, left_out=left_out))

    def made(chosen: Candidate | None, why: str) -> Draw:
        return Draw(trainee=sessions[-1].trainee if sessions else " ".join(name.split()), rung=standing.rung,
                    target=wanted, seed=seed, chosen=chosen, candidates=candidates, skipped=out_skipped,
                    practise=practise, why=why)

    if not candidates:
        return made(None, f"nothing to draw: no scenario has a difficulty: field ({len(out_skipped)} skipped)")
    chosen = _spin(candidates, random.Random(seed))
    return made(chosen, _why(chosen, candidates, standing.rung, wanted, seed, repeat_only))


def _spin(candidates: Sequence[Candidate], rng: random.Random) -> Candidate:
    """One candidate, with probability in proportion to its weight (one ``rng.random()``)."""
    total = sum(c.weight for c in candidates)
    point = rng.random() * total
    for c in candidates:
        if c.weight > 0 and point < c.weight:
            return c
        point -= c.weight
    return [c for c in candidates if c.weight > 0][-1]  # float rounding at the very end of the wheel


def _span(wanted: tuple[int, int]) -> str:
    return str(wanted[0]) if wanted[0] == wanted[1] else f"{wanted[0]}-{wanted[1]}"


def _why(chosen: Candidate, candidates: Sequence[Candidate], rung_name: str, wanted: tuple[int, int], seed: int,
         repeat_only: bool) -> str:
    total = sum(c.weight for c in candidates)
    where = "inside" if chosen.fit == FIT[0] else "outside"
    parts = [f"{chosen.scenario_id} (difficulty {chosen.difficulty}, {where} the target {_span(wanted)} for {rung_name})"]
    parts.append(f"exercises {', '.join(chosen.exercises)} of the items to practise" if chosen.exercises
                 else "exercises none of the items to practise")
    parts.append(f"weight {chosen.weight:g} of {total:g} over {len(candidates)} candidate"
                 f"{'' if len(candidates) == 1 else 's'}, seed {seed}")
    if repeat_only:
        parts.append("the same scenario as the latest session: it is the only one that can be drawn")
    elif any(c.left_out for c in candidates):
        parts.append(f"not {next(c.scenario_id for c in candidates if c.left_out)}: played last time")
    return "; ".join(parts)


def load_wheel(folder: Path) -> tuple[list[tuple[Path, Scenario]], list[Skipped]]:
    """The scenarios of ``folder`` (its ``*.yaml``/``*.yml``, not its subfolders), each loaded and
    validated; a file that is not a valid scenario is skipped with its first problem. Raises
    :class:`~gameday.errors.ConfigError` if the folder is not one."""
    from gameday.errors import ConfigError, ScenarioError
    from gameday.loader import load_scenario
    from gameday.yamlio.files import read_data
    from gameday.yamlio.kinds import KIND_NAMES, recognise, yaml_files

    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder")
    found = yaml_files(folder, recursive=False)
    loaded: list[tuple[Path, Scenario]] = []
    skipped = [Skipped(path=p.file, reason=p.message) for p in found.problems]
    for path in found.files:
        data, marks, problems = read_data(path, str(path))
        if marks is None:
            skipped.append(Skipped(path=str(path), reason=str(problems[0]) if problems else "cannot be read"))
            continue
        seen = recognise(str(path), data)
        if seen.kind != "scenario":
            skipped.append(Skipped(path=str(path), reason=f"not a scenario (a {KIND_NAMES[seen.kind]})" if seen.kind
                                   else f"not a scenario (looks like {seen.looks_like})"))
            continue
        try:
            loaded.append((path, load_scenario(path).scenario))
        except ScenarioError as exc:
            first = str(exc.problems[0]) if exc.problems else str(exc)
            more = len(exc.problems) - 1
            skipped.append(Skipped(path=str(path), reason=f"invalid: {first}" + (f" (and {more} more)" if more > 0 else "")))
    return loaded, skipped
