"""The scenario loader: YAML file -> frozen :class:`~gameday.model.scenario.Scenario`.

Every problem is collected and raised at once as a
:class:`~gameday.errors.ScenarioError`, each located as ``FILE:LINE:COL: path: message``
(see :mod:`gameday.yamlio.marks` for the YAML side: size limit, UTF-8, duplicate keys,
alias bombs).

Beyond the model's own checks (types, unknown keys, ids, references, timing), the loader
checks the files a scenario references:

* ``experiment:`` of a fault or a runbook, and ``responders:``, are paths resolved
  **relative to the scenario file's folder first, then relative to the project root**
  (the nearest folder at or above the scenario holding ``gameday.yaml``, see
  :func:`gameday.project.find_root`). Absolute paths are used as they are.
* Referenced Chaos Toolkit experiments (YAML or JSON) are read here and validated with
  chaoslib's own validator, activity by activity, so each problem points at the offending
  activity; a fault's experiment must also have ``rollbacks`` unless the fault has a
  ``rollback:`` of its own in the scenario (whose ``experiment:`` is read and checked the same
  way). Inline ``activities`` and ``rollbacks`` of faults and runbooks are validated the same
  way. Activities are checked as they will run: in the folder of the file that holds them. Those checks live in
  :mod:`gameday.yamlio.experiments`: chaoslib is imported only when a scenario is loaded (never
  at import), and it imports the Python modules that python providers name.
* ``load.locustfile`` (``demo``, or a path resolved like the others) must be a Python file
  that compiles — it is never imported (locust monkey-patches the process) — and each of
  ``business.customer_facing`` must be a request name it uses (an AST scan of
  ``self.client.<method>(..., name=...)`` calls; skipped when a name is computed). That
  check lives in :mod:`gameday.adapters.locustfile_check`, next to the locust adapter.

The CLI's ``validate`` and ``schema`` commands are :func:`validate_paths` and
:func:`json_schema_text`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gameday.drill.responders import ResponderScript, check_script
from gameday.errors import Problem, ScenarioError
from gameday.model.policy import ProjectConfig
from gameday.model.scenario import Scenario
from gameday.project import Project, find_root
from gameday.yamlio.experiments import activity_problems, check_experiment
from gameday.yamlio.files import read_data, without_echoes
from gameday.yamlio.kinds import EXPECTED, KIND_NAMES, Kind, recognise, yaml_files
from gameday.yamlio.marks import Marks
from gameday.yamlio.modelerrors import validate_data

__all__ = ["LoadedScenario", "json_schema_text", "load_project", "load_scenario", "validate_paths"]

Loc = tuple[Any, ...]

SCHEMA_ID = "urn:gameday:schema:scenario:v1"
"""``$id`` of the scenario JSON Schema (shipped as ``schema/scenario.schema.json``)."""


@dataclass(frozen=True)
class LoadedScenario:
    """A valid scenario with every file it references resolved and parsed."""

    scenario: Scenario
    path: Path
    base_dir: Path
    project_root: Path
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    fault_experiments: dict[str, Path] = field(default_factory=dict)
    runbook_experiments: dict[str, Path] = field(default_factory=dict)
    responders_path: Path | None = None
    locustfile: Path | None = None
    fault_rollback_experiments: dict[str, Path] = field(default_factory=dict)
    """Per fault id, the experiment of its ``rollback: {experiment: ...}`` (its method is the rollback)."""


def _display(path: Path) -> str:
    """A path as short as it can be shown: relative to the working folder when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _own_problems(path: Path, model: type[BaseModel]) -> list[Problem]:
    """The problems of a referenced file by itself (reading, YAML, its model), when what it is
    checked against (its scenario) cannot be judged yet."""
    data, marks, problems = read_data(path, str(path))
    if marks is None:
        return problems
    _, model_problems = validate_data(data, marks, model, str(path))
    return problems + without_echoes(model_problems, problems)


