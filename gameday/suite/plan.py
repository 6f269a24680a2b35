"""What a CI suite runs: the scenarios of the paths given, each found runnable, skipped or invalid
before the first drill starts; and the suite's exit code.

* A folder means its ``*.yaml``/``*.yml`` files, sorted by name (not its subfolders: a
  ``responders/`` folder beside the scenarios holds no scenario); a file means itself. Paths keep
  the order given; a file met twice runs once.
* A folder's file that is not a scenario (a responder file, a Chaos Toolkit experiment, any other
  YAML) is left out with a note; a file named on the command line that is not a scenario is invalid.
* A scenario that does not load is **invalid**: every located problem is printed, the scenario is an
  ``error`` in the JUnit file, and the others still run (the suite's exit code is then at least 2).
  So is a scenario whose ``id`` another one of the suite already has: drills, reports and the
  program's history are named by it.
* A scenario of another mode is **skipped** with the reason (not a failure): a training scenario
  (``difficulty:`` or ``simulation:``) or a tabletop exercise (``injects:`` or ``objectives:``).

The exit code of the suite is the worst of its drills' (:func:`suite_exit_code`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gameday.errors import (
    EXIT_ABORTED,
    EXIT_EXPECTATIONS_NOT_MET,
    EXIT_INVALID_INPUT,
    EXIT_OK,
    ConfigError,
    Problem,
    ScenarioError,
)
from gameday.loader import LoadedScenario
from gameday.model.scenario import Scenario

EntryStatus = Literal["run", "skipped", "invalid"]

#: Worst first: an aborted drill or an infrastructure failure (3), then invalid input (2), then
#: expectations not met (1), then all passed (0). The suite exits with the worst code any drill had.
EXIT_ORDER: tuple[int, ...] = (EXIT_ABORTED, EXIT_INVALID_INPUT, EXIT_EXPECTATIONS_NOT_MET, EXIT_OK)


def suite_exit_code(codes: Iterable[int]) -> int:
    """The suite's exit code: the worst of ``codes`` in :data:`EXIT_ORDER` (0 when there are none).
    ``ValueError`` for a code that is not one of gameday's exit codes."""
    worst = len(EXIT_ORDER) - 1
    for code in codes:
        if code not in EXIT_ORDER:
            raise ValueError(f"not a gameday exit code: {code!r}")
        worst = min(worst, EXIT_ORDER.index(code))
    return EXIT_ORDER[worst]


def ci_skip_reason(sc: Scenario) -> str | None:
    """Why ``sc`` is not run in a CI suite (another mode's scenario), or None if it runs."""
    training = [key for key, present in (("difficulty", sc.difficulty is not None),
                                         ("simulation", sc.simulation is not None)) if present]
    if training:
        keys = " and ".join(f"{k}:" for k in training)
        return f"a training scenario (it has {keys}): run it with --mode training --trainee NAME"
    tabletop = [key for key, present in (("injects", bool(sc.injects)), ("objectives", bool(sc.objectives))) if present]
    if tabletop:
        keys = " and ".join(f"{k}:" for k in tabletop)
        return f"a tabletop exercise (it has {keys}): run it with --mode tabletop"
    return None


@dataclass(frozen=True)
class SuiteEntry:
    """One scenario file of a suite, and what the suite does with it."""

    file: Path  # as given, or the folder given joined with the file's name
    status: EntryStatus
    loaded: LoadedScenario | None = None  # status "run" (and "skipped": it loaded)
    reason: str = ""  # skipped: why; invalid: the first problem
    problems: tuple[Problem, ...] = ()  # invalid: every problem, located

    @property
    def scenario_id(self) -> str | None:
        return self.loaded.scenario.id if self.loaded is not None else None

    @property
    def suite_name(self) -> str:
        """The JUnit suite's name: ``gameday.<scenario id>`` as a drill's own report names it (the file's
        stem for a scenario that did not load)."""
        return f"gameday.{self.scenario_id or self.file.stem}"


