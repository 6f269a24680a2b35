"""The program's history: who held which role, which scenario ran when and how, who is a trainee.

Read from the drills' outputs under the project root (``reports/`` and ``scorecards/``), never
from a running drill; nothing unreadable stops the plan: it is left out with a one-line warning.

* **Roles**: the ``RoleAssigned`` events of the journals of each folder, found and read by
  :func:`gameday.program.training.find_training_journals` (``*/journal.jsonl`` and ``*.jsonl``),
  of gameday and tabletop drills (people held those roles; a ci drill's responders are scripted,
  a training drill's simulated), each dated by its drill's start.
* **Runs**: the scorecards (``scorecards/*.json`` and ``reports/*/scorecard.json``, read with the
  :class:`~gameday.model.scorecard.Scorecard` model) of gameday and ci drills: scenario, verdict,
  start. One per drill id.
* **Trainees**: a roster member marked ``trainee: true``, or with training sessions in those
  journals, is placed on the training ladder (:func:`gameday.program.training.rung`); below the IC
  rung they are not given incident-commander.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from gameday.errors import GamedayError
from gameday.model.names import person_key
from gameday.model.program_file import Member
from gameday.model.terms import IC
from gameday.program.choice import Run
from gameday.program.rotation import Turn

__all__ = ["FOLDERS", "History", "read_history"]

FOLDERS = ("reports", "scorecards")
#: Drill modes whose roles were held by people (turns), and whose scorecards are runs of a scenario.
TURN_MODES = frozenset({"gameday", "tabletop"})
RUN_MODES = frozenset({"gameday", "ci"})


@dataclass
class History:
    """What the past drills say, for the plan."""

    turns: list[Turn] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    ic_blocked: dict[str, str] = field(default_factory=dict)
    """person key -> why they are not given incident-commander yet (a trainee below the IC rung)"""
    warnings: list[str] = field(default_factory=list)


def _day(wall: str) -> date | None:
    try:
        return datetime.fromisoformat(wall.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _started_day(path: Path) -> date | None:
    """The day a journal's drill started (its first event's wall time), reading that line only."""
    from gameday.journal import parse_lines
    from gameday.limits import MAX_LINE

    try:
        with path.open("rb") as fh:
            line = fh.readline(MAX_LINE + 1)
        return _day(parse_lines(str(path), [line if line.endswith(b"\n") else line + b"\n"]).started.wall)
    except (OSError, GamedayError):
        return None


def read_history(root: Path, roster: Sequence[Member]) -> History:
    """The history under ``root`` (see the module docstring); folders that do not exist are no history."""
    from gameday.program.training import find_training_journals, roles_of, rung, sessions_of

    history = History()
    journals = []
    for name in FOLDERS:
        folder = root / name
        if not folder.is_dir():
            continue
        try:
            scan = find_training_journals(folder)
        except GamedayError as exc:
            history.warnings.append(str(exc))
            continue
        history.warnings += [f"skipped journal {w}" for w in scan.warnings]
        journals += scan.journals
        days: dict[str, date | None] = {}
        for held in scan.roles:
            if held.mode not in TURN_MODES:
                continue
            if held.journal not in days:
                days[held.journal] = _started_day(Path(held.journal))
            day = days[held.journal]
            if day is not None:
                history.turns.append(Turn(held.person, held.role, day, source=f"drill {held.drill_id}"))
        roles_by_person = scan.roles
        for member in roster:
            sessions = sessions_of(member.name, scan.journals, history.warnings)
            if not (member.trainee or sessions):
                continue
            standing = rung(sessions, roles_of(member.name, roles_by_person))
            if standing.rung != "IC":
                history.ic_blocked[person_key(member.name)] = (
                    f"trainee on the {standing.rung} rung of the training ladder (below IC): not given {IC} in a "
                    f"live game day yet")
    history.runs = _runs(root, history.warnings)
    return history


def _runs(root: Path, warnings: list[str]) -> list[Run]:
    from pydantic import ValidationError

    from gameday.model.scorecard import Scorecard

    files: list[Path] = []
    for pattern, folder in (("*.json", root / "scorecards"), ("*/scorecard.json", root / "reports")):
        if folder.is_dir():
            try:
                files += sorted(p for p in folder.glob(pattern) if p.is_file())
            except OSError as exc:
                warnings.append(f"{folder}: cannot list this folder: {exc.strerror or exc}")
    runs: dict[str, Run] = {}
    for path in files:
        try:
            card = Scorecard.model_validate_json(path.read_bytes())
        except (OSError, ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            warnings.append(f"skipped scorecard {path}: not a readable scorecard ({first})")
            continue
        day = _day(card.started_at)
        if card.mode not in RUN_MODES or day is None:
            continue
        runs.setdefault(card.drill_id, Run(card.scenario_id, day, card.verdict, card.drill_id))
    return sorted(runs.values(), key=lambda r: (r.day, r.drill_id))