def load_scenario(path: Path | str) -> LoadedScenario:
    """Load, validate and resolve a scenario file (see the module docstring for the rules).

    Raises :class:`ScenarioError` listing every problem found, in the scenario and in the
    experiments it references.
    """
    given = Path(path)
    name = str(given)
    data, marks, problems = read_data(given, name)
    if marks is None:
        raise ScenarioError(problems)
    scenario, model_problems = validate_data(data, marks, Scenario, name)
    problems += without_echoes(model_problems, problems)
    resolved = given.resolve()
    base_dir = resolved.parent
    root = find_root(base_dir)
    refs = _References(name, marks, base_dir, root)
    if isinstance(data, dict):
        refs.collect(data)
    problems += refs.problems
    if scenario is not None and refs.responders is not None:  # the scripted responders, checked against it
        problems += check_script(refs.responders, scenario)
    elif refs.responders is not None:  # the scenario has problems: the responder file's own come in this run too
        problems += _own_problems(refs.responders, ResponderScript)
    if scenario is not None:  # what chaostoolkit-kubernetes activities reach, against target.kubernetes
        from gameday.yamlio.kubecheck import kubernetes_problems

        problems += kubernetes_problems(scenario, refs)
    if problems or scenario is None:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return LoadedScenario(
        scenario=scenario,
        path=resolved,
        base_dir=base_dir,
        project_root=root,
        experiments={str(p): exp for p, exp in refs.experiments.items()},
        fault_experiments=refs.fault_experiments,
        fault_rollback_experiments=refs.fault_rollback_experiments,
        runbook_experiments=refs.runbook_experiments,
        responders_path=refs.responders,
        locustfile=refs.locustfile,
    )


def resolve_reference(ref: str, base_dir: Path, root: Path) -> Path | None:
    """The file ``ref`` names: relative to ``base_dir`` first, then to ``root``; None if neither exists."""
    candidate = Path(ref)
    if candidate.is_absolute():
        return candidate.resolve() if candidate.exists() else None
    for folder in (base_dir, root):
        full = folder / candidate
        if full.exists():
            return full.resolve()
    return None


@dataclass
class _References:
    """Checks the files a scenario references, working on the raw data (valid or not)."""

    file: str
    marks: Marks
    base_dir: Path
    root: Path
    problems: list[Problem] = field(default_factory=list)
    experiments: dict[Path, dict[str, Any]] = field(default_factory=dict)
    fault_experiments: dict[str, Path] = field(default_factory=dict)
    fault_rollback_experiments: dict[str, Path] = field(default_factory=dict)
    runbook_experiments: dict[str, Path] = field(default_factory=dict)
    responders: Path | None = None
    locustfile: Path | None = None
    checked: dict[Path, int] = field(default_factory=dict)

    def located(self, loc: Loc, message: str) -> Problem:
        return self.marks.problem(self.file, loc, message)

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append(self.located(loc, message))

    def collect(self, data: dict[Any, Any]) -> None:
        faults = data.get("faults")
        for i, fault in enumerate(faults if isinstance(faults, list) else []):
            if not isinstance(fault, dict):
                continue
            # a fault's experiment needs its own rollbacks, unless the scenario gives the fault one
            path = self.experiment(fault.get("experiment"), ("faults", i, "experiment"), fault="rollback" not in fault)
            if path is not None and isinstance(fault.get("id"), str):
                self.fault_experiments[fault["id"]] = path
            for key in ("activities", "rollbacks"):
                self.inline(fault.get(key), ("faults", i, key))
            rollback = fault.get("rollback")
            if isinstance(rollback, dict):
                path = self.experiment(rollback.get("experiment"), ("faults", i, "rollback", "experiment"), fault=False)
                if path is not None and isinstance(fault.get("id"), str):
                    self.fault_rollback_experiments[fault["id"]] = path
                self.inline(rollback.get("activities"), ("faults", i, "rollback", "activities"))
        runbooks = data.get("runbooks")
        for name, book in (runbooks.items() if isinstance(runbooks, dict) else ()):
            if not isinstance(book, dict):
                continue
            path = self.experiment(book.get("experiment"), ("runbooks", name, "experiment"), fault=False)
            if path is not None and isinstance(name, str):
                self.runbook_experiments[name] = path
            self.inline(book.get("activities"), ("runbooks", name, "activities"))
        responders = data.get("responders")
        if isinstance(responders, str):
            self.responders = self.file_ref(responders, ("responders",), "responder file")
        self.load(data.get("load"), data.get("business"))

    def load(self, load: Any, business: Any) -> None:
        """``load.locustfile`` resolved, then checked (:mod:`gameday.adapters.locustfile_check`)."""
        ref = load.get("locustfile") if isinstance(load, dict) else None
        if not isinstance(ref, str):
            return
        from gameday.adapters.locust import DEMO_LOCUSTFILE
        from gameday.adapters.locustfile_check import check_locustfile
        from gameday.model.load import DEMO_LOCUSTFILE as DEMO

        path = DEMO_LOCUSTFILE if ref == DEMO else self.file_ref(ref, ("load", "locustfile"), "locustfile")
        if path is None or not path.is_file():
            return
        compiles, problems = check_locustfile(path, _display(path), ref, business, self.located)
        self.problems += problems
        if compiles:
            self.locustfile = path

    def file_ref(self, ref: str, loc: Loc, what: str) -> Path | None:
        try:
            found = resolve_reference(ref, self.base_dir, self.root)
        except (OSError, ValueError) as exc:
            self.problem(loc, f"{what} {ref!r} is not a usable path ({exc})")
            return None
        if found is None:
            where = _display(self.base_dir)
            if self.root != self.base_dir:
                where += f", then in the project root {_display(self.root)}"
            self.problem(loc, f"{what} {ref!r} not found (looked in {where})")
        elif not found.is_file():
            self.problem(loc, f"{what} {ref!r} is not a file ({_display(found)})")
            return None
        return found

    def experiment(self, ref: Any, loc: Loc, fault: bool) -> Path | None:
        if not isinstance(ref, str):
            return None
        path = self.file_ref(ref, loc, "experiment")
        if path is None:
            return None
        name = _display(path)
        if path not in self.checked:  # the file's own problems, once, located in it
            data, marks, problems = read_data(path, name)
            if marks is not None:  # its activities run in its folder: checked as seen from there
                problems += check_experiment(data, marks, name, folder=path.parent)
            self.problems += problems
            self.checked[path] = len(problems)
            if not problems:
                self.experiments[path] = data
        if count := self.checked[path]:
            self.problem(loc, f"experiment {ref!r} is invalid: {count} problem{'s' if count > 1 else ''} reported in {name}")
        elif fault and not (self.experiments[path] or {}).get("rollbacks"):  # the scenario's problem, not the file's
            self.problem(loc, f"experiment {ref!r} has no 'rollbacks', and every fault is paired with its rollback: "
                              "give the fault its own in the scenario, 'rollback:' with 'activities', 'experiment', "
                              "or 'none' and the reason nothing is to be undone")
        return path

    def inline(self, activities: Any, loc: Loc) -> None:
        if not isinstance(activities, list):
            return
        for j, activity in enumerate(activities):  # inline activities run in the scenario's folder
            for sub, message in activity_problems(activity, names=None, folder=self.base_dir):
                self.problem((*loc, j, *sub), message)


