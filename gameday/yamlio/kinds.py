"""Which gameday file a parsed YAML document is, and which YAML files a folder holds.

``gameday validate`` validates each file as what it is. :func:`recognise` decides, on the
parsed data and the file name, first rule that matches:

1. named ``gameday.yaml``: the **project file**; a mapping with ``kind: Program`` (or a file named
   ``program.yaml`` holding a mapping): the **program file** (:mod:`gameday.program.programfile`); a
   mapping with ``kind: Findings`` (or a file named ``findings.yaml`` holding a mapping): the
   **findings file** (:mod:`gameday.program.findings_file`);
2. empty: a **scenario** (one being written; reported as empty);
3. a mapping whose ``apiVersion`` starts with ``gameday/``, or holding one of the
   scenario's own sections (:data:`SCENARIO_KEYS`): a **scenario**;
4. a mapping holding ``method`` or ``steady-state-hypothesis``: a **Chaos Toolkit experiment**;
5. a mapping holding ``people`` or ``actions``: a **responder file** (scripted responders);
6. a list whose items would match 3-5: that kind (reported: the top level must be a mapping);
7. anything else is not a gameday file: :attr:`Recognised.looks_like` says what it looks
   like (a Kubernetes manifest, a Docker Compose file, a mapping with keys ...).

:func:`yaml_files` lists a folder's ``*.yaml``/``*.yml`` files (hidden ones left out),
directly in it or, recursively, in its subfolders too; it also names the subfolders that
hold YAML but were not searched. Nothing here imports the models.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gameday.errors import Problem

__all__ = ["KIND_NAMES", "SCENARIO_KEYS", "Found", "Kind", "Recognised", "recognise", "yaml_files"]

Kind = Literal["scenario", "responders", "experiment", "project", "program", "findings"]

KIND_NAMES: Mapping[Kind, str] = {
    "scenario": "scenario",
    "responders": "responder file",
    "experiment": "Chaos Toolkit experiment",
    "project": "project file",
    "program": "program file",
    "findings": "findings file",
}
"""How each kind is named in ``gameday validate``'s output."""

PROJECT_FILE = "gameday.yaml"
PROGRAM_FILE = "program.yaml"
FINDINGS_FILE = "findings.yaml"
SCENARIO_KEYS = frozenset({"steady_state", "faults", "detection", "response", "runbooks", "recovery", "abort"})
"""Top-level keys only a scenario has."""
EXPERIMENT_KEYS = frozenset({"method", "steady-state-hypothesis"})
RESPONDER_KEYS = frozenset({"people", "actions"})
SUFFIXES = (".yaml", ".yml")

EXPECTED = ("a scenario has 'apiVersion: gameday/v1', a responder file 'people' and 'actions', "
            "a Chaos Toolkit experiment 'method'; the project file is named gameday.yaml")
"""What gameday files look like, for the message about a file that is none of them."""


@dataclass(frozen=True)
class Recognised:
    """The kind of a file, or None with what the file looks like instead."""

    kind: Kind | None
    looks_like: str = ""


def _mapping_kind(data: Mapping[Any, Any]) -> Kind | None:
    api = data.get("apiVersion")
    if (isinstance(api, str) and api.startswith("gameday/")) or SCENARIO_KEYS & data.keys():
        return "scenario"
    if EXPERIMENT_KEYS & data.keys():
        return "experiment"
    if RESPONDER_KEYS & data.keys():
        return "responders"
    return None


def recognise(filename: str, data: Any) -> Recognised:
    """What the parsed document ``data`` of the file ``filename`` is (rules in the module docstring)."""
    if Path(filename).name == PROJECT_FILE:
        return Recognised("project")
    if isinstance(data, Mapping) and (data.get("kind") == "Program" or Path(filename).name == PROGRAM_FILE):
        return Recognised("program")
    if isinstance(data, Mapping) and (data.get("kind") == "Findings" or Path(filename).name == FINDINGS_FILE):
        return Recognised("findings")
    if data is None:
        return Recognised("scenario")
    if isinstance(data, Mapping):
        kind = _mapping_kind(data)
        return Recognised(kind) if kind else Recognised(None, _looks_like(data))
    if isinstance(data, list):
        kinds = [k for item in data if isinstance(item, Mapping) and (k := _mapping_kind(item))]
        return Recognised(kinds[0]) if kinds else Recognised(None, "a list")
    return Recognised(None, f"a single value ({type(data).__name__})")


def _looks_like(data: Mapping[Any, Any]) -> str:
    """A guess at what a mapping that is no gameday file is."""
    keys = data.keys()
    kind = data.get("kind")
    if "apiVersion" in keys and isinstance(kind, str):
        return f"a Kubernetes manifest, kind {kind!r}"
    if "services" in keys:
        return "a Docker Compose file"
    if "jobs" in keys and ("on" in keys or True in keys):  # YAML 1.1 reads a bare `on` as true
        return "a GitHub Actions workflow"
    if "stages" in keys:
        return "a CI pipeline"
    if "route" in keys and "receivers" in keys:
        return "an Alertmanager configuration"
    if "scrape_configs" in keys:
        return "a Prometheus configuration"
    if "groups" in keys:
        return "Prometheus rules"
    if "openapi" in keys or "swagger" in keys:
        return "an OpenAPI document"
    if not keys:
        return "an empty mapping"
    shown = [repr(k) if len(repr(k)) <= 30 else repr(k)[:27] + "..." for k in list(keys)[:4]]
    more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
    return f"a mapping with keys {', '.join(shown)}{more}"


@dataclass
class Found:
    """A folder's YAML files, the subfolders holding YAML that were not searched, and problems listing it."""

    files: list[Path] = field(default_factory=list)
    unsearched: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _visible(name: str) -> bool:
    return not name.startswith(".")


def _is_yaml(folder: str, name: str) -> bool:
    return _visible(name) and name.endswith(SUFFIXES) and os.path.isfile(os.path.join(folder, name))


def yaml_files(folder: Path, recursive: bool) -> Found:
    """The ``*.yaml``/``*.yml`` files of ``folder`` (sorted; its subfolders' too when ``recursive``).

    Hidden files and folders (``.git``, ``.venv``, ``.gameday``) are left out; symbolic links
    to folders are not followed. Without ``recursive``, :attr:`Found.unsearched` names the
    subfolders that hold YAML at any depth.
    """
    found = Found()

    def failed(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        found.problems.append(Problem(str(where), 1, 1, "", f"cannot list this folder: {exc.strerror or exc}"))

    if not recursive:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            failed(exc)
            return found
        found.files = [folder / e.name for e in entries if _is_yaml(str(folder), e.name)]
        for entry in entries:
            if _visible(entry.name) and entry.is_dir(follow_symlinks=False) and _holds_yaml(Path(entry.path)):
                found.unsearched.append(folder / entry.name)
        return found
    for here, dirs, names in os.walk(folder, onerror=failed):
        dirs[:] = sorted(d for d in dirs if _visible(d))
        found.files += [Path(here) / n for n in sorted(names) if _is_yaml(here, n)]
    return found


def _holds_yaml(folder: Path) -> bool:
    for here, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if _visible(d)]
        if any(_is_yaml(here, n) for n in names):
            return True
    return False
