"""Loading the program file (``program.yaml``), every problem located ``FILE:LINE:COL: path: message``.

The model's own checks live in :mod:`gameday.model.program_file`; here, what needs other files:
each scenario of the pool is resolved relative to the program file's folder (then the project
root, as a scenario's references are), must exist and load (a scenario with problems is one
problem here, pointing at ``gameday validate`` for its own), and every role its game day staffs
(the entry's ``roles:``, else the program's ``roles:``, else the scenario's own) must be one
someone on the roster may hold.

:func:`find_program` says where ``gameday program`` looks: ``--program FILE``, else
``program.yaml`` at the project root (the folder of ``gameday.yaml``, see
:func:`gameday.project.find_root`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.errors import ConfigError, Problem, ScenarioError
from gameday.model.program_file import ProgramFile

if TYPE_CHECKING:
    from gameday.model.scenario import Scenario

__all__ = ["PROGRAM_FILE", "LoadedProgram", "PoolScenario", "find_program", "load_program", "program_file_problems"]

PROGRAM_FILE = "program.yaml"
README_HINT = "see the README, 'The game-day program: schedule and rotation', for an example"


@dataclass(frozen=True)
class PoolScenario:
    """A scenario of the pool, loaded: its path as written, and the roles its game day staffs."""

    path: str
    scenario: Scenario
    roles: tuple[str, ...]


@dataclass(frozen=True)
class LoadedProgram:
    """A valid program file and its pool, every scenario loaded."""

    program: ProgramFile
    path: Path
    pool: tuple[PoolScenario, ...]


def find_program(given: Path | None, start: Path) -> Path:
    """The program file: ``given``, else ``program.yaml`` at the project root above ``start``.
    :class:`ConfigError` (exit 2, one line) naming where it looked when there is none."""
    from gameday.project import find_root

    path = given if given is not None else find_root(start.resolve()) / PROGRAM_FILE
    if not path.is_file():
        if given is not None:
            raise ConfigError(f"--program: {path} is not a file; {README_HINT}")
        raise ConfigError(f"no program file: looked for {path} ({PROGRAM_FILE} at the project root, the folder of "
                          f"gameday.yaml; or give --program FILE); {README_HINT}")
    return path


def program_file_problems(path: Path) -> list[Problem]:
    """Every problem of the program file at ``path`` (empty: valid), for ``gameday validate``."""
    try:
        load_program(path)
    except ScenarioError as exc:
        return exc.problems
    return []


def load_program(path: Path | str) -> LoadedProgram:
    """Load and check the program file; :class:`ScenarioError` listing every problem at once."""
    from gameday.yamlio.files import read_data, without_echoes
    from gameday.yamlio.modelerrors import validate_data

    path = Path(path)
    name = str(path)
    data, marks, problems = read_data(path, name)
    if marks is None:
        raise ScenarioError(problems)
    program, more = validate_data(data, marks, ProgramFile, name)
    problems += without_echoes(more, problems)
    pool: list[PoolScenario] = []
    entries = data.get("scenarios") if isinstance(data, dict) else None
    if isinstance(entries, list):
        pool, pool_problems = _pool(entries, program, path)
        problems += [marks.problem(name, loc, message) for loc, message in pool_problems]
    if problems or program is None:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return LoadedProgram(program=program, path=path, pool=tuple(pool))


def _pool(entries: list[Any], program: ProgramFile | None, path: Path) -> tuple[list[PoolScenario], list[tuple[Any, str]]]:
    """The pool's scenarios loaded, and the problems (``(loc, message)``) of the entries."""
    from gameday.loader import load_scenario, resolve_reference
    from gameday.project import find_root

    base = path.resolve().parent
    root = find_root(base)
    holdable = {role for person in program.roster.people for role in person.roles} if program is not None else None
    pool: list[PoolScenario] = []
    problems: list[tuple[Any, str]] = []
    seen: dict[Path, int] = {}
    for i, entry in enumerate(entries):
        ref = entry if isinstance(entry, str) else entry.get("path") if isinstance(entry, dict) else None
        loc: tuple[Any, ...] = ("scenarios", i) if isinstance(entry, str) else ("scenarios", i, "path")
        if not isinstance(ref, str) or not ref:
            continue  # the model reports it
        try:
            found = resolve_reference(ref, base, root)
        except (OSError, ValueError) as exc:
            problems.append((loc, f"scenario {ref!r} is not a usable path ({exc})"))
            continue
        if found is None or not found.is_file():
            where = str(base) + (f", then in the project root {root}" if root != base else "")
            problems.append((loc, f"scenario {ref!r} not found (looked in {where})"))
            continue
        if found in seen:
            problems.append((loc, f"scenario {ref!r} is in the pool twice (also scenarios[{seen[found]}])"))
            continue
        seen[found] = i
        try:
            loaded = load_scenario(found)
        except ScenarioError as exc:
            count = len(exc.problems)
            first = f": {exc.problems[0]}" if exc.problems else ""
            problems.append((loc, (f"scenario {ref!r} is invalid ({count} problem{'s' if count != 1 else ''}; "
                                  f"gameday validate {ref} lists them){first}")))
            continue
        if program is None:
            continue
        given = program.scenarios[i].roles if i < len(program.scenarios) else None
        roles, where_from, roles_loc = _roles(given, program, loaded.scenario, i, loc)
        for role in roles:
            if holdable is not None and role not in holdable:
                problems.append((roles_loc, f"role {role!r} ({where_from}) is one no one on the roster may hold"))
        pool.append(PoolScenario(path=ref, scenario=loaded.scenario, roles=tuple(dict.fromkeys(roles))))
    return pool, problems


def _roles(given: list[str] | None, program: ProgramFile, scenario: Scenario, i: int,
           loc: tuple[Any, ...]) -> tuple[list[str], str, tuple[Any, ...]]:
    if given is not None:
        return list(given), "this entry's roles:", ("scenarios", i, "roles")
    if program.roles is not None:
        return list(program.roles), "the program's roles:", ("roles",)
    return list(scenario.roles), f"the roles: of scenario {scenario.id}", loc


SCHEMA_ID = "urn:gameday:schema:program:v1"


def json_schema_text() -> str:
    """The JSON Schema (draft 2020-12) of the program file, by alias, indented by 2."""
    import json

    schema = ProgramFile.model_json_schema(by_alias=True, mode="validation")
    schema.pop("title", None)
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "gameday program file (apiVersion gameday/v1, kind Program)"}
    return json.dumps({**head, **schema}, indent=2, ensure_ascii=False)