# --- the CLI's commands -------------------------------------------------------------------------


@dataclass
class _Checked:
    """One file ``validate`` looked at: its kind (None: unreadable or not a gameday file) and problems."""

    name: str
    kind: Kind | None
    problems: list[Problem]
    looks_like: str = ""


def _check_file(path: Path, explicit: bool) -> _Checked:
    """Recognise a file and validate it as what it is; an unrecognised one is a problem only when named."""
    name = str(path)
    data, marks, problems = read_data(path, name)
    if marks is None:
        return _Checked(name, None, problems)
    seen = recognise(name, data)
    if seen.kind is None:
        if not explicit:
            return _Checked(name, None, [], seen.looks_like)
        line, col = marks.value(())
        message = f"not a gameday file (looks like {seen.looks_like}): {EXPECTED}"
        return _Checked(name, None, [*problems, Problem(name, line, col, "", message)])
    try:
        if seen.kind == "scenario":
            try:
                load_scenario(path)
            except ScenarioError as exc:
                return _Checked(name, "scenario", exc.problems)
            return _Checked(name, "scenario", [])
        if seen.kind == "experiment":
            return _Checked(name, "experiment", problems + check_experiment(data, marks, name))
        if seen.kind == "program":
            from gameday.program.programfile import program_file_problems

            return _Checked(name, "program", program_file_problems(path))
        if seen.kind == "findings":
            from gameday.program.findings_file import findings_file_problems

            return _Checked(name, "findings", findings_file_problems(path))
        model: type[BaseModel] = ResponderScript if seen.kind == "responders" else ProjectConfig
        _, more = validate_data(data, marks, model, name)
        return _Checked(name, seen.kind, problems + without_echoes(more, problems))
    except Exception as exc:  # noqa: BLE001 - the CLI shows one line, never a traceback
        message = f"internal error while validating: {type(exc).__name__}: {exc}"
        return _Checked(name, seen.kind, [Problem(name, 1, 1, "", message)])


@dataclass
class _Given:
    """One path given to ``validate``: its files, and for a folder its problems and unsearched subfolders."""

    path: Path
    folder: bool
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unsearched: list[Path] = field(default_factory=list)