@dataclass(frozen=True)
class SuitePlan:
    """Every scenario file of the suite, in the order they run, and the notes about what was left out."""

    entries: tuple[SuiteEntry, ...]
    notes: tuple[str, ...] = ()

    @property
    def runnable(self) -> list[SuiteEntry]:
        return [e for e in self.entries if e.status == "run"]

    def count(self, status: EntryStatus) -> int:
        return sum(1 for e in self.entries if e.status == status)


@dataclass
class _Files:
    """The files the paths name, each once, and what was noted while listing them."""

    files: list[tuple[Path, bool]] = field(default_factory=list)  # (file, named on the command line)
    notes: list[str] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)

    def add(self, file: Path, named: bool) -> None:
        key = file.resolve()
        if key not in self.seen:
            self.seen.add(key)
            self.files.append((file, named))


def _list(paths: Sequence[Path]) -> _Files:
    from gameday.yamlio.kinds import yaml_files

    out = _Files()
    for path in paths:
        if path.is_dir():
            found = yaml_files(path, recursive=False)
            if found.problems:
                raise ConfigError(str(found.problems[0]))
            for file in found.files:
                out.add(file, named=False)
            if found.unsearched:
                subs = ", ".join(f"{p.name}/" for p in found.unsearched)
                out.notes.append(f"{path}: subfolders not searched (a suite runs a folder's own scenarios): {subs}")
        elif path.is_file():
            out.add(path, named=True)
        else:
            raise ConfigError(f"{path}: no such scenario file or folder")
    return out


def plan_suite(paths: Sequence[Path]) -> SuitePlan:
    """Find and load every scenario of ``paths`` (see the module docstring); nothing is started.
    :class:`~gameday.errors.ConfigError` (exit 2) for a path that does not exist or a folder that
    cannot be listed; a bad scenario is an invalid entry, never an exception."""
    from gameday.loader import load_scenario
    from gameday.yamlio.files import read_data
    from gameday.yamlio.kinds import KIND_NAMES, recognise

    listed = _list(paths)
    entries: list[SuiteEntry] = []
    notes = list(listed.notes)
    ids: dict[str, Path] = {}
    for file, named in listed.files:
        name = str(file)
        data, marks, problems = read_data(file, name)
        seen = recognise(name, data) if marks is not None else None
        if seen is not None and seen.kind != "scenario":
            what = KIND_NAMES[seen.kind] if seen.kind is not None else f"not a gameday file (looks like {seen.looks_like})"
            if not named:
                notes.append(f"left out {name}: not a scenario ({what})")
                continue
            line, col = marks.value(()) if marks is not None else (1, 1)
            problems = [Problem(name, line, col, "", f"not a scenario ({what}): a suite runs scenarios")]
        if problems:
            entries.append(_invalid(file, problems))
            continue
        try:
            loaded = load_scenario(file)
        except ScenarioError as exc:
            entries.append(_invalid(file, exc.problems))
            continue
        sc = loaded.scenario
        if sc.id in ids:
            line, col = marks.value(("id",)) if marks is not None else (1, 1)
            message = (f"the scenario id {sc.id!r} is also {ids[sc.id]}'s: a suite names each drill, its reports and "
                       "its history by the scenario's id, so the ids must differ")
            entries.append(_invalid(file, [Problem(name, line, col, "id", message)]))
            continue
        ids[sc.id] = file
        skip = ci_skip_reason(sc)
        entries.append(SuiteEntry(file, "skipped", loaded, reason=skip) if skip else SuiteEntry(file, "run", loaded))
    return SuitePlan(tuple(entries), tuple(notes))


def _invalid(file: Path, problems: Sequence[Problem]) -> SuiteEntry:
    first = str(problems[0]) if problems else f"{file}: invalid"
    return SuiteEntry(file, "invalid", reason=first, problems=tuple(problems))