def _expand(given: Path, recursive: bool) -> _Given:
    if not given.is_dir():
        return _Given(given, folder=False, files=[given])
    found = yaml_files(given, recursive)
    out = _Given(given, folder=True, files=found.files, problems=found.problems, unsearched=found.unsearched)
    if not found.files and not found.problems:
        where = "this folder or its subfolders" if recursive else "this folder"
        out.problems.append(Problem(str(given), 1, 1, "", f"no gameday files (*.yaml, *.yml) in {where}"))
    return out


def _key(file: str) -> Path | str:
    try:
        return Path(file).resolve()
    except (OSError, RuntimeError, ValueError):
        return file


def validate_paths(paths: list[Path], echo: Callable[[str], Any], quiet: bool = False,
                   out: Callable[[str], Any] = print, recursive: bool = False) -> bool:
    """``gameday validate``: check each file as what it is (:mod:`gameday.yamlio.kinds` recognises it).

    A folder means its ``*.yaml``/``*.yml`` files, and with ``recursive`` its subfolders' too
    (without it, a note names the subfolders holding YAML). Each file is validated as a
    scenario (with the experiments and responder file it references), a responder file, a
    Chaos Toolkit experiment or the project file; a folder's file that is none of them is
    skipped with a note, a file named on the command line that is none of them is a problem.

    Every problem goes to ``echo``, one line each (``FILE:LINE:COL: path: message``), each
    file's sorted by line, with the problems other files' checks found in it (a responder
    file checked against its scenario), each once. Each valid file goes to ``out`` as
    ``PATH: ok (KIND)``, each skipped file and unsearched subfolders as a note, unless
    ``quiet``. Returns True when no problem was found; never raises for bad input.
    """
    givens = [_expand(Path(p), recursive) for p in paths]
    checked: dict[Path | str, _Checked] = {}
    for given in givens:
        for file in given.files:
            if _key(str(file)) not in checked:
                checked[_key(str(file))] = _check_file(file, explicit=not given.folder)
    shown = {key: c.name for key, c in checked.items()}
    names = set(shown.values())

    def normal(p: Problem) -> Problem:
        key = _key(p.file)
        name = shown.get(key) or (_display(key) if isinstance(key, Path) else p.file)
        return p if name == p.file else Problem(name, p.line, p.column, p.path, p.message)

    found = {key: [normal(p) for p in c.problems] for key, c in checked.items()}
    in_file: dict[str, list[Problem]] = {}
    for problems in found.values():
        for p in problems:
            in_file.setdefault(p.file, []).append(p)

    def order(p: Problem) -> tuple[int, int, str, str]:
        return (p.line, p.column, p.path, p.message)

    ok, printed, done = True, set[Problem](), set[Path | str]()

    def report(problems: list[Problem]) -> None:
        nonlocal ok
        for p in problems:
            if p not in printed:
                printed.add(p)
                echo(str(p))
                ok = False

    for given in givens:
        report(given.problems)
        keys = [k for k in (_key(str(f)) for f in given.files) if k not in done]
        done.update(keys)
        for key in keys:
            c = checked[key]
            if c.looks_like and not quiet:
                out(f"skipped {c.name}: not a gameday file (looks like {c.looks_like})")
            own = sorted(in_file.get(c.name, []), key=order)
            elsewhere = sorted((p for p in found[key] if p.file not in names), key=lambda p: (p.file, *order(p)))
            if own or elsewhere:
                report(own + elsewhere)
            elif c.kind is not None and not quiet:
                out(f"{c.name}: ok ({KIND_NAMES[c.kind]})")
        if given.folder and given.files and all(checked[_key(str(f))].looks_like for f in given.files):
            count = f"{len(given.files)} YAML file{'s' if len(given.files) > 1 else ''}"
            report([Problem(str(given.path), 1, 1, "", f"no gameday files in this folder (skipped {count}: not gameday files)")])
        if given.unsearched and not quiet:
            subs = [f"{p.relative_to(given.path)}/" for p in given.unsearched]
            listed = ", ".join(subs[:5]) + (f" and {len(subs) - 5} more" if len(subs) > 5 else "")
            out(f"{given.path}: subfolders not searched (add --recursive): {listed}")
    return ok


def json_schema_text() -> str:
    """The JSON Schema (draft 2020-12) of the scenario format, by alias, indented by 2."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema.pop("title", None)
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "gameday scenario (apiVersion gameday/v1)",
    }
    return json.dumps({**head, **schema}, indent=2, ensure_ascii=False)


def load_project(start: Path) -> Project:
    """The project at or above ``start``: ``gameday.yaml`` if there is one (errors located like scenario errors).
    (:func:`gameday.project.load_project`, kept here for the loader's callers.)"""
    from gameday.project import load_project as load

    return load(start)
